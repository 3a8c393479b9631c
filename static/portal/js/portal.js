/* DockPilot pages: small behaviours, no inline scripts (the CSP forbids them).
 *
 * A page opts into live data by naming a WebSocket path in a data attribute
 * (data-events-ws, data-logs-ws); this file connects when the attribute is
 * there, so pages work the same, only less live, without it. */
(function () {
  "use strict";

  var MAX_RECONNECTS = 10;
  var STRINGS = null;

  /* A text in the page's language (apps/portal/strings.py), by its English
   * wording; the English itself when the page brought no translation. */
  function t(text) {
    if (STRINGS === null) {
      var block = document.getElementById("dockpilot-strings");
      try { STRINGS = block ? JSON.parse(block.textContent) : {}; } catch (error) { STRINGS = {}; }
    }
    return STRINGS[text] || text;
  }

  /* Open a stream of the portal's WebSocket API and acknowledge every message
   * (the server stops sending past its window otherwise). Reconnects a bounded
   * number of times, waiting longer each time. */
  function subscribe(path, onMessage) {
    var attempts = 0;
    var closed = false;
    var socket = null;
    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        attempts = 0;
        if (typeof message.seq === "number") {
          socket.send(JSON.stringify({ type: "ack", seq: message.seq }));
        }
        onMessage(message);
      });
      socket.addEventListener("close", function (event) {
        // 4xxx: the server refused (not allowed, not found): retrying cannot help.
        if (closed || event.code >= 4000 || attempts >= MAX_RECONNECTS) { return; }
        attempts += 1;
        setTimeout(open, Math.min(30000, 500 * Math.pow(2, attempts)));
      });
    }
    open();
    return { close: function () { closed = true; if (socket) { socket.close(); } } };
  }

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  /* Destructive buttons name what they remove and ask first. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  /* "/" focuses the page's search box. */
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key !== "/" || tag === "input" || tag === "textarea" || tag === "select") { return; }
    var search = document.querySelector("[data-search]");
    if (search) { event.preventDefault(); search.focus(); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
    if (event.target.matches("[data-select-all]")) {
      var boxes = document.querySelectorAll("#containers input[name=ids]");
      boxes.forEach(function (box) { box.checked = event.target.checked; });
    }
  });

  /* Container list: refresh on engine events, and every 20 s as a fallback,
   * but never while the user has rows selected for a bulk action. */
  function refreshContainers() {
    var table = document.getElementById("containers");
    if (!table || !window.htmx) { return; }
    if (table.querySelector("input[name=ids]:checked")) { return; }
    window.htmx.trigger(table, "dockpilot:refresh");
  }

  function watchEvents() {
    var table = document.getElementById("containers");
    if (!table || table.dataset.watching) { return; }
    table.dataset.watching = "1";
    var path = table.getAttribute("data-events-ws");
    var later = debounce(refreshContainers, 300);
    if (path) {
      subscribe(path, function (message) {
        if (message.type === "event" && message.kind === "container") { later(); }
      });
    }
    setInterval(refreshContainers, 20000);
  }

  /* Logs: follow the stream, pause, search with highlighting. */
  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function logLine(line) {
    var span = document.createElement("span");
    span.className = "line line-" + (line.stream || "stdout");
    if (line.timestamp) {
      var stamp = document.createElement("span");
      stamp.className = "ts";
      stamp.textContent = line.timestamp;
      span.appendChild(stamp);
      span.appendChild(document.createTextNode(" "));
    }
    span.appendChild(document.createTextNode(line.text));
    return span;
  }

  function highlight(pre, query) {
    var lines = pre.querySelectorAll(".line");
    pre.classList.toggle("filtering", query.length > 0);
    lines.forEach(function (span) {
      var textNode = span.lastChild;
      var text = span.dataset.text || (textNode ? textNode.textContent : "");
      span.dataset.text = text;
      var at = query ? text.toLowerCase().indexOf(query.toLowerCase()) : -1;
      span.classList.toggle("match", at >= 0);
      var stamp = span.querySelector(".ts");
      var prefix = stamp ? stamp.outerHTML + " " : "";
      if (at < 0) {
        span.innerHTML = prefix + escapeHtml(text);
        return;
      }
      span.innerHTML = prefix + escapeHtml(text.slice(0, at)) + "<mark>" +
        escapeHtml(text.slice(at, at + query.length)) + "</mark>" +
        escapeHtml(text.slice(at + query.length));
    });
  }

  function followLogs() {
    var pre = document.getElementById("log-lines");
    if (!pre) { return; }
    var search = document.querySelector("[data-log-search]");
    var pause = document.querySelector("[data-log-pause]");
    var status = document.querySelector("[data-log-status]");
    var paused = false;
    var held = [];
    if (search) {
      search.addEventListener("input", debounce(function () { highlight(pre, search.value); }, 150));
    }
    var path = pre.getAttribute("data-logs-ws");
    if (!path) { return; }
    function append(lines) {
      var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
      lines.forEach(function (line) { pre.appendChild(logLine(line)); });
      if (search && search.value) { highlight(pre, search.value); }
      if (atBottom) { pre.scrollTop = pre.scrollHeight; }
    }
    pause.hidden = false;
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.textContent = paused ? t("Resume") : t("Pause");
      if (!paused) { append(held); held = []; }
    });
    if (status) { status.textContent += " " + t("Following live."); }
    subscribe(path, function (message) {
      if (message.type !== "log") { return; }
      if (paused) { held = held.concat(message.lines); return; }
      append(message.lines);
    });
  }

  function start() {
    watchEvents();
    followLogs();
  }

  document.addEventListener("DOMContentLoaded", start);
  // The table is replaced on each refresh; the replacement keeps its data.
  document.addEventListener("htmx:afterSettle", function () {
    var table = document.getElementById("containers");
    if (table) { table.dataset.watching = "1"; }
  });
  window.DockPilot = { subscribe: subscribe, t: t };
})();
