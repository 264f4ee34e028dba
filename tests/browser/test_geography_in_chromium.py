"""The Geography page and a tag grouping in Chromium: the tile-grid map is drawn from the
page's own data (no map tiles or shapes fetched), with no console error and no
Content-Security-Policy violation; the tag table narrows the pages to a tag value."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from calls.models import Call
from kpis.models import ReportTag
from kpis.rollups import rollups_rebuild
from tests.browser import CHROMIUM, screenshot
from tests.conftest import TEST_PASSWORD as PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def test_geography_map_and_tag_grouping_render_without_errors(live_server, browser, tenant):
    org, user, _campaign, _key = tenant
    # Callers from three states and a source tag on every call.
    for n, call in enumerate(Call.objects.filter(organization=org).order_by("external_id")):
        call.caller_region = ("IL", "TX", "Florida")[n % 3]
        call.tags = {"source": ("google", "bing")[n % 2]}
        call.save(update_fields=["caller_region", "tags"])
    ReportTag.objects.create(organization=org, key="source")
    rollups_rebuild(org)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.type}: {message.text}")
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    origin = live_server.url
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if f"{urlsplit(request.url).scheme}://{urlsplit(request.url).netloc}" != origin
            and not request.url.startswith("data:")
            else None
        ),
    )
    page.goto(f"{origin}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/")

    page.click("nav[aria-label=Main] >> text=Geography")
    page.wait_for_selector("#chart-state-map .main-svg", timeout=15_000)
    # A code on every state's tile (SVG text: no innerText).
    labels = page.eval_on_selector_all(
        "#chart-state-map .annotation-text", "texts => texts.map(t => t.textContent)"
    )
    screenshot(page, "geography")
    assert {"IL", "TX", "FL", "CA", "AK", "HI"} <= set(labels)
    assert len(labels) == 51
    states = page.locator("#state-table tbody tr")
    assert states.count() == 3
    assert page.locator("#state-table tr[data-state=FL]").count() == 1  # "Florida" is FL
    # Sorting by a column works (a script of our own, under the policy).
    page.locator("#state-table button.sort", has_text="Calls").click()
    page.locator("a", has_text="Missed-call rate").click()
    page.wait_for_selector("#chart-state-map .main-svg")
    assert "metric=missed_rate" in page.url

    page.click("nav[aria-label=Main] >> text=Tags")
    page.wait_for_selector("#tag-table")
    values = page.locator("#tag-table tbody td:first-child").all_inner_texts()
    assert {"google", "bing"} <= {value.strip() for value in values}
    page.locator("#tag-table a", has_text="google").click()
    page.wait_for_load_state("networkidle")
    assert "tag=source%3Agoogle" in page.url
    assert page.locator("input[name=tag]").input_value() == "source:google"
    assert page.locator(".tile[data-kpi='calls']").get_attribute("data-value") == "40"

    assert problems == []
    assert foreign == []
