"""Charts load the way lazy images do (static/js/charts.js): the page's load event comes before
plotly.js runs, a chart far below the fold is drawn only when scrolled near, and the
"charts-drawn" mark tells when the charts in view at load are drawn."""

import re
from pathlib import Path

import pytest

from tests.browser import CHROMIUM
from tests.browser.test_layouts_in_chromium import logged_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

# When the load event fired, how many charts were drawn then, and when plotly.js defined Plotly.
RECORD_LOAD_AND_PLOTLY = """(() => {
    window.seen = {};
    window.addEventListener("load", () => {
        seen.load = performance.now();
        seen.chartsAtLoad = document.querySelectorAll(".js-plotly-plot .main-svg").length;
    });
    let plotly;
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        get() { return plotly; },
        set(value) { plotly = value; seen.plotly = seen.plotly || performance.now(); },
    });
})();"""
CHARTS_DRAWN = "() => performance.getEntriesByName('charts-drawn', 'mark').length > 0"
# Which charts are in view, and drawn, at the moment charts.js marks "charts-drawn".
RECORD_AT_MARK = """(() => {
    const mark = performance.mark.bind(performance);
    performance.mark = (name, options) => {
        if (name === "charts-drawn") {
            window.inViewAtMark = [...document.querySelectorAll("[data-plotly-figure]")]
                .filter(div => {
                    const box = div.getBoundingClientRect();
                    return box.top < innerHeight && box.bottom > 0;
                })
                .map(div => [div.id, div.querySelectorAll(".main-svg").length > 0]);
        }
        return mark(name, options);
    };
})();"""


def test_the_page_loads_before_plotly_runs_and_draws(live_server, browser, tenant):
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, 1440, 900)
    page.add_init_script(RECORD_LOAD_AND_PLOTLY)
    response = page.goto(f"{live_server.url}/", wait_until="load")
    page.wait_for_selector("#chart-daily-trend .main-svg")
    seen = page.evaluate("window.seen")
    assert seen["chartsAtLoad"] == 0
    assert seen["plotly"] > seen["load"]
    # No script of the page's HTML is plotly.js: charts.js inserts it.
    scripts = re.findall(r'<script src="([^"]*)"', response.text())
    assert scripts and not [src for src in scripts if "plotly" in src]


def test_a_chart_far_below_the_fold_is_drawn_only_when_scrolled_near(live_server, browser, tenant):
    _org, user, campaign, _key = tenant
    # A phone's width: the campaign page's four charts stack in one column.
    page = logged_in(browser, live_server, user, 390, 844)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/", wait_until="load")
    page.wait_for_function(CHARTS_DRAWN)
    last = page.locator("#chart-rpm-trend")
    # Far below: more than the viewport's height plus charts.js's margin of half a screen.
    assert last.evaluate("div => div.getBoundingClientRect().top") > 2 * 844
    page.wait_for_timeout(1000)  # time enough to draw it, were it drawn regardless
    assert last.locator(".main-svg").count() == 0
    # Its box is held meanwhile, so nothing below moves when it is drawn.
    assert last.evaluate("div => div.clientHeight") == int(last.get_attribute("data-plotly-height"))
    last.scroll_into_view_if_needed()
    last.locator(".main-svg").first.wait_for(timeout=15_000)


def test_the_charts_drawn_mark_follows_every_chart_in_view(live_server, browser, tenant):
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, 1440, 900)
    page.add_init_script(RECORD_AT_MARK)
    page.goto(f"{live_server.url}/", wait_until="load")
    page.wait_for_function(CHARTS_DRAWN)
    in_view = page.evaluate("window.inViewAtMark")
    assert in_view, "no chart in view at 1440x900: the test would show nothing"
    assert all(drawn for _id, drawn in in_view), in_view
    assert page.evaluate("performance.getEntriesByName('charts-drawn', 'mark').length") == 1


def test_printing_draws_every_chart_not_only_those_scrolled_near(live_server, browser, tenant):
    _org, user, campaign, _key = tenant
    page = logged_in(browser, live_server, user, 390, 844)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/", wait_until="load")
    page.wait_for_function(CHARTS_DRAWN)
    charts = page.locator("[data-plotly-figure]")
    assert page.locator("#chart-rpm-trend .main-svg").count() == 0  # far below, not drawn
    page.emulate_media(media="print")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-plotly-figure] .main-svg').length >= n",
        arg=charts.count(),
    )
    for index in range(charts.count()):
        assert charts.nth(index).locator(".main-svg").count() > 0
    assert errors == []


def test_printing_before_plotly_came_draws_every_chart_when_it_does(live_server, browser, tenant):
    _org, user, campaign, _key = tenant
    page = logged_in(browser, live_server, user, 390, 844)
    # plotly.js held back until the page is printed: the print asks for it itself.
    release = []
    page.route("**/plotly/*.js", lambda route: release.append(route))
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/", wait_until="load")
    page.wait_for_timeout(300)
    assert page.locator(".main-svg").count() == 0
    page.emulate_media(media="print")
    page.wait_for_timeout(300)
    for route in release:
        route.continue_()
    charts = page.locator("[data-plotly-figure]")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-plotly-figure] .main-svg').length >= n",
        arg=charts.count(),
    )
