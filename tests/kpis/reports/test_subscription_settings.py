"""The weekly report subscription page: writers subscribe with a page's filters, readers do
not; filters never name another tenant's campaign.
"""

from __future__ import annotations

import pytest

from kpis.models import ReportSubscription
from tests.factories import (
    BuyerFactory,
    CampaignFactory,
    MembershipFactory,
    PublisherFactory,
    UserFactory,
)


def text(response) -> str:
    return response.content.decode()


def me(client, filters: str = "", frequency: str = "weekly") -> dict:
    """The form data of the logged-in member subscribing themselves."""
    return {"member": client.user.pk, "frequency": frequency, "filters": filters}


@pytest.fixture
def rival_campaign(other_org):
    return CampaignFactory(organization=other_org, name="Rival campaign")


# --- Weekly report subscriptions -----------------------------------------------------------


def test_manager_subscribes_to_the_weekly_report(member_client, org):
    response = member_client.post("/settings/reports/", me(member_client))
    assert response.status_code == 302
    subscription = ReportSubscription.objects.for_organization(org).get(user=member_client.user)
    assert subscription.filters == ""
    assert "You are subscribed" in text(member_client.get("/settings/reports/"))


def test_subscription_keeps_the_report_filters_only(member_client, org):
    campaign = CampaignFactory(organization=org)
    publisher = PublisherFactory(organization=org)
    data = me(
        member_client,
        filters=f"?range=7&campaign={campaign.pk}&publisher={publisher.pk}&vertical=legal",
    )
    assert member_client.post("/settings/reports/", data).status_code == 302
    subscription = ReportSubscription.objects.for_organization(org).get()
    assert subscription.filters == f"campaign={campaign.pk}&publisher={publisher.pk}&vertical=legal"


def test_report_page_starts_with_the_pages_filters(member_client, org):
    buyer = BuyerFactory(organization=org)
    response = member_client.get(f"/settings/reports/?range=30&buyer={buyer.pk}")
    assert response.context["form"].initial["filters"] == f"buyer={buyer.pk}"


@pytest.mark.parametrize(
    "filters,message",
    [
        ("campaign=abc", "'abc' is not an id."),
        ("vertical=space", "'space' is not a vertical."),
        ("campaign=999999", "There is no campaign with id 999999."),
    ],
)
def test_bad_report_filters_are_shown(member_client, org, filters, message):
    response = member_client.post("/settings/reports/", me(member_client, filters))
    assert response.status_code == 200
    assert message in response.context["form"].errors["filters"]
    assert not ReportSubscription.objects.for_organization(org).exists()


def test_report_filters_cannot_name_another_tenants_campaign(member_client, org, rival_campaign):
    response = member_client.post(
        "/settings/reports/", me(member_client, f"campaign={rival_campaign.pk}")
    )
    assert response.status_code == 200
    assert not ReportSubscription.objects.exists()


def test_resubscribing_updates_the_filters_and_keeps_the_sent_week(member_client, org):
    campaign = CampaignFactory(organization=org)
    ReportSubscription.objects.create(
        organization=org, user=member_client.user, last_sent_from="2026-11-02"
    )
    data = me(member_client, f"campaign={campaign.pk}")
    assert member_client.post("/settings/reports/", data).status_code == 302
    subscription = ReportSubscription.objects.get()
    assert subscription.filters == f"campaign={campaign.pk}"
    assert str(subscription.last_sent_from) == "2026-11-02"


def test_unsubscribe_removes_only_my_subscription(member_client, org):
    colleague = MembershipFactory(organization=org)
    ReportSubscription.objects.create(organization=org, user=member_client.user)
    ReportSubscription.objects.create(organization=org, user=colleague.user)
    response = member_client.post("/settings/reports/unsubscribe/")
    assert response.status_code == 302
    assert list(ReportSubscription.objects.values_list("user", flat=True)) == [colleague.user_id]
    assert member_client.get("/settings/reports/unsubscribe/").status_code == 405


def test_managers_see_the_subscribers_of_their_organization(member_client, org, other_org):
    colleague = MembershipFactory(organization=org, user=UserFactory(email="boss@acme.test"))
    ReportSubscription.objects.create(organization=org, user=colleague.user, filters="campaign=1")
    rival = MembershipFactory(organization=other_org, user=UserFactory(email="spy@rival.test"))
    ReportSubscription.objects.create(organization=other_org, user=rival.user)
    page = text(member_client.get("/settings/reports/"))
    assert "boss@acme.test" in page and "campaign=1" in page
    assert "spy@rival.test" not in page


def test_viewer_neither_subscribes_nor_sees_the_subscribers(viewer_client, org):
    colleague = MembershipFactory(organization=org, user=UserFactory(email="boss@acme.test"))
    ReportSubscription.objects.create(organization=org, user=colleague.user)
    response = viewer_client.get("/settings/reports/")
    assert response.status_code == 200
    assert "boss@acme.test" not in text(response)
    assert viewer_client.post("/settings/reports/", me(viewer_client)).status_code == 403
    assert not ReportSubscription.objects.filter(user=viewer_client.user).exists()
