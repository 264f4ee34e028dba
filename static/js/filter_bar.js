// Editing a date means a custom range; a preset range and "All" selects are left out of
// the URL, keeping shared links short.
(function () {
  var form = document.getElementById("filter-bar");
  var range = form.elements["range"];
  ["date_from", "date_to"].forEach(function (name) {
    form.elements[name].addEventListener("change", function () { range.value = "custom"; });
  });
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (el) {
      var isDate = el.name === "date_from" || el.name === "date_to";
      if ((isDate && range.value !== "custom") || (el.tagName === "SELECT" && el.value === "")) {
        el.disabled = true;
      }
    });
  });
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
  });
})();
