/* mujun web: charts from JSON data blocks, auto-submitting selects, print-friendly charts.
   No inline script anywhere (the Content-Security-Policy forbids it). */
(function () {
  "use strict";
  var charts = [];
  function initCharts(root) {
    if (!window.echarts) { return; }
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.ready) { return; }
      var src = document.getElementById(el.dataset.chart);
      if (!src) { return; }
      var option = JSON.parse(src.textContent);
      var lang = document.body.dataset.lang === "en" ? "EN" : "ZH";
      var chart = echarts.init(el, null, { locale: lang, renderer: "canvas" });
      chart.setOption(option);
      el.dataset.ready = "1";
      charts.push(chart);
    });
  }
  function bindAutosubmit(root) {
    (root || document).querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      if (sel.dataset.bound) { return; }
      sel.dataset.bound = "1";
      sel.addEventListener("change", function () {
        if (sel.form.requestSubmit) { sel.form.requestSubmit(); } else { sel.form.submit(); }
      });
    });
  }
  function resizeAll() { charts.forEach(function (c) { if (!c.isDisposed()) { c.resize(); } }); }
  document.addEventListener("DOMContentLoaded", function () { initCharts(); bindAutosubmit(); });
  document.addEventListener("htmx:afterSettle", function (e) { initCharts(e.target); bindAutosubmit(e.target); });
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
