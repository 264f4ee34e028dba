"""Deleting calls (issue 10): the API's DELETE and the admin's delete, single and bulk, go
through `calls_delete`, so the KPIs of a call older than the nightly re-derivation's few days
are fresh after it, and its caller's repeat flags follow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from calls.ingest import call_ingest_batch
from calls.models import Call
from kpis.models import CallRollupDaily, DirtyDay
from tests.factories import CampaignFactory

OLD = dt.datetime(2026, 9, 1, 15, 0, tzinfo=dt.UTC)  # months before "now": not re-derived


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def post_calls(org, n: int, caller: str = "+13125550100") -> None:
    campaign = CampaignFactory(organization=org, name=f"Auto {org.slug}")
    items = [
        {
            "external_id": f"old-{i}",
            "campaign_id": campaign.id,
            "started_at": (OLD + dt.timedelta(hours=i)).isoformat(),
            "status": "answered",
            "duration_seconds": 120,
            "caller_number": caller,
        }
        for i in range(n)
    ]
    assert call_ingest_batch(organization=org, items=items).ok


def rollup_calls(org) -> tuple[int, int]:
    """(calls, repeat calls) in the tenant's daily rollups."""
    rows = CallRollupDaily.objects.filter(organization=org)
    return (
        sum(rows.values_list("calls", flat=True)),
        sum(rows.values_list("repeat_calls", flat=True)),
    )


@pytest.fixture
def three_old_calls(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_calls(org, 3)
    assert rollup_calls(org) == (3, 2)


def test_api_delete_of_an_old_call_leaves_fresh_kpis(
    api_client, org, three_old_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete("/api/v1/calls/old-0/")

    assert response.status_code == 204
    assert not Call.objects.for_organization(org).filter(external_id="old-0").exists()
    # The caller's next call is no longer a repeat: its first call is gone.
    assert rollup_calls(org) == (2, 1)
    assert not DirtyDay.objects.filter(organization=org).exists()
    assert api_client.delete("/api/v1/calls/old-0/").status_code == 404


def test_api_delete_of_another_tenants_call_is_a_404_and_deletes_nothing(
    api_client, other_api_client, org, three_old_calls
):
    assert other_api_client.delete("/api/v1/calls/old-1/").status_code == 404
    assert Call.objects.for_organization(org).count() == 3


def test_a_reader_cannot_delete_a_call(viewer_client, org, three_old_calls):
    assert viewer_client.delete("/api/v1/calls/old-1/").status_code == 403
    assert Call.objects.for_organization(org).count() == 3


def test_admin_delete_of_an_old_call_leaves_fresh_kpis(
    admin_client, org, three_old_calls, django_capture_on_commit_callbacks
):
    call = Call.objects.for_organization(org).get(external_id="old-2")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/calls/call/{call.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Call.objects.filter(pk=call.pk).exists()
    assert rollup_calls(org) == (2, 1)


def test_admin_bulk_delete_of_calls_of_two_tenants_leaves_both_fresh(
    admin_client, org, other_org, three_old_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_calls(other_org, 2)
    doomed = [
        Call.objects.for_organization(org).get(external_id="old-1").pk,
        Call.objects.for_organization(other_org).get(external_id="old-0").pk,
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/calls/call/",
            {"action": "delete_selected", "_selected_action": doomed, "post": "yes"},
        )

    assert response.status_code == 302
    assert not Call.objects.filter(pk__in=doomed).exists()
    assert rollup_calls(org) == (2, 1)
    assert rollup_calls(other_org) == (1, 0)
