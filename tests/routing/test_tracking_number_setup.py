"""Tracking numbers pasted in bulk: each line read as the API reads a number (E.164 in the
tenant's country), a report of what was added, what was already there and which lines are
invalid with their line number and reason. Partial by design: the valid new numbers are added
even when some lines are invalid, and pasting the same text again adds nothing twice."""

from __future__ import annotations

import re
from html import unescape

from routing.models import TrackingNumber
from routing.services import TRACKING_NUMBER_PASTE_MAX_LINES
from tests.factories import CampaignFactory, PublisherFactory, TrackingNumberFactory

PASTE = "\n".join(
    [
        "+1 888 555 0100",  # 1 added
        "(888) 555-0101",  # 2 added
        "",  # blank lines are skipped
        "888.555.0102",  # 4 added
        "call me",  # 5 invalid
        "888-555-0100",  # 6 the same number as line 1
        "1-888-555-0199",  # 7 already the tenant's
        "555",  # 8 invalid
    ]
)


def report(response) -> dict[str, list[str]]:
    html = unescape(response.content.decode())
    section = html.split('class="card paste-report"', 1)[1].split("</section>", 1)[0]
    found = {}
    for title in ("Added", "Already there", "Invalid"):
        block = re.search(rf"<h3>{title}</h3><ul[^>]*>(.*?)</ul>", section, re.S)
        found[title] = re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []
    return found


def test_a_paste_adds_the_valid_new_numbers_and_reports_every_other_line(member_client, org):
    campaign = CampaignFactory(organization=org, name="Auto")
    other = CampaignFactory(organization=org, name="Home")
    publisher = PublisherFactory(organization=org, name="Star")
    TrackingNumberFactory(organization=org, number="+18885550199", campaign=other)
    response = member_client.post(
        "/settings/tracking-numbers/",
        {"numbers": PASTE, "campaign": campaign.pk, "publisher": publisher.pk},
    )
    assert response.status_code == 200
    assert report(response) == {
        "Added": ["Line 1: +18885550100", "Line 2: +18885550101", "Line 4: +18885550102"],
        "Already there": [
            "Line 6: +18885550100 (repeats line 1)",
            "Line 7: +18885550199 (already in campaign Home)",
        ],
        "Invalid": [
            "Line 5: “call me”: 'call me' is not a phone number",
            "Line 8: “555”: '555' is not a possible phone number",
        ],
    }
    added = TrackingNumber.objects.filter(campaign=campaign)
    assert sorted(added.values_list("number", flat=True)) == [
        "+18885550100",
        "+18885550101",
        "+18885550102",
    ]
    assert set(added.values_list("publisher_id", flat=True)) == {publisher.pk}
    # The number that was already there keeps its campaign.
    assert TrackingNumber.objects.get(number="+18885550199").campaign == other


def test_pasting_the_same_text_again_adds_nothing(member_client, org):
    campaign = CampaignFactory(organization=org)
    data = {"numbers": PASTE, "campaign": campaign.pk}
    member_client.post("/settings/tracking-numbers/", data)
    count = TrackingNumber.objects.count()
    again = report(member_client.post("/settings/tracking-numbers/", data))
    assert again["Added"] == []
    assert TrackingNumber.objects.count() == count


def test_numbers_without_a_country_code_are_read_in_the_tenants_country(member_client, org):
    org.country = "GB"
    org.save()
    campaign = CampaignFactory(organization=org)
    data = {"numbers": "020 7946 0018", "campaign": campaign.pk}
    member_client.post("/settings/tracking-numbers/", data)
    assert list(TrackingNumber.objects.values_list("number", flat=True)) == ["+442079460018"]


def test_a_paste_is_for_one_of_the_tenants_campaigns(member_client, org, other_org):
    CampaignFactory(organization=org)
    rival = CampaignFactory(organization=other_org)
    response = member_client.post(
        "/settings/tracking-numbers/", {"numbers": "+18885550100", "campaign": rival.pk}
    )
    assert response.status_code == 200
    assert f'Invalid pk "{rival.pk}" - object does not exist.' in unescape(
        response.content.decode()
    )
    assert not TrackingNumber.objects.exists()


def test_too_many_lines_are_refused_whole(member_client, org):
    campaign = CampaignFactory(organization=org)
    lines = "\n".join(f"+1888555{n:04d}" for n in range(TRACKING_NUMBER_PASTE_MAX_LINES + 1))
    response = member_client.post(
        "/settings/tracking-numbers/", {"numbers": lines, "campaign": campaign.pk}
    )
    assert response.status_code == 200
    assert "paste at most" in response.content.decode()
    assert not TrackingNumber.objects.exists()


def test_a_number_moves_to_another_campaign_on_its_screen(member_client, org):
    tracking = TrackingNumberFactory(organization=org, number="+18885550100")
    other = CampaignFactory(organization=org)
    response = member_client.post(
        f"/settings/tracking-numbers/{tracking.pk}/",
        {"number": "888 555 0100", "campaign": other.pk, "publisher": ""},
    )
    assert response.status_code == 302
    tracking.refresh_from_db()
    assert (tracking.number, tracking.campaign, tracking.publisher) == ("+18885550100", other, None)


def test_the_paste_box_asks_for_a_campaign_first(member_client, org):
    page = member_client.get("/settings/tracking-numbers/").content.decode()
    assert 'href="/settings/campaigns/new/"' in page
    assert 'name="numbers"' not in page
