"""An import marks its days dirty and recomputes each day once after the rows are in, however
many chunks it has (issue 10: a 200,000-row import refreshed every touched day per chunk)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile

import calls.services
import kpis.rollups
from calls.models import Call
from calls.services import call_import_create, call_import_run
from kpis.models import CallRollupDaily, DirtyDay
from tests.factories import CampaignFactory, OrganizationFactory

HEADER = "external_id,started_at,status,duration_seconds,campaign_name,caller_number\n"


def native_file(rows: int, days: int) -> ContentFile:
    """Rows spread round-robin over `days` days: every chunk touches every day."""
    start = dt.datetime(2026, 10, 1, 15, 0, tzinfo=dt.UTC)
    lines = [
        f"c{i},{(start + dt.timedelta(days=i % days, minutes=i)).isoformat()},answered,120,"
        f"Auto,+1312555{i % 7:04d}\n"
        for i in range(rows)
    ]
    return ContentFile((HEADER + "".join(lines)).encode(), name="calls.csv")


def run_import(org, content: ContentFile):
    call_import = call_import_create(organization=org, upload=content, import_format="native")
    return call_import_run(call_import_id=call_import.pk)


@pytest.fixture
def recomputes(monkeypatch):
    """The days of every rollup recompute, in order."""
    seen: list[list[dt.date]] = []
    original = kpis.rollups._recompute

    def spy(organization, days, *args, **kwargs):
        seen.append(list(days or []))
        return original(organization, days, *args, **kwargs)

    monkeypatch.setattr(kpis.rollups, "_recompute", spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_import_of_many_chunks_recomputes_each_day_once_at_the_end(monkeypatch, recomputes):
    org = OrganizationFactory(slug="linear", timezone="UTC")
    CampaignFactory(organization=org, name="Auto")
    monkeypatch.setattr(calls.services, "IMPORT_CHUNK_ROWS", 4)

    call_import = run_import(org, native_file(rows=40, days=5))

    assert call_import.rows_imported == 40
    # Ten chunks, one recompute of the five days.
    assert recomputes == [[dt.date(2026, 10, d) for d in range(1, 6)]]
    assert not DirtyDay.objects.filter(organization=org).exists()
    daily = CallRollupDaily.objects.filter(organization=org)
    assert sum(daily.values_list("calls", flat=True)) == 40
    # Repeat flags are derived once for the whole file: 7 callers, the rest are repeats.
    assert sum(daily.values_list("repeat_calls", flat=True)) == 33
    assert Call.objects.filter(organization=org, is_repeat=True).count() == 33


@pytest.mark.django_db(transaction=True)
def test_import_that_stops_halfway_still_refreshes_what_it_wrote(monkeypatch, recomputes):
    org = OrganizationFactory(slug="halfway", timezone="UTC")
    CampaignFactory(organization=org, name="Auto")
    monkeypatch.setattr(calls.services, "IMPORT_CHUNK_ROWS", 4)
    original = calls.services._import_chunk
    chunks = []

    def failing_third_chunk(*args, **kwargs):
        chunks.append(1)
        if len(chunks) == 3:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(calls.services, "_import_chunk", failing_third_chunk)

    call_import = run_import(org, native_file(rows=20, days=2))

    assert call_import.status == "failed"
    assert "disk full" in call_import.detail
    assert Call.objects.filter(organization=org).count() == 8
    assert len(recomputes) == 1
    assert not DirtyDay.objects.filter(organization=org).exists()
    daily = CallRollupDaily.objects.filter(organization=org)
    assert sum(daily.values_list("calls", flat=True)) == 8
