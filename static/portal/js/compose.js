/* Compose pages: line numbers beside the editors (a compose error marks its
 * line), the confirmation of "down" naming what goes, and the services
 * table read again when the operation followed on the page ends. */
(function () {
  "use strict";

  function t(text) { return window.DockPilot ? window.DockPilot.t(text) : text; }

  function numberLines(editor) {
    var gutter = editor.querySelector(".gutter");
    var text = editor.querySelector("textarea");
    var marked = parseInt(editor.dataset.errorLine || "0", 10);
    var shown = -1;

    function draw() {
      var count = text.value.split("\n").length;
      if (count === shown) { return; }
      shown = count;
      gutter.textContent = "";
      for (var line = 1; line <= count; line += 1) {
        var number = document.createElement("span");
        number.dataset.line = String(line);
        number.textContent = String(line);
        if (line === marked) { number.className = "error-line"; }
        gutter.appendChild(number);
        gutter.appendChild(document.createTextNode("\n"));
      }
    }

    text.addEventListener("input", draw);
    text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
    draw();
    if (marked > 0) {
      // Bring the line in error into view, the caret at its start.
      var height = text.scrollHeight / Math.max(shown, 1);
      text.scrollTop = Math.max(0, (marked - 3) * height);
      gutter.scrollTop = text.scrollTop;
      var offset = text.value.split("\n").slice(0, marked - 1).join("\n").length;
      text.setSelectionRange(offset + (marked > 1 ? 1 : 0), offset + (marked > 1 ? 1 : 0));
      text.focus();
    }
  }

  function confirmDown(form) {
    var button = form.querySelector("button[data-confirm-base]");
    var volumes = form.querySelector("[data-down-option=volumes]");
    var images = form.querySelector("[data-down-option=images]");

    function word() {
      var parts = [button.dataset.confirmBase];
      if (volumes && volumes.checked) { parts.push(button.dataset.confirmVolumes); }
      if (images && images.value) { parts.push(button.dataset.confirmImages); }
      button.setAttribute("data-confirm", parts.join(" "));
    }

    form.addEventListener("change", word);
    word();
  }

  function refreshAfterJob() {
    var job = document.getElementById("job");
    var ps = document.getElementById("ps");
    if (!job || !ps || job.dataset.ended) { return; }
    var observer = new MutationObserver(function () {
      if (!job.dataset.ended) { return; }
      observer.disconnect();
      fetch(ps.dataset.psUrl, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#ps");
          if (!fresh) { return; }
          ps.replaceWith(fresh);
          document.querySelectorAll("[data-project-status]").forEach(function (el) {
            el.textContent = t(fresh.dataset.status);
            el.className = "pill pill-project-" + fresh.dataset.status;
          });
          document.querySelectorAll("[data-project-action]").forEach(function (el) {
            el.disabled = false;
          });
        });
    });
    observer.observe(job, { attributes: true, attributeFilter: ["data-ended"] });
  }

  function start() {
    document.querySelectorAll(".editor").forEach(numberLines);
    var down = document.getElementById("down-form");
    if (down) { confirmDown(down); }
    refreshAfterJob();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
