// The scheme editor (/schemes/<id>/edit): each group's weights added up as they are typed, so the sum that
// must be 100 % is in view; the server checks everything again on save.
(function () {
  function number(text) {
    var x = parseFloat(String(text).replace(/[,，%\s]/g, ''));
    return isNaN(x) ? null : x;
  }
  function update(fs) {
    var total = 0, ok = true;
    fs.querySelectorAll('input[data-weight]').forEach(function (input) {
      var x = number(input.value);
      if (x === null) { ok = false; } else { total += x; }
    });
    var out = fs.querySelector('output.sum');
    if (!out) { return; }
    out.textContent = ok ? String(Math.round(total * 1e6) / 1e6) : '?';
    var want = number(fs.dataset.total);
    out.classList.toggle('off', !ok || want === null || Math.abs(total - want) > 1e-9);
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('fieldset.group-weights').forEach(function (fs) {
      fs.addEventListener('input', function () { update(fs); });
      update(fs);
    });
    document.querySelectorAll('.rule-row input[type=checkbox]').forEach(function (box) {
      box.addEventListener('change', function () { box.closest('.rule-row').classList.toggle('off', !box.checked); });
    });
  });
})();
