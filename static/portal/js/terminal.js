/* Terminal page: xterm.js wired to /ws/containers/<id>/exec/.
 *
 * Keystrokes go out as {"type": "input"}; the terminal's output comes back
 * as binary frames. Every message, binary or not, is numbered by count, and
 * the server stops sending past its window until we acknowledge. */
(function () {
  "use strict";

  /* xterm.js adds <style> elements of its own; the page's policy allows
   * those that carry its nonce, so the ones created here get it. */
  function nonceStyles() {
    var meta = document.querySelector("meta[name=dockpilot-style-nonce]");
    if (!meta) { return; }
    var nonce = meta.getAttribute("content");
    var create = document.createElement.bind(document);
    document.createElement = function (tag, options) {
      var element = create(tag, options);
      if (String(tag).toLowerCase() === "style") {
        element.setAttribute("nonce", nonce);
        element.nonce = nonce;
      }
      return element;
    };
  }

  function t(text) { return window.DockPilot ? window.DockPilot.t(text) : text; }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function connect(box, term, fit, command, status) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var path = box.getAttribute("data-exec-ws") + "&cols=" + term.cols + "&rows=" + term.rows;
    if (command) { path += "&command=" + encodeURIComponent(command); }
    var socket = new WebSocket(scheme + location.host + path);
    socket.binaryType = "arraybuffer";
    var received = 0;
    var decoder = new TextDecoder();

    socket.addEventListener("open", function () { status.textContent = t("Connected."); term.focus(); });
    socket.addEventListener("message", function (event) {
      received += 1;
      socket.send(JSON.stringify({ type: "ack", seq: received }));
      if (typeof event.data !== "string") {
        term.write(decoder.decode(new Uint8Array(event.data), { stream: true }));
        return;
      }
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.type === "end") {
        status.textContent = t("The shell exited (code %s).").replace("%s", message.exit_code);
      } else if (message.type === "error") {
        status.textContent = message.message;
        term.write("\r\n" + message.message + "\r\n");
      }
    });
    socket.addEventListener("close", function () {
      if (status.textContent === t("Connected.")) { status.textContent = t("Disconnected."); }
    });
    var input = term.onData(function (data) {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "input", data: data }));
      }
    });
    var resize = term.onResize(function (size) {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "resize", cols: size.cols, rows: size.rows }));
      }
    });
    return function () { input.dispose(); resize.dispose(); socket.close(); };
  }

  function start() {
    var box = document.getElementById("terminal");
    if (!box || !window.Terminal || !window.FitAddon) { return; }
    nonceStyles();
    var term = new window.Terminal({
      cursorBlink: true,
      fontFamily: css("--mono") || "monospace",
      fontSize: 13,
      theme: { background: "#0b1017", foreground: "#e2e8f0" }
    });
    var fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(box);
    fit.fit();
    window.addEventListener("resize", function () { fit.fit(); });
    var form = document.querySelector("[data-terminal-form]");
    var status = document.querySelector("[data-terminal-status]");
    var close = connect(box, term, fit, "", status);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      close();
      term.reset();
      status.textContent = t("Connecting…");
      close = connect(box, term, fit, form.elements.command.value, status);
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
