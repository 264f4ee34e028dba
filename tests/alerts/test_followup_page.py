"""The follow-ups page: filters by status and campaign, buttons for writers only, another
tenant's follow-ups neither listed nor changeable, bad input said on the page (never a 500)."""

import pytest
from django.urls import reverse

from alerts.models import FollowUp

from .test_followup_api import scanned

pytestmark = pytest.mark.django_db
LIST = "/follow-ups/"


def test_page_lists_and_filters_by_status_and_campaign(member_client, org, published):
    (missed,) = scanned(org, ["missed"])
    page = member_client.get(LIST)
    assert page.status_code == 200
    assert "+13125550100" in page.content.decode() and "Missed call" in page.content.decode()
    assert list(page.context["followups"]) == [missed]
    assert list(member_client.get(LIST, {"status": "lost"}).context["followups"]) == []
    other = missed.campaign_id + 1000
    assert list(member_client.get(LIST, {"campaign": other}).context["followups"]) == []
    assert list(member_client.get(LIST, {"campaign": missed.campaign_id}).context["followups"]) == [
        missed
    ]


def test_bad_filter_is_said_on_the_page(member_client, org):
    page = member_client.get(LIST, {"status": "won"})
    assert page.status_code == 200
    assert "filter-errors" in page.content.decode()


def test_buttons_mark_contacted_then_recovered(member_client, org, published):
    (followup,) = scanned(org, ["missed"])
    url = reverse("followup-update", args=[followup.pk, "contacted"])
    response = member_client.post(url, {"query": "status=open"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?status=open"
    followup.refresh_from_db()
    assert (followup.status, followup.contacted_by) == ("contacted", member_client.user.email)
    url = reverse("followup-update", args=[followup.pk, "recovered"])
    member_client.post(url, {"revenue": "45.50"})
    followup.refresh_from_db()
    assert followup.status == "recovered" and str(followup.recovered_revenue) == "45.5000"


def test_invalid_transition_and_bad_revenue_are_messages_not_errors(member_client, org, published):
    (followup,) = scanned(org, ["missed"])
    member_client.post(reverse("followup-update", args=[followup.pk, "lost"]))
    page = member_client.post(
        reverse("followup-update", args=[followup.pk, "contacted"]), follow=True
    )
    assert page.status_code == 200 and "already lost" in page.content.decode()
    (other,) = scanned(org, ["failed"], campaign=followup.campaign)
    page = member_client.post(
        reverse("followup-update", args=[other.pk, "recovered"]), {"revenue": "-3"}, follow=True
    )
    assert page.status_code == 200 and "revenue of 0 or more" in page.content.decode()
    assert FollowUp.objects.get(pk=other.pk).status == "open"


def test_readers_see_no_buttons_and_cannot_post(viewer_client, org, published):
    (followup,) = scanned(org, ["missed"])
    page = viewer_client.get(LIST)
    assert page.status_code == 200 and "Recovered</button>" not in page.content.decode()
    url = reverse("followup-update", args=[followup.pk, "lost"])
    assert viewer_client.post(url).status_code == 403
    assert FollowUp.objects.get(pk=followup.pk).status == "open"


def test_other_tenants_followups_are_not_listed_nor_changeable(
    member_client, org, other_org, published
):
    (theirs,) = scanned(other_org, ["missed"])
    assert list(member_client.get(LIST).context["followups"]) == []
    url = reverse("followup-update", args=[theirs.pk, "lost"])
    assert member_client.post(url).status_code == 404
    assert FollowUp.objects.get(pk=theirs.pk).status == "open"
