"""The pages in a real browser: Debian's Chromium driven by Playwright (never a downloaded one).

Logs in, opens every page, checks that Plotly drew its SVG charts and that a tile shows what
the API says, changes a filter, downloads the XLSX report and opens it. Screenshots go to
artifacts/screenshots/ (git-ignored).
"""

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from publishers.models import Publisher
from tests.browser import CHROMIUM, charts_draw_all, screenshot
from tests.conftest import TEST_PASSWORD as PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def _assert_plotly_drew(page) -> None:
    charts_draw_all(page)
    assert page.locator(".js-plotly-plot .main-svg").count() >= 1


def test_pages_render_charts_and_tiles_match_the_api(live_server, browser, tenant):
    import httpx

    _org, user, campaign, key = tenant
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Overview: tiles and the daily trend; the calls tile equals the API's total.
    _assert_plotly_drew(page)
    screenshot(page, "overview")
    api = httpx.get(
        f"{live_server.url}/api/v1/kpis/", headers={"X-Api-Key": key}, timeout=30
    ).json()
    calls_tile = page.locator(".tile[data-kpi='calls']")
    assert calls_tile.get_attribute("data-value") == str(api["totals"]["calls"])
    assert api["totals"]["calls"] == 80
    # In the verdict lists (the filter bar names every publisher anyway).
    assert page.locator("[data-verdict]").get_by_text("Weak Media").count() >= 1

    # A filter in the URL changes the numbers: today only.
    page.goto(f"{live_server.url}/?range=today")
    today_calls = page.locator(".tile[data-kpi='calls']").get_attribute("data-value")
    assert int(today_calls or 0) < 80

    # Campaign page: leaderboard, buckets, heatmap, RPM trend.
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    _assert_plotly_drew(page)
    assert page.locator("#leaderboard").get_by_text("Star Media").count() >= 1
    screenshot(page, "campaign")

    page.goto(f"{live_server.url}/publishers/")
    _assert_plotly_drew(page)
    screenshot(page, "publishers")

    page.goto(f"{live_server.url}/calls/")
    page.wait_for_selector("table")
    assert page.locator("tbody tr").count() >= 50
    screenshot(page, "calls")

    page.goto(f"{live_server.url}/settings/")
    screenshot(page, "settings")

    # The weekly report: print page, and the XLSX opens with openpyxl.
    page.goto(f"{live_server.url}/reports/weekly/?range=30")
    screenshot(page, "report")
    with page.expect_download() as download_info:
        page.click("a[href*='weekly.xlsx']")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert {"Summary", "Campaigns", "Publishers", "Buyers", "Days"} <= set(workbook.sheetnames)

    # The phone layout renders too.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server.url}/")
    _assert_plotly_drew(phone)
    screenshot(phone, "overview-phone")


def test_walk_from_the_overview_to_a_publisher_its_calls_and_their_csv(
    live_server, browser, tenant
):
    """Issue 11's walk, by clicks: overview -> publisher page -> its filtered call log (in
    local time) -> the CSV export of exactly what the log lists."""
    org, user, _campaign, _key = tenant
    star = Publisher.objects.for_organization(org).get(name="Star Media")
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Overview -> the publisher's page, through its name on the verdict board.
    page.locator("[data-verdict]").get_by_role("link", name="Star Media").first.click()
    page.wait_for_url(f"{live_server.url}/publishers/{star.pk}/*")
    assert page.locator("h1").get_by_text("Star Media").count() == 1
    assert page.locator("#publisher-campaigns").get_by_text("Auto Insurance").count() == 1
    _assert_plotly_drew(page)
    screenshot(page, "publisher")

    # -> the calls it sent: the call log, filtered to it.
    page.get_by_role("link", name="Calls it sent").click()
    page.wait_for_selector("table.calls")
    assert f"publisher={star.pk}" in page.url
    assert page.locator("thead").get_by_text("Started (America/New_York)").count() == 1
    listed = page.locator("#call-rows tr").count()
    assert listed > 0
    assert page.locator("#call-rows").get_by_text("Weak Media").count() == 0
    screenshot(page, "calls-filtered")

    # -> the CSV export of exactly those calls.
    with page.expect_download() as download_info:
        page.click("a.export")
    exported = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert len(exported) == listed
    assert {row["publisher"] for row in exported} == {"Star Media"}
    assert all(row["started_at"].endswith(("-05:00", "-04:00")) for row in exported)
