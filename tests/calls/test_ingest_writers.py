"""The PostgreSQL fast path and the portable ORM path of the upsert write the same rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection  # noqa: F401  (used by the skipif string)

from calls.ingest import call_ingest_batch, upsert_calls_orm, upsert_calls_postgres
from calls.models import Call
from tests.factories import CampaignFactory, PublisherFactory

WRITERS = [
    pytest.param(upsert_calls_orm, id="orm"),
    pytest.param(
        upsert_calls_postgres,
        id="postgres",
        marks=pytest.mark.skipif(
            "connection.vendor != 'postgresql'", reason="PostgreSQL-only writer"
        ),
    ),
]

SNAPSHOT_FIELDS = [
    "external_id",
    "campaign_id",
    "publisher_id",
    "buyer_id",
    "tracking_number_id",
    "dialed_number",
    "caller_number",
    "caller_region",
    "started_at",
    "duration_seconds",
    "status",
    "converted",
    "converted_at",
    "revenue",
    "cost",
    "source",
    "tags",
]


def items(org_campaign: str, org_publisher: str, revenue: str = "10") -> list[dict]:
    return [
        {
            "external_id": f"w-{n}",
            "campaign_name": org_campaign,
            "publisher_name": org_publisher,
            "started_at": f"2026-11-0{1 + n % 5}T10:00:00-05:00",
            "duration_seconds": 30 * n,
            "status": "answered" if n % 3 else "no_buyer",
            "converted": n % 4 == 0,
            "revenue": revenue,
            "cost": "1.2345",
            "caller_number": f"+1312555{n:04d}",
            "tags": {"state": "IL", "n": n},
        }
        for n in range(12)
    ]


@pytest.mark.parametrize("writer", WRITERS)
def test_writer_inserts_then_updates(org, monkeypatch, writer):
    monkeypatch.setattr("calls.ingest.upsert_calls", writer)
    campaign = CampaignFactory(organization=org, name="C")
    publisher = PublisherFactory(organization=org, name="P")

    first = call_ingest_batch(organization=org, items=items("C", "P"))
    assert (first.created, first.updated) == (12, 0)
    second = call_ingest_batch(organization=org, items=items("C", "P", revenue="20"))
    assert (second.created, second.updated) == (0, 12)

    rows = list(
        Call.objects.filter(organization=org).order_by("external_id").values(*SNAPSHOT_FIELDS)
    )
    assert len(rows) == 12
    row = next(r for r in rows if r["external_id"] == "w-4")
    assert row["campaign_id"] == campaign.pk and row["publisher_id"] == publisher.pk
    assert row["started_at"] == dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
    assert row["duration_seconds"] == 120
    assert row["status"] == "answered"
    assert row["converted"] is True
    assert row["revenue"] == Decimal("20") and row["cost"] == Decimal("1.2345")
    assert row["tags"] == {"state": "IL", "n": 4}
    assert row["caller_number"] == "+13125550004"
    assert row["source"] == "api"
