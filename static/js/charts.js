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
  if (!window.ResizeObserver) return;
  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { Plotly.Plots.resize(entry.target).catch(function () {}); });
  });
  divs.forEach(function (div) { observer.observe(div); });
})();
