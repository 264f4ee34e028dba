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
