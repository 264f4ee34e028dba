// Behaviour every page may use, bound from data attributes: the Content-Security-Policy
// refuses inline event handlers (onchange="..."), so templates mark elements instead.
document.addEventListener("change", function (event) {
  // <select data-submit-on-change>: choosing submits its form (the organization switcher).
  if (event.target.matches("[data-submit-on-change]")) event.target.form.submit();
});
document.addEventListener("click", function (event) {
  // <button data-print>: the print dialog (the report).
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("focusin", function (event) {
  // <input data-select-on-focus>: a secret shown once is selected, ready to copy.
  if (event.target.matches("[data-select-on-focus]")) event.target.select();
});
// A table wider than its .table-wrap scrolls sideways: keyboard users reach that scroll by
// focusing the wrapper (arrow keys), and screen readers hear what it holds (WCAG 2.1.1).
// A ResizeObserver tells when a wrapper's size is known or changes (first layout, a resized
// window, a <details> opened), after the browser's own layout: reading sizes at
// DOMContentLoaded forced a layout of the whole page before its load event (10 ms of a
// publisher page's load).
(function () {
  if (!window.ResizeObserver) return;
  function scrollAccess(wrap) {
    if (wrap.hasAttribute("tabindex")) return;
    if (wrap.scrollWidth <= wrap.clientWidth && wrap.scrollHeight <= wrap.clientHeight) return;
    var section = wrap.closest("section, details, figure");
    var heading = section && section.querySelector("h2, h3, summary, figcaption p");
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", heading ? heading.textContent.trim() : "Table");
  }
  var sizes = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { scrollAccess(entry.target); });
  });
  // app.js is deferred: the document is parsed when it runs.
  document.querySelectorAll(".table-wrap").forEach(function (wrap) { sizes.observe(wrap); });
})();
