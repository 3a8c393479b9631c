/* One job live: status, progress, output and (for pulls) one bar per layer,
 * from /ws/jobs/<id>/?after=N. The consumer sends what is stored after chunk
 * N, then follows; it closes after "end". The page starts from chunk 0, so a
 * finished job shows the same as one watched live; a reconnect resumes. */
(function () {
  "use strict";

  var DONE = { "Pull complete": 1, "Already exists": 1 };
  var DOWNLOADED = { "Verifying Checksum": 1, "Download complete": 1 };
  var MAX_RECONNECTS = 10;

  /* How far along a layer is, as the server counts it for the whole pull. */
  function fraction(event) {
    if (DONE[event.status]) { return 1; }
    if (DOWNLOADED[event.status]) { return 0.5; }
    var share = event.current && event.total ? event.current / event.total : 0;
    if (event.status === "Downloading") { return 0.5 * share; }
    if (event.status === "Extracting") { return 0.5 + 0.5 * share; }
    return 0;
  }

  function layerRow(table, id) {
    var row = table.querySelector("tr[data-layer='" + id + "']");
    if (row) { return row; }
    row = document.createElement("tr");
    row.dataset.layer = id;
    var name = document.createElement("td");
    name.className = "mono small";
    name.textContent = id;
    var state = document.createElement("td");
    state.className = "small";
    state.dataset.layerState = "";
    var bar = document.createElement("td");
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    bar.appendChild(progress);
    row.append(name, state, bar);
    table.querySelector("tbody").appendChild(row);
    return row;
  }

  function start() {
    var box = document.getElementById("job");
    if (!box) { return; }
    var output = document.getElementById("job-output");
    var progress = box.querySelector("[data-job-progress]");
    var percent = box.querySelector("[data-job-percent]");
    var error = box.querySelector("[data-job-error]");
    var layers = document.getElementById("layers");
    var empty = box.querySelector("[data-layers-empty]");
    var statuses = document.querySelectorAll("[data-job-status]");
    var cancel = document.querySelector("[data-job-cancel]");
    var after = 0;
    var ended = false;
    var attempts = 0;

    function showStatus(job) {
      statuses.forEach(function (el) {
        el.textContent = window.DockPilot ? window.DockPilot.t(job.status) : job.status;
        el.className = "pill pill-job-" + job.status;
      });
      var value = job.progress === null ? 0 : job.progress;
      progress.value = value;
      percent.textContent = value + " %";
      if (job.error) { error.textContent = job.error; error.hidden = false; }
    }

    function showOutput(chunk) {
      after = chunk.seq;
      if (chunk.text) {
        var atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 20;
        output.appendChild(document.createTextNode((output.textContent ? "\n" : "") + chunk.text));
        if (atBottom) { output.scrollTop = output.scrollHeight; }
      }
      if (!layers) { return; }
      (chunk.events || []).forEach(function (event) {
        if (!event.layer) { return; }
        var row = layerRow(layers, event.layer);
        row.querySelector("[data-layer-state]").textContent = event.status;
        row.querySelector("progress").value = Math.round(100 * fraction(event));
        if (empty) { empty.hidden = true; }
      });
    }

    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + location.host + box.dataset.jobWs + "?after=" + after);
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        attempts = 0;
        if (message.type === "output") { showOutput(message); }
        if (message.type === "status" || message.type === "end") { showStatus(message); }
        if (message.type === "end") {
          ended = true;
          box.dataset.ended = message.status;
          if (cancel) { cancel.hidden = true; }
        }
      });
      socket.addEventListener("close", function (event) {
        if (ended || event.code >= 4000 || attempts >= MAX_RECONNECTS) { return; }
        attempts += 1;
        setTimeout(open, Math.min(30000, 500 * Math.pow(2, attempts)));
      });
    }
    open();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
