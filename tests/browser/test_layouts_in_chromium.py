"""Layouts at a phone's width in Chromium: a wide table scrolls with its first column in view
and can be reached from the keyboard; charts draw without Plotly's toolbar on a phone and
with it on a desktop, are laid out once on load and follow their box when it changes; the
overview's verdict entities out of view are drawn only when they come near."""

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, charts_draw_all
from tests.conftest import TEST_PASSWORD as PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def logged_in(browser, live_server, user, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_a_wide_table_on_a_phone_scrolls_under_its_first_column(live_server, browser, tenant):
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, 390, 844)
    page.goto(f"{live_server.url}/publishers/", wait_until="networkidle")
    wrap = page.locator(".table-wrap:has(#publisher-table)")
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
    # Reachable from the keyboard, and named for a screen reader.
    assert wrap.get_attribute("tabindex") == "0"
    assert wrap.get_attribute("role") == "region"
    assert wrap.get_attribute("aria-label") == "All publishers"
    first = page.locator("#publisher-table tbody tr:first-child td:first-child")
    second = page.locator("#publisher-table tbody tr:first-child td:nth-child(2)")
    before = first.bounding_box()["x"], second.bounding_box()["x"]
    wrap.evaluate("w => { w.scrollLeft = 200; }")
    page.wait_for_function(
        "() => document.querySelector('.table-wrap:has(#publisher-table)').scrollLeft > 0"
    )
    after = first.bounding_box()["x"], second.bounding_box()["x"]
    assert after[0] == before[0]  # the publisher's name stays in view
    assert after[1] < before[1]  # the other columns scrolled


# Which of the page's table wrappers scroll sideways, and which are tab stops.
WRAPS = """() => [...document.querySelectorAll(".table-wrap")].map(w => ({
    scrolls: w.scrollWidth > w.clientWidth, stop: w.getAttribute("tabindex") === "0"}))"""


def test_a_table_that_starts_to_scroll_when_the_window_narrows_is_reachable(
    live_server, browser, tenant
):
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, 1440, 900)
    page.goto(f"{live_server.url}/campaigns/", wait_until="networkidle")
    wide = page.evaluate(WRAPS)
    fitting = [index for index, wrap in enumerate(wide) if not wrap["scrolls"]]
    assert fitting and not any(wide[index]["stop"] for index in fitting)  # no needless stops
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    narrow = page.evaluate(WRAPS)
    started = [index for index in fitting if narrow[index]["scrolls"]]
    assert started  # the page has such a table
    assert all(narrow[index]["stop"] for index in started)


@pytest.mark.parametrize(
    ("width", "toolbar"), [(390, False), (1440, True)], ids=["phone", "desktop"]
)
def test_plotly_toolbar_only_off_a_phone(live_server, browser, tenant, width, toolbar):
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, width, 900)
    charts_draw_all(page)
    buttons = page.locator("#chart-daily-trend .modebar-btn").count()
    assert (buttons > 0) is toolbar


# Counts the calls of Plotly.Plots.resize, from before plotly.js defines Plotly.
COUNT_RESIZES = """(() => {
    let plotly;
    window.resizes = 0;
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        get() { return plotly; },
        set(value) {
            plotly = value;
            const resize = value.Plots.resize;
            value.Plots.resize = function () {
                window.resizes += 1;
                return resize.apply(this, arguments);
            };
        },
    });
})();"""


def test_charts_are_laid_out_once_and_follow_their_box_after(live_server, browser, tenant):
    # The observer that keeps a chart in its box reports each box once as it starts: resizing
    # then laid every chart out a second time on every page load, for the same size.
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, 1440, 900)
    page.add_init_script(COUNT_RESIZES)
    page.goto(f"{live_server.url}/publishers/", wait_until="load")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    page.wait_for_timeout(500)  # the observer's first reports come after a frame
    assert page.evaluate("window.resizes") == 0
    width = "() => document.querySelector('.js-plotly-plot .main-svg').getAttribute('width')"
    before = float(page.evaluate(width))
    page.set_viewport_size({"width": 900, "height": 900})
    page.wait_for_function(f"() => window.resizes > 0 && ({width})() < {before}")


# Whether an entity's link is rendered: false while content-visibility skips its entity.
RENDERED = "a => a.checkVisibility({contentVisibilityAuto: true})"
# Two frames on: content-visibility has decided what is near the viewport.
FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def test_verdict_entities_out_of_view_are_rendered_only_when_near(live_server, browser, tenant):
    # Chromium lays out the whole page before the load event; the verdict board runs thousands
    # of pixels below the fold at 1M calls, so on screen an entity out of view is skipped until
    # it comes near: scrolled to, or reached from the keyboard. Printed, all are drawn.
    _org, user, _campaign, _key = tenant
    page = logged_in(browser, live_server, user, 1440, 300)  # the board below the fold
    page.wait_for_load_state("load")
    links = page.locator(".verdict-board .entities > li > a")
    assert links.count() > 0
    last = links.last
    page.evaluate(FRAMES)
    assert last.evaluate(RENDERED) is False
    last.focus()  # as Tab would: focus makes its entity relevant
    page.wait_for_function(RENDERED, arg=last.element_handle())
    # The entity clips its paint to its box: the focused link's ring needs room on the side.
    entity = last.locator("xpath=..").bounding_box()
    assert last.bounding_box()["x"] - entity["x"] >= 3
    page.goto(page.url, wait_until="load")  # not a reload, which keeps the scroll position
    page.evaluate(FRAMES)
    assert last.evaluate(RENDERED) is False
    page.emulate_media(media="print")  # printed (or saved as PDF): every entity
    page.wait_for_function(RENDERED, arg=last.element_handle())
    page.emulate_media(media="screen")
    page.evaluate(FRAMES)
    assert last.evaluate(RENDERED) is False
    last.scroll_into_view_if_needed()
    page.wait_for_function(RENDERED, arg=last.element_handle())
