"""The routing plan editor of a campaign: rows of buyer, tier and weight (a formset), saved
through `routing_plan_save` as the next version, its errors on the row they name, what the
plan leaves uncovered, the version history and each version; read-only for readers; another
tenant's campaign, plan or buyer is not found."""

from __future__ import annotations

import html
import re

import pytest

from ppc_dashboard.tenancy.models import Role
from routing.models import RoutingPlan
from routing.services import PlanTargetInput, routing_plan_save
from tests.factories import BuyerFactory, CampaignFactory

WEEKDAYS_AND_SATURDAY = {
    day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")
}


def rows(*targets: tuple[object, int, int], delete: tuple[int, ...] = (), initial: int = 0):
    """Form data of the editor: (buyer, tier, weight) per row; rows numbered in `delete`
    ticked Remove."""
    data = {
        "targets-TOTAL_FORMS": str(len(targets)),
        "targets-INITIAL_FORMS": str(initial),
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "100",
        "repeat_to_first_buyer": "on",
        "note": "",
    }
    for index, (buyer, tier, weight) in enumerate(targets):
        data[f"targets-{index}-buyer"] = str(getattr(buyer, "pk", buyer))
        data[f"targets-{index}-tier"] = str(tier)
        data[f"targets-{index}-weight"] = str(weight)
        if index in delete:
            data[f"targets-{index}-DELETE"] = "on"
    return data


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, name="Auto Insurance")


@pytest.fixture
def buyers(org):
    return [
        BuyerFactory(organization=org, name=name, business_hours=WEEKDAYS_AND_SATURDAY)
        for name in ("Alpha", "Bravo", "Charlie")
    ]


def url(campaign) -> str:
    return f"/settings/campaigns/{campaign.pk}/routing/"


def test_saving_the_rows_writes_the_next_version_and_keeps_the_last(
    member_client, campaign, buyers
):
    alpha, bravo, charlie = buyers
    data = {**rows((alpha, 1, 3), (bravo, 1, 1), (charlie, 2, 1)), "note": "launch"}
    response = member_client.post(url(campaign), data)
    assert response.status_code == 302, text(response)
    data = {**rows((alpha, 1, 1), (charlie, 2, 5), (bravo, 1, 1), delete=(2,)), "note": "v2"}
    assert member_client.post(url(campaign), data).status_code == 302
    first, second = RoutingPlan.objects.filter(campaign=campaign).order_by("version")
    assert (first.version, second.version) == (1, 2)
    assert sorted(first.targets.values_list("buyer__name", "tier", "weight")) == [
        ("Alpha", 1, 3),
        ("Bravo", 1, 1),
        ("Charlie", 2, 1),
    ]
    assert sorted(second.targets.values_list("buyer__name", "tier", "weight")) == [
        ("Alpha", 1, 1),
        ("Charlie", 2, 5),
    ]
    assert second.created_by == member_client.user and second.note == "v2"
    page = text(member_client.get(url(campaign)))
    assert "Saved version 2 of the plan." in page
    assert "Save as version 3" in page


def test_the_editor_starts_from_the_current_versions_rows(member_client, org, campaign, buyers):
    alpha, bravo, _ = buyers
    routing_plan_save(
        organization=org,
        campaign=campaign,
        targets=[PlanTargetInput(bravo.pk, 2, 7), PlanTargetInput(alpha.pk, 1, 4)],
        repeat_to_first_buyer=False,
    )
    page = text(member_client.get(url(campaign)))
    assert 'name="targets-INITIAL_FORMS" value="2"' in page
    # Tier order: Alpha (tier 1) is the first row.
    assert f'<option value="{alpha.pk}" selected>Alpha</option>' in page.split("targets-1-buyer")[0]
    assert 'name="targets-1-weight" value="7"' in page
    assert 'name="targets-2-buyer"' in page  # one blank row to add a buyer
    repeat_box = re.search(r'<input type="checkbox" name="repeat_to_first_buyer"[^>]*>', page)
    assert repeat_box and "checked" not in repeat_box.group(0)


def test_a_blank_extra_row_is_no_row(member_client, campaign, buyers):
    data = rows((buyers[0], 1, 1), ("", 1, 1))
    assert member_client.post(url(campaign), data).status_code == 302
    assert RoutingPlan.objects.get(campaign=campaign).targets.count() == 1


def test_a_plan_closed_on_sundays_says_so_after_saving(member_client, campaign, buyers):
    response = member_client.post(url(campaign), rows((buyers[0], 1, 1), (buyers[1], 2, 1)))
    assert response.status_code == 302
    page = text(member_client.get(url(campaign)))
    assert "What version 1 leaves uncovered" in page
    assert "Every target is closed on Sundays." in page


@pytest.mark.parametrize(
    "change, message",
    [
        ({"active": False}, "Bravo is inactive: activate it or leave it out of the plan."),
        ({"phone_number": ""}, "Bravo has no phone number to send calls to: add one first."),
    ],
)
def test_the_services_refusal_is_shown_on_its_row_and_nothing_is_saved(
    member_client, campaign, buyers, change, message
):
    bravo = buyers[1]
    for name, value in change.items():
        setattr(bravo, name, value)
    bravo.save()
    response = member_client.post(url(campaign), rows((buyers[0], 1, 1), (bravo, 2, 1)))
    assert response.status_code == 200
    page = text(response)
    assert f'<span class="error" id="id_targets-1-buyer_error">{message}</span>' in page
    assert not RoutingPlan.objects.exists()


def test_a_tier_out_of_bounds_gets_the_services_message(member_client, campaign, buyers):
    response = member_client.post(url(campaign), rows((buyers[0], 1, 1), (buyers[1], 21, 1)))
    assert response.status_code == 200
    assert 'id="id_targets-1-tier_error">Tier must be a whole number from 1' in text(response)
    assert not RoutingPlan.objects.exists()


def test_the_same_buyer_twice_is_refused(member_client, campaign, buyers):
    response = member_client.post(url(campaign), rows((buyers[0], 1, 1), (buyers[0], 2, 1)))
    assert response.status_code == 200
    assert "Alpha is already in the plan" in text(response)
    assert not RoutingPlan.objects.exists()


def test_a_plan_without_rows_is_explained(member_client, campaign, buyers):
    data = rows((buyers[0], 1, 1), delete=(0,))
    response = member_client.post(url(campaign), data)
    assert response.status_code == 200
    assert "A plan needs at least one buyer." in text(response)
    assert not RoutingPlan.objects.exists()


def test_add_a_buyer_without_script_posts_the_rows_and_gets_one_more(
    member_client, campaign, buyers
):
    data = {**rows((buyers[0], 1, 2)), "add_row": "1"}
    response = member_client.post(url(campaign), data)
    assert response.status_code == 200
    page = text(response)
    assert 'name="targets-TOTAL_FORMS" value="2"' in page
    assert 'name="targets-0-weight" value="2"' in page
    assert 'name="targets-1-buyer"' in page
    assert not RoutingPlan.objects.exists()


def test_the_history_lists_every_version_and_each_can_be_viewed(member_client, campaign, buyers):
    alpha, bravo, _ = buyers
    member_client.post(url(campaign), {**rows((alpha, 1, 3), (bravo, 1, 1)), "note": "launch"})
    member_client.post(url(campaign), {**rows((bravo, 1, 1)), "note": "Alpha paused"})
    page = text(member_client.get(url(campaign)))
    assert "Version 2</a> (current)" in page and "Alpha paused" in page and "launch" in page
    assert page.count(member_client.user.email) >= 2
    first = text(member_client.get(url(campaign) + "v1/"))
    assert "version 1" in first and "(current)" not in first
    # Version 1 keeps its rows: Alpha with 3 of 4 first tries in tier 1.
    assert "Alpha</a></th>\n      <td>3</td>\n      <td>75%</td>" in first
    assert member_client.get(url(campaign) + "v3/").status_code == 404


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_readers_see_the_plan_read_only(make_member_client, org, campaign, buyers, role):
    routing_plan_save(
        organization=org, campaign=campaign, targets=[PlanTargetInput(buyers[0].pk, 1, 1)]
    )
    client = make_member_client(org, role)
    page = text(client.get(url(campaign)))
    assert "targets-TOTAL_FORMS" not in page and "Save as version" not in page
    assert "Alpha</a></th>" in page
    response = client.post(url(campaign), rows((buyers[1], 1, 1)))
    assert response.status_code == 403
    assert RoutingPlan.objects.get(campaign=campaign).version == 1


def test_another_tenants_campaign_and_plan_are_not_found(member_client, other_org):
    theirs = CampaignFactory(organization=other_org)
    buyer = BuyerFactory(organization=other_org)
    routing_plan_save(
        organization=other_org, campaign=theirs, targets=[PlanTargetInput(buyer.pk, 1, 1)]
    )
    assert member_client.get(url(theirs)).status_code == 404
    assert member_client.get(url(theirs) + "v1/").status_code == 404
    assert member_client.post(url(theirs), rows((buyer, 1, 1))).status_code == 404
    assert RoutingPlan.objects.filter(campaign=theirs).count() == 1


def test_another_tenants_buyer_is_no_choice(member_client, other_org, campaign, buyers):
    theirs = BuyerFactory(organization=other_org, name="Rival Desk")
    page = text(member_client.get(url(campaign)))
    assert "Rival Desk" not in page
    response = member_client.post(url(campaign), rows((theirs, 1, 1)))
    assert response.status_code == 200
    assert f'Invalid pk "{theirs.pk}" - object does not exist.' in text(response)
    assert not RoutingPlan.objects.exists()


def test_a_tenant_without_buyers_is_sent_to_add_them(member_client, campaign):
    page = text(member_client.get(url(campaign)))
    assert "No buyers yet" in page and 'href="/settings/buyers/new/"' in page
    assert "No plan yet: calls to this campaign are not routed." in page
