// Draws each Plotly figure of the page: a div with data-plotly-figure names the JSON block
// (kpis/pages/charts.py figure_html) that holds its data, layout and config.
(function () {
  if (!window.Plotly) return;
  var divs = document.querySelectorAll("[data-plotly-figure]");
  // On a phone Plotly's toolbar covered legends and threshold labels: no toolbar there
  // (kpis/pages/charts.py PHONE_MAX_WIDTH).
  var phone = window.matchMedia("(max-width: 640px)").matches;
  divs.forEach(function (div) {
    var figure = JSON.parse(document.getElementById(div.dataset.plotlyFigure).textContent);
    if (phone) figure.config.displayModeBar = false;
    Plotly.newPlot(div, figure.data, figure.layout, figure.config);
  });
  // Plotly sizes a figure once, when it is drawn, and "responsive" only follows window
  // resizes; a chart drawn before the grid around it settled would stay too wide. Follow
  // each chart's own box instead.
  // An observer reports each box once when it starts observing it: the size the chart was
  // just drawn at, which a resize would lay out again for nothing (a full relayout per chart
  // on every page load). Resize only when the box differs from the one drawn in.
  if (!window.ResizeObserver) return;
  var drawn = new Map();
  divs.forEach(function (div) { drawn.set(div, div.clientWidth + "x" + div.clientHeight); });
  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var box = entry.target.clientWidth + "x" + entry.target.clientHeight;
      if (drawn.get(entry.target) === box) return;
      drawn.set(entry.target, box);
      Plotly.Plots.resize(entry.target).catch(function () {});
    });
  });
  divs.forEach(function (div) { observer.observe(div); });
})();
