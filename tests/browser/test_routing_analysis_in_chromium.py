"""Coverage and what-if on the campaign page, in Debian's Chromium: the coverage chart draws
beside the missed-calls heatmap, and the what-if form replays the range and shows the result."""

from pathlib import Path

import pytest

from routing.models import RoutingPlan, RoutingPlanTarget
from tests.browser import CHROMIUM, charts_draw_all, screenshot
from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.factories import BuyerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

WEEKDAYS_9_TO_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_campaign_page_coverage_and_what_if(live_server, browser, tenant):
    org, user, campaign, _key = tenant
    day = BuyerFactory(organization=org, name="Day Desk", business_hours=WEEKDAYS_9_TO_17)
    BuyerFactory(organization=org, name="Night Desk")  # around the clock, not in the plan
    plan = RoutingPlan.objects.create(organization=org, campaign=campaign, version=1)
    RoutingPlanTarget.objects.create(organization=org, plan=plan, buyer=day)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    charts_draw_all(page)
    assert page.locator("#chart-coverage .main-svg").count() >= 1
    assert page.locator("#chart-missed-heatmap .main-svg").count() >= 1
    gaps = page.locator("#coverage-gaps tbody tr")
    assert gaps.count() >= 1
    assert page.locator("#coverage-gaps").get_by_text("no target open").count() >= 1

    page.select_option("#id_wi-add_buyer", label="Night Desk")
    page.click("#what-if button[type=submit]")
    page.wait_for_selector("#what-if-results", timeout=30_000)
    rows = page.locator("#what-if-results tbody tr")
    assert rows.count() == 3
    before = float(rows.nth(1).locator("td").nth(2).inner_text())
    after = float(rows.nth(2).locator("td").nth(2).inner_text())
    assert after < before  # the backup open around the clock takes calls Day Desk missed
    assert "more answered calls" in page.locator(".what-if-verdict").inner_text()
    screenshot(page, "campaign-what-if")
