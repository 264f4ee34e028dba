// The routing plan editor: "Add a buyer" appends a blank row from the formset's empty form
// (a <template>) instead of posting the rows so far; without script the button posts and the
// server answers with one more row.
(function () {
  var button = document.querySelector("[data-add-plan-row]");
  var template = document.getElementById("plan-row-template");
  var rows = document.getElementById("plan-rows");
  var total = document.getElementById("id_targets-TOTAL_FORMS");
  if (!button || !template || !rows || !total) { return; }
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    var select = row.querySelector("select");
    if (select) { select.focus(); }
  });
})();
