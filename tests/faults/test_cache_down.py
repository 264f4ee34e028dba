"""Redis as the cache is down: the API keeps reading and writing, and says what it wrote.

The cache holds only request counters (rate limit, failed credential lookups) and the rollup
refresh debounce; every one of them fails open. Here the cache points at a port nobody
listens on, so each cache call fails at once, as with Redis stopped.
"""

from __future__ import annotations

import logging
import math
import socket
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from calls.models import Call, CallImport
from ppc_dashboard.tenancy import throttling
from tests.factories import CampaignFactory, TrackingNumberFactory
from tests.twilio_callbacks import completed_params, post_signed

SAMPLES = Path(__file__).resolve().parents[1] / "calls" / "samples"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "ppc_dashboard.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }


def _call(external_id: str, campaign_id: int) -> dict:
    return {
        "external_id": external_id,
        "campaign_id": campaign_id,
        "started_at": "2026-11-02T15:04:05Z",
        "status": "answered",
        "duration_seconds": 125,
    }


def test_reads_and_writes_answer_2xx_json_with_the_cache_down(
    cache_down, api_client, org, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(organization=org)
    monkeypatch.setattr(throttling, "_cache_down_logged_at", -math.inf)
    with (
        caplog.at_level(logging.WARNING, logger="ppc_dashboard.tenancy.throttling"),
        django_capture_on_commit_callbacks(execute=True),  # the refresh after the write
    ):
        posted = api_client.post(
            "/api/v1/calls/",
            [_call("down-1", campaign.id), _call("down-2", campaign.id)],
            format="json",
        )
    assert posted.status_code == 201, posted.content
    assert posted.json() == {"created": 2, "updated": 0}
    assert Call.objects.for_organization(org).count() == 2
    assert "the cache is unreachable" in caplog.text

    listed = api_client.get("/api/v1/calls/")
    assert listed.status_code == 200
    assert {c["external_id"] for c in listed.json()["results"]} == {"down-1", "down-2"}

    kpis = api_client.get("/api/v1/kpis/", {"date_from": "2026-11-01", "date_to": "2026-11-03"})
    assert kpis.status_code == 200
    assert kpis.json()["totals"]["calls"] == 2


def test_a_logged_in_member_reads_pages_with_the_cache_down(cache_down, member_client):
    response = member_client.get("/api/v1/campaigns/")
    assert response.status_code == 200


def test_a_wrong_api_key_is_still_401_with_the_cache_down(cache_down, client, org):
    response = client.get("/api/v1/calls/", HTTP_X_API_KEY="ppc_not-a-key")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")


def test_a_twilio_callback_is_answered_2xx_and_written_with_the_cache_down(cache_down, client, org):
    TrackingNumberFactory(organization=org, number="+18885550123")
    params = completed_params()
    response = post_signed(client, org.webhook_token, params)
    assert response.status_code == 204
    assert Call.objects.for_organization(org).filter(external_id=params["CallSid"]).count() == 1


def test_a_small_import_reports_the_rows_it_wrote_with_the_cache_down(cache_down, api_client, org):
    upload = SimpleUploadedFile(
        "ringba_call_log.csv", (SAMPLES / "ringba_call_log.csv").read_bytes(), "text/csv"
    )
    response = api_client.post(
        "/api/v1/imports/",
        {"file": upload, "format": "ringba", "create_missing": "true"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done"
    assert (body["rows_total"], body["rows_imported"], body["rows_failed"]) == (9, 5, 3)
    stored = Call.objects.for_organization(org).count()
    assert stored == body["rows_imported"] == 5
    assert CallImport.objects.get(pk=body["id"]).rows_imported == stored
