/* Stats page: live charts (uPlot) from /ws/containers/<id>/stats/.
 *
 * The stream sends one sample a second with cumulative network and disk
 * counters; the charts show their rate, the difference between two samples
 * over the time between them. The last two minutes are kept. */
(function () {
  "use strict";

  var KEEP = 120;
  var KB = 1000;
  var MB = 1000 * 1000;

  function t(text) { return window.DockPilot ? window.DockPilot.t(text) : text; }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function human(bytes) {
    if (bytes === null || bytes === undefined) { return "—"; }
    var units = ["B", "kB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1000 && i < units.length - 1) { bytes /= 1000; i += 1; }
    return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
  }

  function chart(el, series) {
    var axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 },
      ticks: { stroke: css("--line"), width: 1 } };
    var colors = [css("--accent"), css("--ok"), css("--warn")];
    var options = {
      width: Math.max(200, el.clientWidth),
      height: 180,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
      axes: [axis, Object.assign({ size: 56 }, axis)],
      legend: { show: true },
      series: [{}].concat(series.map(function (label, i) {
        return { label: label, stroke: colors[i], width: 2, points: { show: false } };
      }))
    };
    var data = [[]].concat(series.map(function () { return []; }));
    var plot = new window.uPlot(options, data, el);
    return { plot: plot, data: data, el: el };
  }

  function push(c, time, values) {
    c.data[0].push(time);
    values.forEach(function (v, i) { c.data[i + 1].push(v); });
    if (c.data[0].length > KEEP) { c.data.forEach(function (column) { column.shift(); }); }
    c.plot.setData(c.data);
  }

  function rate(now, before, seconds) {
    if (!before || seconds <= 0 || now < before) { return 0; }
    return (now - before) / seconds / KB;
  }

  function start() {
    var root = document.getElementById("stats");
    if (!root || !window.uPlot || !window.DockPilot) { return; }
    var status = root.querySelector("[data-stats-status]");
    var shown = function (name, text) { root.querySelector("[data-stat=" + name + "]").textContent = text; };
    var charts = {
      cpu: chart(root.querySelector("[data-chart=cpu]"), [t("CPU")]),
      memory: chart(root.querySelector("[data-chart=memory]"), [t("used")]),
      network: chart(root.querySelector("[data-chart=network]"), [t("in"), t("out")]),
      block: chart(root.querySelector("[data-chart=block]"), [t("read"), t("write")])
    };
    var previous = null;
    var samples = 0;

    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (key) {
        var c = charts[key];
        c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: 180 });
      });
    });

    window.DockPilot.subscribe(root.getAttribute("data-stats-ws"), function (message) {
      if (message.type === "error" || message.type === "end") {
        status.textContent = message.message || t("The stream ended.");
        return;
      }
      if (message.type !== "stats") { return; }
      if (!message.running) {
        status.textContent = message.message || t("The container is not running.");
        previous = null;
        return;
      }
      var time = message.read_at ? Date.parse(message.read_at) / 1000 : Date.now() / 1000;
      var seconds = previous ? time - previous.time : 0;
      var net = message.network || { rx_bytes: 0, tx_bytes: 0 };
      var io = message.block_io || { read_bytes: 0, write_bytes: 0 };
      var mem = message.memory || {};
      push(charts.cpu, time, [message.cpu_percent || 0]);
      push(charts.memory, time, [(mem.used || 0) / MB]);
      push(charts.network, time, [rate(net.rx_bytes, previous && previous.net.rx_bytes, seconds),
        rate(net.tx_bytes, previous && previous.net.tx_bytes, seconds)]);
      push(charts.block, time, [rate(io.read_bytes, previous && previous.io.read_bytes, seconds),
        rate(io.write_bytes, previous && previous.io.write_bytes, seconds)]);
      previous = { time: time, net: net, io: io };
      samples += 1;
      root.dataset.samples = String(samples);
      shown("cpu", message.cpu_percent === null ? "—" : message.cpu_percent.toFixed(1) + " %");
      shown("memory", human(mem.used) + (mem.limit ? " " + t("of") + " " + human(mem.limit) : ""));
      shown("network", message.network ? human(net.rx_bytes) + " / " + human(net.tx_bytes) : t("no network"));
      shown("block", human(io.read_bytes) + " / " + human(io.write_bytes));
      shown("pids", message.pids === null || message.pids === undefined ? "—" : String(message.pids));
      status.textContent = t("Live: one sample a second, the last two minutes.");
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
