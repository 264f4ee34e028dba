"""A KPI response never says "fresh" over numbers read before the last refresh committed.

The rollups and the dirty marks are read by separate statements. Read the numbers first and
the marks second, and a refresh that commits in between gives numbers without the latest
writes next to `pending: false` (the faults suite caught a client trusting exactly that).
The marks are read first: at worst a response says "pending" over numbers already fresh.
"""

from __future__ import annotations

from kpis import api as kpis_api
from kpis.rollups import rollups_refresh
from tests.factories import CampaignFactory

CALL = {
    "external_id": "order-1",
    "started_at": "2026-11-02T15:04:05Z",
    "status": "answered",
    "duration_seconds": 125,
}


def test_a_refresh_between_the_reads_never_gives_fresh_with_old_numbers(
    api_client, org, monkeypatch
):
    campaign = CampaignFactory(organization=org)
    posted = api_client.post("/api/v1/calls/", {**CALL, "campaign_id": campaign.id}, format="json")
    assert posted.status_code == 201  # marked dirty; its refresh is not run yet
    real_report = kpis_api.kpis_report

    def report_then_refresh(*args, **kwargs):
        report = real_report(*args, **kwargs)
        rollups_refresh(org.pk)  # the worker commits its refresh right after the numbers
        return report

    monkeypatch.setattr(kpis_api, "kpis_report", report_then_refresh)
    response = api_client.get("/api/v1/kpis/", {"date_from": "2026-11-01", "date_to": "2026-11-03"})
    assert response.status_code == 200
    body = response.json()
    assert body["freshness"]["pending"] or body["totals"]["calls"] == 1, body["freshness"]
