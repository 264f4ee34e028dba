// Draws each Plotly figure of the page: a div with data-plotly-figure names the JSON block
// (kpis/pages/charts.py figure_html) that holds its data, layout and config.
//
// Charts load the way lazy images do, off the page's critical path: the HTML, tiles and
// tables paint first, and a chart is drawn only when it comes near the viewport, one chart
// per task so that the page answers input in between. plotly.js (our own static file, its
// hashed name in this script's data-plotly-src) is asked for only once the page has loaded
// and a chart is near: a script inserted before the load event would hold that event until
// plotly.js had run. Until drawn, a div holds its figure's height, so nothing below moves.
//
// Printing (or saving as PDF) shows every chart, not only those scrolled near: the rest are
// drawn at once when the page turns to print, plotly.js asked for first if it has not come.
//
// When every chart that was in the viewport at load is drawn, this sets the User Timing mark
// "charts-drawn" (at once if none was): the moment the page above the fold is complete, which
// bench/browser.py reports next to the load event.
(function () {
  var divs = Array.prototype.slice.call(document.querySelectorAll("[data-plotly-figure]"));
  if (!divs.length) return;
  var plotlySrc = document.currentScript.dataset.plotlySrc;
  // On a phone Plotly's toolbar covered legends and threshold labels: no toolbar there
  // (kpis/pages/charts.py PHONE_MAX_WIDTH).
  var phone = window.matchMedia("(max-width: 640px)").matches;
  // Charts near the viewport, not drawn yet, in page order.
  var queue = [];
  // The charts in the viewport at load, not drawn yet; null until the first report.
  var visibleAtLoad = null;
  var plotlyAsked = false;
  var drawScheduled = false;

  divs.forEach(function (div) { div.style.minHeight = div.dataset.plotlyHeight + "px"; });

  function chartsDrawnMark() {
    if (visibleAtLoad && visibleAtLoad.size === 0) {
      visibleAtLoad = undefined;  // once
      performance.mark("charts-drawn");
    }
  }

  function plotlyLoad(now) {
    if (plotlyAsked || (!now && document.readyState !== "complete") || !queue.length) return;
    plotlyAsked = true;
    var script = document.createElement("script");
    script.src = plotlySrc;
    script.onload = drawSoon;
    document.head.appendChild(script);
  }

  function drawSoon() {
    if (drawScheduled || !window.Plotly || !queue.length) return;
    drawScheduled = true;
    setTimeout(function () {
      drawScheduled = false;
      try {
        var div = queue.shift();  // none when printing drew them all meanwhile
        if (div) draw(div);
      } finally {
        drawSoon();  // a figure Plotly refuses leaves the others drawn
      }
    }, 0);
  }

  function draw(div) {
    var figure = JSON.parse(document.getElementById(div.dataset.plotlyFigure).textContent);
    if (phone) figure.config.displayModeBar = false;
    Plotly.newPlot(div, figure.data, figure.layout, figure.config).then(function () {
      if (visibleAtLoad && visibleAtLoad.delete(div)) chartsDrawnMark();
    });
    follow(div);
  }

  // Plotly sizes a figure once, when it is drawn, and "responsive" only follows window
  // resizes; a chart drawn before the grid around it settled would stay too wide. Follow
  // each chart's own box instead.
  // An observer reports each box once when it starts observing it: the size the chart was
  // just drawn at, which a resize would lay out again for nothing (a full relayout per chart
  // on every page load). Resize only when the box differs from the one drawn in.
  var drawnBoxes = new Map();
  var resizes = window.ResizeObserver && new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var box = entry.target.clientWidth + "x" + entry.target.clientHeight;
      if (drawnBoxes.get(entry.target) === box) return;
      drawnBoxes.set(entry.target, box);
      Plotly.Plots.resize(entry.target).catch(function () {});
    });
  });
  function follow(div) {
    if (!resizes) return;
    drawnBoxes.set(div, div.clientWidth + "x" + div.clientHeight);
    resizes.observe(div);
  }

  // "Near": within half a screen of the viewport, so a chart is usually drawn by the time
  // it is scrolled to.
  var nearby = new IntersectionObserver(function (entries) {
    var first = visibleAtLoad === null;
    if (first) visibleAtLoad = new Set();
    entries.forEach(function (entry) {
      var box = entry.boundingClientRect;
      if (first && box.top < window.innerHeight && box.bottom > 0) {
        visibleAtLoad.add(entry.target);
      }
      if (!entry.isIntersecting) return;
      nearby.unobserve(entry.target);
      entry.target.dataset.plotlyQueued = "1";
      queue.push(entry.target);
    });
    if (first) chartsDrawnMark();
    plotlyLoad();
    drawSoon();
  }, {rootMargin: "50% 0px"});
  divs.forEach(function (div) { nearby.observe(div); });
  if (document.readyState !== "complete") {
    window.addEventListener("load", function () { plotlyLoad(); });
  }

  var printing = false;
  function drawAllForPrint() {
    if (printing) return;
    printing = true;  // once: after this every chart is drawn or queued
    divs.forEach(function (div) {
      if (div.dataset.plotlyQueued) return;
      nearby.unobserve(div);
      queue.push(div);
    });
    if (!window.Plotly) {
      plotlyLoad(true);
      return;  // its onload draws the queue
    }
    while (queue.length) draw(queue.shift());
  }
  window.addEventListener("beforeprint", drawAllForPrint);
  var printMedia = window.matchMedia("print");
  if (printMedia.addEventListener) {
    printMedia.addEventListener("change", function (media) {
      if (media.matches) drawAllForPrint();
    });
  }
})();
