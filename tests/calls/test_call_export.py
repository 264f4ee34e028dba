"""The call log as CSV (calls/call_log_csv.py): `/calls/export.csv` for a logged-in member and
`/api/v1/calls/export.csv` for the API, with the log's filters, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from calls.call_log_csv import CALL_LOG_CSV_HEADER
from tests.factories import CallFactory, PublisherFactory

PAGE = "/calls/export.csv"
API = "/api/v1/calls/export.csv"
INSTANT = dt.datetime(2026, 11, 2, 15, 4, 5, tzinfo=dt.UTC)


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.DictReader(io.StringIO(body(response)))
    assert reader.fieldnames == CALL_LOG_CSV_HEADER
    return list(reader)


@pytest.fixture(params=["page", "api"])
def export(request, member_client, api_client):
    """GET the export with a query string, through the page or the API."""
    client, url = (member_client, PAGE) if request.param == "page" else (api_client, API)
    return lambda query="": client.get(f"{url}?{query}")


# --- The file ---------------------------------------------------------------------------------


def test_export_row_holds_every_column_in_its_documented_form(export, org):
    call = CallFactory(
        organization=org,
        external_id="RGB123",
        started_at=INSTANT,
        status="answered",
        duration_seconds=125,
        caller_number="+13125550100",
        caller_region="IL",
        dialed_number="+18885550100",
        is_repeat=True,
        converted=True,
        converted_at=INSTANT + dt.timedelta(hours=2),
        revenue=Decimal("45.5"),
        cost=Decimal("12.5"),
        tags={"source": "google", "score": 5},
    )
    [row] = rows(export())
    assert row == {
        "external_id": "RGB123",
        "started_at": "2026-11-02T10:04:05-05:00",
        "status": "answered",
        "duration_seconds": "125",
        "campaign_id": str(call.campaign_id),
        "campaign": call.campaign.name,
        "publisher_id": str(call.publisher_id),
        "publisher": call.publisher.name,
        "buyer_id": str(call.buyer_id),
        "buyer": call.buyer.name,
        "caller_number": "+13125550100",
        "caller_region": "IL",
        "tracking_number": "+18885550100",
        "is_repeat": "true",
        "converted": "true",
        "converted_at": "2026-11-02T12:04:05-05:00",
        "revenue": "45.5000",
        "cost": "12.5000",
        "source": "api",
        "tags": row["tags"],
    }
    assert json.loads(row["tags"]) == {"source": "google", "score": 5}


def test_export_times_carry_the_offset_of_their_day(export, org):
    # New York is UTC-4 in summer, UTC-5 in winter: each time has its own day's offset.
    CallFactory(organization=org, started_at=dt.datetime(2026, 7, 1, 15, 4, 5, tzinfo=dt.UTC))
    CallFactory(organization=org, started_at=INSTANT)
    assert [row["started_at"] for row in rows(export())] == [
        "2026-11-02T10:04:05-05:00",
        "2026-07-01T11:04:05-04:00",
    ]


def test_export_of_a_call_without_campaign_publisher_buyer_or_tags(export, org):
    CallFactory(organization=org, campaign=None, publisher=None, buyer=None, caller_number="")
    [row] = rows(export())
    for column in ("campaign_id", "campaign", "publisher", "buyer_id", "caller_number"):
        assert row[column] == ""
    assert (row["converted_at"], row["tags"], row["converted"]) == ("", "{}", "false")


def test_export_cells_never_run_as_formulas(export, org):
    formula = '=HYPERLINK("http://evil.example","x")'
    call = CallFactory(organization=org, external_id="@SUM(A1)", caller_region="-1+1")
    call.campaign.name = formula
    call.campaign.save()
    [row] = rows(export())
    assert row["campaign"] == "'" + formula
    assert row["external_id"] == "'@SUM(A1)"
    assert row["caller_region"] == "'-1+1"
    assert row["caller_number"] == "+13125550100"  # a plain number, not a formula


# --- Filters and tenants ----------------------------------------------------------------------


def test_export_has_the_calls_of_the_logs_filters_newest_first(export, org):
    star = PublisherFactory(organization=org, name="Star")
    for n, (publisher, status) in enumerate(
        [(star, "answered"), (star, "missed"), (None, "missed"), (star, "failed")]
    ):
        CallFactory(
            organization=org,
            external_id=f"c{n}",
            publisher=publisher,
            status=status,
            started_at=INSTANT + dt.timedelta(minutes=n),
            tags={"source": "google" if n % 2 else "bing"},
        )
    ids = lambda query: [row["external_id"] for row in rows(export(query))]  # noqa: E731
    assert ids("") == ["c3", "c2", "c1", "c0"]
    assert ids(f"publisher={star.pk}&status=missed&status=failed") == ["c3", "c1"]
    assert ids("tag=source:google") == ["c3", "c1"]
    assert ids("date_from=2026-11-03") == []


def test_export_never_holds_another_tenants_calls(export, org, other_org):
    CallFactory(organization=org, external_id="own")
    rival = CallFactory(organization=other_org, external_id="rival-call")
    assert [row["external_id"] for row in rows(export())] == ["own"]
    assert rows(export(f"publisher={rival.publisher_id}")) == []


@pytest.mark.parametrize("query", ["is_repeat=maybe", "caller=anonymous", "tag=source"])
def test_export_with_an_invalid_filter_is_a_400_not_the_whole_log(export, org, query):
    CallFactory(organization=org, external_id="any")
    response = export(query)
    assert response.status_code == 400
    assert query.split("=")[0] in response.content.decode()
    assert "any" not in response.content.decode()


def test_api_export_errors_are_json_by_field(api_client, org):
    response = api_client.get(f"{API}?is_repeat=maybe", HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response.json()["errors"] == {"is_repeat": ["Enter true or false."]}


def test_api_export_answers_a_client_that_accepts_only_csv(api_client, org):
    CallFactory(organization=org)
    response = api_client.get(API, HTTP_ACCEPT="text/csv")
    assert len(rows(response)) == 1


def test_export_needs_a_login_or_a_key(db):
    assert Client().get(PAGE)["Location"].startswith("/login/")
    assert Client().get(API).status_code in (401, 403)


def test_export_is_a_download_named_for_the_tenant(member_client, org):
    response = member_client.get(PAGE)
    assert response["Content-Disposition"] == (
        f'attachment; filename="calls-acme-{org.local_today().isoformat()}.csv"'
    )


# --- Streaming --------------------------------------------------------------------------------


def test_export_streams_pieces_from_a_chunked_read(member_client, org, monkeypatch):
    """The view returns before any call is read; the rows then come from QuerySet.iterator
    (a server-side cursor on PostgreSQL), never a list, and leave in pieces of a few rows."""
    monkeypatch.setattr("calls.call_log_csv.ROWS_PER_PIECE", 2)
    for n in range(5):
        CallFactory(organization=org, external_id=f"c{n}")
    iterated: list[tuple[QuerySet, int]] = []
    real_iterator = QuerySet.iterator

    def spy(queryset, chunk_size=None):
        iterated.append((queryset, chunk_size))
        return real_iterator(queryset, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)

    with CaptureQueriesContext(connection) as before_reading:
        response = member_client.get(PAGE)
    assert isinstance(response, StreamingHttpResponse)
    assert not any("external_id" in query["sql"] for query in before_reading.captured_queries)

    pieces = [piece.decode() for piece in response.streaming_content]
    assert [piece.count("\r\n") for piece in pieces] == [3, 2, 1]  # header + 2, 2, 1
    [(queryset, chunk_size)] = iterated
    assert chunk_size == 2000
    assert queryset._result_cache is None  # never materialized


# --- The page's link --------------------------------------------------------------------------


def test_call_log_export_link_carries_the_pages_filters(member_client, org):
    call = CallFactory(organization=org)
    page = member_client.get(f"/calls/?publisher={call.publisher_id}&status=missed&page=1")
    html = page.content.decode()
    assert f'href="/calls/export.csv?publisher={call.publisher_id}&amp;status=missed"' in html
    plain = member_client.get("/calls/").content.decode()
    assert 'href="/calls/export.csv"' in plain


def test_call_log_with_an_invalid_filter_offers_no_export(member_client, org):
    CallFactory(organization=org)
    assert "Export CSV" not in member_client.get("/calls/?is_repeat=maybe").content.decode()
