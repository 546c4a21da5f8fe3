/* mujun web: charts from JSON data blocks, auto-submitting selects, print-friendly charts, background jobs'
   progress. No inline script anywhere (the Content-Security-Policy forbids it). */
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
  /* A background job's page (templates/job.html): poll its .json twin about once a second and move the
     <progress>; when the job ends, open the page it made, or reload to show the file or the message. */
  function watchJobs(root) {
    (root || document).querySelectorAll("[data-job-status]").forEach(function (box) {
      if (box.dataset.watching) { return; }
      box.dataset.watching = "1";
      var bar = box.querySelector("progress");
      var step = box.querySelector("#job-step");
      var state = box.querySelector("#job-state");
      var percent = box.querySelector("#job-percent");
      var seconds = box.querySelector("#job-seconds");
      function show(job) {
        if (job.fraction === null) { bar.removeAttribute("value"); } else { bar.value = job.fraction; }
        bar.textContent = job.percent === null ? "" : job.percent + "%";
        step.textContent = job.step_label;
        state.textContent = job.state_label;
        percent.textContent = job.percent === null ? "" : job.percent + "%";
        seconds.textContent = box.dataset.jobElapsed.replace("{s}", job.seconds);
      }
      /* Any 4xx (the job forgotten, the session ended, no longer allowed) ends the polling: show the server's
         catalogued message (the .json error body), or reload the page (a 401 then leads to the sign-in). */
      function stop(r) {
        if (r.status === 401) { window.location.reload(); return; }
        r.json().then(function (data) {
          if (!data || !data.error) { throw new Error("no message"); }
          state.textContent = data.error;
          state.setAttribute("role", "alert");
          step.textContent = "";
          percent.textContent = "";
          bar.value = 0;
          box.dataset.jobStopped = String(r.status);
        }).catch(function () { window.location.reload(); });
      }
      function poll() {
        fetch(box.dataset.jobStatus, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) {
            if (r.status >= 400 && r.status < 500) { stop(r); return undefined; }
            return r.ok ? r.json() : null;
          })
          .then(function (data) {
            if (data === undefined) { return; }  /* stopped */
            if (!data || !data.job) { window.setTimeout(poll, 3000); return; }
            var job = data.job;
            show(job);
            if (job.state === "done" && job.result_url) { window.location.replace(job.result_url); return; }
            if (job.finished) { window.location.reload(); return; }
            window.setTimeout(poll, 1000);
          })
          .catch(function () { window.setTimeout(poll, 3000); });
      }
      window.setTimeout(poll, 500);
    });
  }
  /* A table not inside a box that scrolls gets one (.table-wrap): on a phone the table scrolls sideways in
     its own box and the page does not. */
  function wrapTables(root) {
    (root || document).querySelectorAll("main table").forEach(function (table) {
      for (var el = table.parentElement; el && el.tagName !== "MAIN"; el = el.parentElement) {
        var ox = window.getComputedStyle(el).overflowX;
        if (ox === "auto" || ox === "scroll" || ox === "hidden") { return; }
      }
      var wrap = document.createElement("div");
      wrap.className = "table-wrap table-wrap-auto";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
  }
  /* The navigation scrolls sideways on a phone: bring the current page's entry into view. */
  function showCurrentNav() {
    var nav = document.querySelector(".top nav");
    var here = nav && nav.querySelector("[aria-current=page]");
    if (here && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = here.offsetLeft - (nav.clientWidth - here.offsetWidth) / 2;
    }
  }
  function resizeAll() { charts.forEach(function (c) { if (!c.isDisposed()) { c.resize(); } }); }
  /* A chart follows its box's width (a grid that stacks, a folded section that opens), not only the window's. */
  var observer = window.ResizeObserver ? new ResizeObserver(function (entries) {
    entries.forEach(function (e) {
      var chart = window.echarts && echarts.getInstanceByDom(e.target);
      if (chart && !chart.isDisposed()) { chart.resize(); }
    });
  }) : null;
  function observeCharts(root) {
    if (!observer) { return; }
    (root || document).querySelectorAll("[data-chart][data-ready]").forEach(function (el) {
      if (!el.dataset.observed) { el.dataset.observed = "1"; observer.observe(el); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    wrapTables(); initCharts(); observeCharts(); bindAutosubmit(); watchJobs(); showCurrentNav();
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    wrapTables(e.target); initCharts(e.target); observeCharts(e.target); bindAutosubmit(e.target);
  });
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
