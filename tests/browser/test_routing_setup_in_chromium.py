"""Issue 14's setup screens in a real browser (Debian's Chromium through Playwright): a manager
sets a buyer's caps, geography and hours, edits the campaign's routing plan into two tiers
(the row added by the editor's script, without a round trip), saves, is told that every target
is closed on Sundays and sees version 2 in the history; an analyst sees the same plan and the
buyer's settings read-only. Shots at 1440x900 go to artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ppc_dashboard.tenancy.models import Role
from routing.models import Buyer, RoutingPlan
from routing.services import PlanTargetInput, routing_plan_save
from tests.browser import CHROMIUM, screenshot
from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.factories import (
    BuyerFactory,
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

DESKTOP = {"width": 1440, "height": 900}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
def routing_tenant(transactional_db):
    org = OrganizationFactory(slug="routes", name="Route Media", timezone="America/New_York")
    manager = UserFactory(username="manager@routes.test", email="manager@routes.test")
    analyst = UserFactory(username="analyst@routes.test", email="analyst@routes.test")
    MembershipFactory(organization=org, user=manager, role=Role.MANAGER)
    MembershipFactory(organization=org, user=analyst, role=Role.ANALYST)
    campaign = CampaignFactory(organization=org, name="Auto Insurance")
    weekdays = {day: [["08:00", "20:00"]] for day in WEEKDAYS}
    east = BuyerFactory(organization=org, name="East Desk", business_hours=weekdays)
    BuyerFactory(
        organization=org, name="West Desk", timezone="America/Los_Angeles", business_hours={}
    )
    routing_plan_save(
        organization=org,
        campaign=campaign,
        targets=[PlanTargetInput(east.pk, 1, 1)],
        note="East alone",
        created_by=manager,
    )
    return org, manager, analyst, campaign


def _shot(page, name: str) -> None:
    screenshot(page, f"routing-{name}-1440")


def _log_in(page, origin: str, email: str) -> None:
    page.goto(f"{origin}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/")


def test_a_manager_sets_caps_and_a_two_tier_plan_and_an_analyst_reads_them(
    live_server, browser, routing_tenant
):
    org, manager, analyst, campaign = routing_tenant
    origin = live_server.url
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    refused: list[str] = []  # the editor's script runs under the CSP: nothing refused
    page.on("console", lambda m: "Refused" in m.text and refused.append(m.text))
    page.on("pageerror", lambda error: refused.append(str(error)))
    _log_in(page, origin, manager.email)

    # West Desk: caps, geography, and weekday hours instead of around the clock.
    page.goto(f"{origin}/settings/buyers/")
    page.get_by_role("link", name="West Desk", exact=True).click()
    page.get_by_label("These weekly hours").check()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"):
        page.get_by_label(f"{day}, window 1 opens").fill("07:00")
        page.get_by_label(f"{day}, window 1 closes").fill("19:00")
    page.get_by_label("Concurrency cap").fill("2")
    page.get_by_label("Daily cap").fill("40")
    page.get_by_label("Only callers from").fill("US-CA, US-NV")
    page.get_by_label("Ring timeout (seconds)").fill("25")
    _shot(page, "01-buyer-caps")
    page.get_by_role("button", name="Save buyer").click()
    page.wait_for_url("**/settings/buyers/")
    assert page.get_by_text("2 at once · 40/day · only US-CA, US-NV").count() == 1
    west = Buyer.objects.get(organization=org, name="West Desk")
    assert (west.concurrency_cap, west.daily_cap, west.ring_timeout_seconds) == (2, 40, 25)
    assert west.geo_allow == ["US-CA", "US-NV"]
    assert west.business_hours["sat"] == [["07:00", "19:00"]] and west.business_hours["sun"] == []

    # The plan: from the campaign's settings, East in tier 1, West added as tier 2.
    page.goto(f"{origin}/settings/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Routing plan of this campaign").click()
    page.wait_for_url(f"**/settings/campaigns/{campaign.pk}/routing/")
    assert page.locator("#id_targets-0-buyer").input_value() == str(
        Buyer.objects.get(organization=org, name="East Desk").pk
    )
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Add a buyer").click()
    # The script added a third row (the page had the plan's row and one blank) in place.
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#id_targets-TOTAL_FORMS").input_value() == "3"
    page.locator("#id_targets-2-buyer").select_option(label="West Desk")
    page.locator("#id_targets-2-tier").fill("2")
    page.locator("#id_targets-2-weight").fill("1")
    page.get_by_label("Note").fill("West as backup")
    _shot(page, "02-plan-edit")
    page.get_by_role("button", name="Save as version 2").click()
    page.wait_for_load_state()
    assert page.get_by_text("Saved version 2 of the plan.").count() == 1
    warnings = page.locator(".plan-warnings")
    assert "Every target is closed on Sundays." in warnings.inner_text()
    history = page.locator("#plan-history-title + .table-wrap").inner_text()
    assert "Version 2 (current)" in history and "West as backup" in history
    assert "Version 1" in history and "East alone" in history
    _shot(page, "03-plan-saved")
    plan = RoutingPlan.objects.get(campaign=campaign, version=2)
    assert sorted(plan.targets.values_list("buyer__name", "tier", "weight")) == [
        ("East Desk", 1, 1),
        ("West Desk", 2, 1),
    ]
    page.get_by_role("link", name="Version 1", exact=True).click()
    page.wait_for_url("**/routing/v1/")
    assert "West Desk" not in page.locator("main table").inner_text()
    assert refused == []
    context.close()

    # The analyst: the same plan and buyer, no form to change them.
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, origin, analyst.email)
    page.goto(f"{origin}/settings/campaigns/{campaign.pk}/routing/")
    assert page.locator("form.settings-form").count() == 0
    assert page.get_by_text("only owners and managers can change them").count() == 1
    table = page.locator("main section.card table").first.inner_text()
    assert "East Desk" in table and "West Desk" in table
    assert "Every target is closed on Sundays." in page.locator(".plan-warnings").inner_text()
    _shot(page, "04-plan-read-only")
    page.goto(f"{origin}/settings/buyers/{west.pk}/")
    assert page.locator("input[name=daily_cap]").count() == 0
    details = page.locator("dl.details").inner_text()
    assert "40" in details and "US-CA, US-NV" in details
    context.close()
