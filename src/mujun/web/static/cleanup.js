/* 低效企业整治 board: the search box filters the cards as one types (the form still filters on the server, so the
   page works without JavaScript). */
(function () {
  "use strict";
  function bind() {
    var box = document.getElementById("cu-q");
    var board = document.getElementById("board");
    var found = document.getElementById("cu-found");
    if (!box || !board || box.dataset.bound) { return; }
    box.dataset.bound = "1";
    function apply() {
      var needle = box.value.trim().toLowerCase();
      var shown = 0;
      board.querySelectorAll(".cu-col").forEach(function (col) {
        var n = 0;
        col.querySelectorAll(".cu-card").forEach(function (card) {
          var hit = !needle || (card.dataset.find || "").toLowerCase().indexOf(needle) >= 0;
          card.hidden = !hit;
          if (hit) { n += 1; }
        });
        col.hidden = n === 0;
        var count = col.querySelector(".cu-count");
        if (count) { count.textContent = String(n); }
        shown += n;
      });
      if (found && found.dataset.template) { found.textContent = found.dataset.template.replace("{n}", String(shown)); }
      var none = document.getElementById("cu-none-js");
      if (none) { none.hidden = shown > 0 || !board.querySelector(".cu-card"); }
    }
    box.addEventListener("input", apply);
    document.addEventListener("htmx:afterSettle", apply);
  }
  document.addEventListener("DOMContentLoaded", bind);
})();
