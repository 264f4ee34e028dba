"""Issue 13's walk in a real browser (Debian's Chromium through Playwright): a fresh tenant's
owner sets the account up through the screens alone (campaign, publisher, buyer with its
weekly hours, tracking numbers pasted, ad spend in the grid and by CSV, an API key), posts
one call with that key over HTTP, and watches the overview's first steps turn done and the
call arrive on the overview. Every page is shot at 1440x900 and 390x844 into
artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calls.models import AdSpend, Campaign
from ppc_dashboard.tenancy.models import Role
from publishers.models import Publisher
from routing.models import Buyer, TrackingNumber
from tests.browser import CHROMIUM, screenshot
from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
def fresh_tenant(transactional_db):
    org = OrganizationFactory(slug="fresh", name="Fresh Calls", timezone="America/New_York")
    owner = UserFactory(username="owner@fresh.test", email="owner@fresh.test")
    MembershipFactory(organization=org, user=owner, role=Role.OWNER)
    return org, owner


def _shots(page, name: str) -> None:
    """The page as it is now, at both widths (the phone shot of the same state: a page that
    answers a POST cannot be loaded again)."""
    screenshot(page, f"setup-{name}-1440")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # charts follow their box (a ResizeObserver) before the shot
    screenshot(page, f"setup-{name}-390")
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(300)


def _step_states(page) -> dict[str, str]:
    steps = page.locator("#onboarding [data-step]")
    return {
        steps.nth(i).get_attribute("data-step"): steps.nth(i).locator(".step-status").inner_text()
        for i in range(steps.count())
    }


def test_a_new_tenant_is_set_up_through_the_screens_and_sees_its_first_call(
    live_server, browser, fresh_tenant
):
    import httpx

    org, owner = fresh_tenant
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # An empty overview: the first steps, none done, each linking to its screen.
    assert _step_states(page) == {
        "campaign": "TO DO",
        "tracking_number": "TO DO",
        "data_source": "TO DO",
        "first_call": "TO DO",
    }
    _shots(page, "01-overview-empty")

    # Campaign, from the checklist's link.
    page.locator("#onboarding").get_by_role("link", name="Create a campaign").click()
    page.wait_for_url("**/settings/campaigns/new/")
    page.get_by_label("Name").fill("Auto Insurance")
    page.get_by_label("Vertical").select_option("insurance")
    page.get_by_label("Qualifying seconds").fill("120")
    page.get_by_label("Payout per qualified call").fill("35")
    page.get_by_label("RPM floor").fill("1.50")
    page.get_by_label("Duplicate window (days)").fill("14")
    _shots(page, "02-campaign-new")
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url("**/settings/campaigns/")
    assert page.get_by_text("Created the campaign Auto Insurance.").count() == 1
    _shots(page, "03-campaigns")
    campaign = Campaign.objects.get(organization=org)
    assert (campaign.vertical, campaign.qualifying_seconds, campaign.duplicate_window_days) == (
        "insurance",
        120,
        14,
    )
    page.get_by_role("link", name="Auto Insurance", exact=True).click()
    page.wait_for_url(f"**/settings/campaigns/{campaign.pk}/")
    _shots(page, "04-campaign-edit")
    page.get_by_role("link", name="Verdict thresholds of this campaign").click()
    page.wait_for_url(f"**/settings/campaigns/{campaign.pk}/thresholds/")
    _shots(page, "05-campaign-thresholds")

    # Publisher.
    page.locator(".settings-nav").get_by_role("link", name="Publishers").click()
    page.wait_for_url("**/settings/publishers/")
    _shots(page, "06-publishers-empty")
    page.get_by_role("link", name="New publisher").click()
    page.get_by_label("Name").fill("Star Media")
    page.get_by_label("External id").fill("sub-7")
    _shots(page, "07-publisher-new")
    page.get_by_role("button", name="Create publisher").click()
    page.wait_for_url("**/settings/publishers/")
    _shots(page, "08-publishers")

    # Buyer, with two windows on weekdays, a short Saturday and a closed Sunday.
    page.locator(".settings-nav").get_by_role("link", name="Buyers").click()
    page.get_by_role("link", name="New buyer").click()
    page.wait_for_url("**/settings/buyers/new/")
    page.get_by_label("Name").fill("Chicago Center")
    page.get_by_label("Phone number").fill("(312) 555-0100")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_label("These weekly hours").check()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(f"{day}, window 1 opens").fill("09:00")
        page.get_by_label(f"{day}, window 1 closes").fill("12:00")
        page.get_by_label(f"{day}, window 2 opens").fill("13:00")
        page.get_by_label(f"{day}, window 2 closes").fill("17:00")
    page.get_by_label("Saturday, window 1 opens").fill("10:00")
    page.get_by_label("Saturday, window 1 closes").fill("14:00")
    _shots(page, "09-buyer-new")
    page.get_by_role("button", name="Create buyer").click()
    page.wait_for_url("**/settings/buyers/")
    assert (
        page.get_by_text("Mon-Fri 09:00-12:00, 13:00-17:00 · Sat 10:00-14:00 · Sun closed").count()
        == 1
    )
    _shots(page, "10-buyers")
    buyer = Buyer.objects.get(organization=org)
    assert (buyer.phone_number, buyer.timezone) == ("+13125550100", "America/Chicago")
    assert buyer.business_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert buyer.business_hours["sun"] == []
    page.get_by_role("link", name="Chicago Center", exact=True).click()
    _shots(page, "11-buyer-edit")

    # Tracking numbers, pasted in any formatting; the invalid line is reported by number.
    page.locator(".settings-nav").get_by_role("link", name="Tracking numbers").click()
    page.wait_for_url("**/settings/tracking-numbers/")
    page.get_by_label("Numbers, one per line").fill("+1 888 555 0100\n(888) 555-0101\nnot a number")
    page.get_by_label("Campaign").select_option(label="Auto Insurance")
    page.get_by_label("Publisher").select_option(label="Star Media")
    page.get_by_role("button", name="Add numbers").click()
    report = page.locator(".paste-report")
    assert "2 added, 0 already there, 1 invalid" in report.inner_text()
    assert "Line 3" in report.inner_text()
    _shots(page, "12-tracking-numbers")
    assert set(TrackingNumber.objects.values_list("number", flat=True)) == {
        "+18885550100",
        "+18885550101",
    }

    # Ad spend: this week's grid, today's amount; and a CSV upload.
    today = org.local_today()
    page.locator(".settings-nav").get_by_role("link", name="Ad spend").click()
    page.wait_for_url("**/settings/ad-spend/")
    page.get_by_label(f"{today:%a}, {today:%b} {today.day}").fill("125")
    _shots(page, "13-ad-spend-grid")
    page.get_by_role("button", name="Save ad spend").click()
    page.wait_for_selector(".message.success")
    _shots(page, "14-ad-spend-saved")
    page.get_by_role("link", name="Upload a CSV").click()
    page.wait_for_url("**/settings/ad-spend/upload/")
    yesterday = today - dt.timedelta(days=1)
    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "spend.csv",
                "mimeType": "text/csv",
                "buffer": (
                    f"day,campaign,publisher,amount\n{yesterday},Auto Insurance,Star Media,40\n"
                ).encode(),
            }
        ]
    )
    _shots(page, "15-ad-spend-upload")
    page.get_by_role("button", name="Upload ad spend").click()
    page.wait_for_selector(".message.success")
    assert AdSpend.objects.for_organization(org).count() == 2

    # An API key, created on its page; the key is shown once.
    page.locator(".settings-nav").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("first integration")
    page.get_by_role("button", name="Create key").click()
    raw_key = page.locator("#raw-key").input_value()
    assert raw_key.startswith("ppc_")
    _shots(page, "16-api-key-created")
    page.goto(f"{live_server.url}/settings/")
    _shots(page, "17-settings-index")

    # Back on the overview: three steps done, waiting for the first call.
    page.goto(f"{live_server.url}/")
    assert _step_states(page) == {
        "campaign": "DONE",
        "tracking_number": "DONE",
        "data_source": "DONE",
        "first_call": "TO DO",
    }
    _shots(page, "18-overview-waiting")

    # The first call, posted with the new key to a tracking number set up above; the open
    # overview turns it done and fills in without anyone reloading it.
    response = httpx.post(
        f"{live_server.url}/api/v1/calls/",
        headers={"X-Api-Key": raw_key},
        json={
            "external_id": "first-call",
            "tracking_number": "888-555-0100",
            "started_at": dt.datetime.now(tz=dt.UTC).isoformat(),
            "status": "answered",
            "duration_seconds": 150,
            "revenue": "60.00",
            "caller_number": "+13125550111",
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    page.wait_for_selector(".tile[data-kpi='calls'][data-value='1']", timeout=30_000)
    assert page.locator("#onboarding").count() == 0
    _shots(page, "19-overview-first-call")
    assert Publisher.objects.get(organization=org).calls.count() == 1
