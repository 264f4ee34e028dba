"""The call log as CSV, streamed: `/calls/export.csv` (the page) and `/api/v1/calls/export.csv`.

One row per call, newest first, the log's filters applied. Columns:

- `external_id`: the call's id in the source platform.
- `started_at`, `converted_at`: ISO 8601 in the tenant's time zone with its offset
  (`2026-11-02T10:04:05-05:00`); `converted_at` is empty when unknown.
- `status`: `answered`, `missed`, `no_buyer`, `abandoned` or `failed` (KPIS.md).
- `duration_seconds`: talk time in whole seconds.
- `campaign_id`, `campaign`, `publisher_id`, `publisher`, `buyer_id`, `buyer`: id and name,
  empty when the call has none.
- `caller_number` (empty when withheld), `caller_region`, `tracking_number` (the number
  dialed): numbers in E.164.
- `is_repeat`, `converted`: `true` or `false`.
- `revenue`, `cost`: plain decimals with 4 places (`45.0000`) in the tenant's currency.
- `source`: how the call arrived (`api`, `ringba`, `twilio_webhook`, ...).
- `tags`: the call's tags as one JSON object (`{"source": "google"}`, `{}` without tags), as
  the database writes it (key order and spacing may differ between PostgreSQL and SQLite).
  Keys vary from call to call: one column per key would need every row read before the
  header could be written.

Text from tenants (ids, names, numbers, regions) that a spreadsheet would run as a formula
gets a leading `'` (`ppc_dashboard.csv_cells`); the tags' JSON starts with `{`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from ppc_dashboard.csv_cells import csv_text
from ppc_dashboard.tenancy.models import Organization

from .models import Call
from .selectors import call_log_export_rows

CALL_LOG_CSV_HEADER = [
    "external_id",
    "started_at",
    "status",
    "duration_seconds",
    "campaign_id",
    "campaign",
    "publisher_id",
    "publisher",
    "buyer_id",
    "buyer",
    "caller_number",
    "caller_region",
    "tracking_number",
    "is_repeat",
    "converted",
    "converted_at",
    "revenue",
    "cost",
    "source",
    "tags",
]
# Rows per piece handed to the server: few enough to keep memory flat, enough that the
# per-piece overhead of the WSGI server stays small.
ROWS_PER_PIECE = 1000


def _local(instant: dt.datetime | None, tz: dt.tzinfo) -> str:
    return "" if instant is None else instant.astimezone(tz).isoformat()


def _money(amount: Decimal) -> str:
    return format(amount, "f")  # never 1E+1


def _text(value: str | None) -> str:
    return "" if value is None else csv_text(value)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _cells(row: tuple, tz: dt.tzinfo) -> list:
    (
        external_id,
        started_at,
        status,
        duration_seconds,
        campaign_id,
        campaign,
        publisher_id,
        publisher,
        buyer_id,
        buyer,
        caller_number,
        caller_region,
        dialed_number,
        is_repeat,
        converted,
        converted_at,
        revenue,
        cost,
        source,
        tags_json,
    ) = row
    return [
        _text(external_id),
        _local(started_at, tz),
        status,
        duration_seconds,
        campaign_id,
        _text(campaign),
        publisher_id,
        _text(publisher),
        buyer_id,
        _text(buyer),
        _text(caller_number),
        _text(caller_region),
        _text(dialed_number),
        _flag(is_repeat),
        _flag(converted),
        _local(converted_at, tz),
        _money(revenue),
        _money(cost),
        source,
        tags_json,  # a JSON object starts with "{", never a formula
    ]


def call_log_csv_pieces(calls: QuerySet[Call], tz: dt.tzinfo) -> Iterator[str]:
    """The CSV text of `calls`, in pieces of ROWS_PER_PIECE rows, the header first.

    Times are converted to `tz` here: the pieces are produced after the view has returned,
    outside any zone a page activated.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CALL_LOG_CSV_HEADER)
    for count, row in enumerate(call_log_export_rows(calls), start=1):
        writer.writerow(_cells(row, tz))
        if count % ROWS_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def call_log_csv_response(
    calls: QuerySet[Call], organization: Organization
) -> StreamingHttpResponse:
    """A download of `calls` as CSV, streamed: no more than a piece of it in memory."""
    response = StreamingHttpResponse(
        call_log_csv_pieces(calls, organization.tzinfo), content_type="text/csv; charset=utf-8"
    )
    filename = f"calls-{organization.slug}-{organization.local_today().isoformat()}.csv"
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response
