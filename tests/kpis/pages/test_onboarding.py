"""An empty tenant's overview leads somewhere: the first steps checklist (create a campaign,
add a tracking number, create an API key or import a CSV, see the first call arrive), each
done or not and linking to its screen, polled (`?partial=1`) so the first call shows live."""

from __future__ import annotations

import re

from calls.models import CallImport
from calls.selectors import onboarding_steps
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import CallFactory, CampaignFactory, TrackingNumberFactory


def states(organization) -> dict[str, bool]:
    return {step.key: step.done for step in onboarding_steps(organization)}


def test_a_new_tenant_has_every_step_to_do(org, other_org):
    # Another tenant's setup counts for nothing here.
    CallFactory(organization=other_org)
    api_key_create(organization=other_org, name="theirs")
    assert states(org) == {
        "campaign": False,
        "tracking_number": False,
        "data_source": False,
        "first_call": False,
    }


def test_each_step_turns_done_with_what_it_asks_for(org):
    campaign = CampaignFactory(organization=org)
    assert states(org)["campaign"] is True
    TrackingNumberFactory(organization=org, campaign=campaign)
    assert states(org)["tracking_number"] is True
    api_key_create(organization=org, name="ringba")
    assert states(org)["data_source"] is True
    CallFactory(organization=org, campaign=campaign)
    assert states(org)["first_call"] is True


def test_a_csv_import_is_a_data_source_too(org):
    CallImport.objects.create(organization=org, format="native", file="imports/x.csv")
    assert states(org)["data_source"] is True


def test_the_empty_overview_shows_the_checklist_with_links(member_client, org):
    CampaignFactory(organization=org)
    page = member_client.get("/").content.decode()
    checklist = page.split('id="onboarding"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'data-step="campaign">\s*<span[^>]*>✓</span>', checklist)
    assert "Done" in checklist and "To do" in checklist
    for url in ("/settings/campaigns/", "/settings/tracking-numbers/", "/settings/api-keys/"):
        assert f'href="{url}"' in checklist
    assert 'href="/settings/imports/"' in checklist
    assert 'href="/calls/"' in checklist
    assert 'data-poll-url="/?partial=1"' in page
    assert "No calls yet" in page  # the ways calls come in stay below it


def test_the_campaign_step_links_to_creating_one_until_there_is_one(member_client, org):
    page = member_client.get("/").content.decode()
    assert 'href="/settings/campaigns/new/"' in page


def test_the_checklist_polls_through_a_static_script_not_an_inline_one(member_client, org):
    page = member_client.get("/").content.decode()
    assert '<script src="/static/js/onboarding.js" defer></script>' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


def test_the_partial_answers_the_checklist_alone_and_says_when_the_first_call_came(
    member_client, org
):
    waiting = member_client.get("/?partial=1").content.decode()
    assert "<html" not in waiting
    assert 'data-first-call="waiting"' in waiting
    CallFactory(organization=org)
    arrived = member_client.get("/?partial=1").content.decode()
    assert "<html" not in arrived
    assert 'data-first-call="done"' in arrived


def test_a_tenant_with_calls_sees_its_kpis_not_the_checklist(member_client, org):
    CallFactory(organization=org)
    page = member_client.get("/").content.decode()
    assert 'id="onboarding"' not in page
