"""/settings/follow-ups/: each campaign's follow-up rule set up, edited and deleted on a page,
with the API's rules (the model's bounds, one rule per campaign), the fallback hours as the
buyer screen's weekly grid; readers see it, only writers change it; another tenant's rule
is a 404."""

from __future__ import annotations

import re

import pytest

from alerts.models import MAX_FOLLOWUP_DELAY_MINUTES, FollowUpRule
from ppc_dashboard.tenancy.models import Role
from tests.factories import CampaignFactory
from tests.routing.test_buyer_setup import grid

pytestmark = pytest.mark.django_db

RULE = {
    "on_missed": "on",
    "missed_delay_minutes": "15",
    "not_converted_minutes": "60",
    "hours_mode": "always",
}


def text(response) -> str:
    return response.content.decode()


def make_rule(org, campaign, **fields) -> FollowUpRule:
    return FollowUpRule.objects.create(organization=org, campaign=campaign, **fields)


def test_the_list_shows_every_campaign_with_its_rule_or_none(org, other_org, member_client):
    auto = CampaignFactory(organization=org, name="Auto")
    CampaignFactory(organization=org, name="HVAC")
    make_rule(org, auto, missed_delay_minutes=20, fallback_hours={"mon": [["09:00", "17:00"]]})
    make_rule(other_org, CampaignFactory(organization=other_org, name="Rival secret"))
    page = text(member_client.get("/settings/follow-ups/"))
    assert "due 20 min after the call" in page
    assert "Mon 09:00-17:00" in page
    assert "HVAC" in page and "No follow-ups" in page
    assert "Rival secret" not in page
    assert page.count("Set up</a>") == 1  # HVAC's, not Auto's


def test_a_manager_creates_edits_and_deletes_a_rule(org, member_client, api_client):
    campaign = CampaignFactory(organization=org, name="Auto")
    form = text(member_client.get(f"/settings/follow-ups/new/?campaign={campaign.pk}"))
    assert f'<option value="{campaign.pk}" selected>' in form
    response = member_client.post(
        "/settings/follow-ups/new/",
        {**RULE, "campaign": campaign.pk, "on_not_converted": "on", "not_converted_minutes": "90"},
    )
    assert response.status_code == 302, text(response)
    rule = FollowUpRule.objects.get(organization=org)
    assert (rule.on_missed, rule.missed_delay_minutes) == (True, 15)
    assert (rule.on_not_converted, rule.not_converted_minutes) == (True, 90)
    assert rule.fallback_hours == {}
    # The API reads what the page wrote.
    assert (
        api_client.get(f"/api/v1/follow-up-rules/{rule.pk}/").json()["missed_delay_minutes"] == 15
    )

    response = member_client.post(
        f"/settings/follow-ups/{rule.pk}/", {**RULE, "campaign": campaign.pk}
    )
    assert response.status_code == 302, text(response)
    rule.refresh_from_db()
    assert rule.on_not_converted is False

    assert member_client.post(f"/settings/follow-ups/{rule.pk}/delete/").status_code == 302
    assert not FollowUpRule.objects.filter(pk=rule.pk).exists()


def test_the_fallback_hours_round_trip_through_the_grid(org, member_client):
    campaign = CampaignFactory(organization=org)
    two = [("09:00", "12:00"), ("13:00", "17:00")]
    data = {
        **RULE,
        "campaign": campaign.pk,
        "hours_mode": "weekly",
        **grid(mon=two, sat=[("10:00", "00:00")]),
    }
    assert member_client.post("/settings/follow-ups/new/", data).status_code == 302
    rule = FollowUpRule.objects.get(organization=org)
    assert rule.fallback_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert rule.fallback_hours["sat"] == [["10:00", "24:00"]]
    assert rule.fallback_hours["tue"] == []
    # The edit page shows the stored windows in the grid, and saving it unchanged keeps them.
    page = text(member_client.get(f"/settings/follow-ups/{rule.pk}/"))
    assert 'name="hours_mon_2_close" value="17:00"' in page
    assert re.search(r'<input type="radio" name="hours_mode" value="weekly"[^>]* checked', page)
    saved = rule.fallback_hours
    assert member_client.post(f"/settings/follow-ups/{rule.pk}/", data).status_code == 302
    rule.refresh_from_db()
    assert rule.fallback_hours == saved


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("missed_delay_minutes", str(MAX_FOLLOWUP_DELAY_MINUTES + 1), "less than or equal to"),
        ("not_converted_minutes", "0", "greater than or equal to 1"),
    ],
)
def test_a_bad_delay_is_refused_with_the_message_on_its_field(
    org, member_client, field, value, message
):
    campaign = CampaignFactory(organization=org)
    response = member_client.post(
        "/settings/follow-ups/new/", {**RULE, "campaign": campaign.pk, field: value}
    )
    assert response.status_code == 200
    page = text(response)
    # The message sits in the field's own group (its errorlist precedes the input).
    group = page.split(f'for="id_{field}"', 1)[1].split('<div class="field', 1)[0]
    assert message in group
    assert not FollowUpRule.objects.exists()


def test_a_bad_grid_day_is_refused_on_its_row(org, member_client):
    campaign = CampaignFactory(organization=org)
    data = {
        **RULE,
        "campaign": campaign.pk,
        "hours_mode": "weekly",
        **grid(tue=[("17:00", "09:00")]),
    }
    response = member_client.post("/settings/follow-ups/new/", data)
    assert response.status_code == 200
    row = text(response).split('<th scope="row">Tuesday</th>', 1)[1].split("</tr>", 1)[0]
    assert 'class="error"' in row
    assert not FollowUpRule.objects.exists()


def test_a_second_rule_for_a_campaign_is_refused_with_the_apis_message(
    org, member_client, api_client
):
    campaign = CampaignFactory(organization=org)
    make_rule(org, campaign)
    response = member_client.post("/settings/follow-ups/new/", {**RULE, "campaign": campaign.pk})
    assert response.status_code == 200
    api = api_client.post(
        "/api/v1/follow-up-rules/", {"campaign": campaign.pk}, format="json"
    ).json()
    assert api["errors"]["campaign"][0] in text(response)
    assert FollowUpRule.objects.count() == 1


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_readers_see_the_rules_but_cannot_change_them(org, make_member_client, role):
    reader = make_member_client(org, role)
    campaign = CampaignFactory(organization=org, name="Auto")
    rule = make_rule(org, campaign, missed_delay_minutes=5)
    listing = text(reader.get("/settings/follow-ups/"))
    assert "due 5 min after the call" in listing
    assert "Set up</a>" not in listing and "Delete</a>" not in listing
    detail = reader.get(f"/settings/follow-ups/{rule.pk}/")
    assert detail.status_code == 200
    assert 'name="missed_delay_minutes"' not in text(detail)  # a summary, no form
    assert "due 5 min after the call" in text(detail)
    assert reader.get("/settings/follow-ups/new/").status_code == 403
    for url in (
        "/settings/follow-ups/new/",
        f"/settings/follow-ups/{rule.pk}/",
        f"/settings/follow-ups/{rule.pk}/delete/",
    ):
        assert (
            reader.post(
                url, {**RULE, "campaign": campaign.pk, "missed_delay_minutes": "99"}
            ).status_code
            == 403
        )
    rule.refresh_from_db()
    assert rule.missed_delay_minutes == 5


def test_another_tenants_rule_and_campaign_are_out_of_reach(org, other_org, member_client):
    theirs = make_rule(other_org, CampaignFactory(organization=other_org))
    for url in (f"/settings/follow-ups/{theirs.pk}/", f"/settings/follow-ups/{theirs.pk}/delete/"):
        assert member_client.get(url).status_code == 404
        assert member_client.post(url, {**RULE, "campaign": theirs.campaign_id}).status_code == 404
    # Their campaign cannot be given a rule of ours.
    response = member_client.post(
        "/settings/follow-ups/new/", {**RULE, "campaign": theirs.campaign_id}
    )
    assert response.status_code == 200
    assert not FollowUpRule.objects.filter(organization=org).exists()
    theirs.refresh_from_db()
    assert FollowUpRule.objects.filter(pk=theirs.pk).exists()
