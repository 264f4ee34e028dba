"""`invoca`: Invoca's transactions export (Transactions API / report as CSV, network columns).

Column mapping (Invoca's "affiliate" is our publisher, "advertiser" pays us):

| Invoca column | item field |
| --- | --- |
| transaction_id, or corrects_transaction_id on a correction row | external_id |
| start_time_utc (epoch milliseconds) | started_at |
| advertiser_campaign_name | campaign_name |
| affiliate_name | publisher_name |
| calling_phone_number ("866-555-1234") | caller_number |
| region | caller_region |
| connect_duration (seconds connected to the call center) | duration_seconds |
| advertiser_payin_localized ("Earned") | revenue |
| affiliate_payout_localized ("Paid") | cost |
| advertiser_payin_localized > 0 | converted |
| complete_call_id, call_result_description_detail | tags |

Status mapping (KPIS.md), decided from connect_duration because Invoca's call result text
varies by account:

| connect_duration | our status |
| --- | --- |
| > 0 s | answered (the call reached the advertiser's call center) |
| 0 s or empty | missed (no answer, busy, or the caller hung up in the IVR before a transfer) |

Invoca does not separate those unconnected cases reliably, and KPIS.md counts all of them as
missed, so they are not split into abandoned / no_buyer.

A row counts as converted when the advertiser paid for it: in pay per call a payin is the
billable, converted call (Ringba's hasConverted). Rows whose transaction_type is not "Call"
(Post Call Event, Reported Conversion, Signal) are not calls and are skipped. A correction
row (corrects_transaction_id set) replaces the call it corrects, because it is written under
the original transaction's id.
"""

from __future__ import annotations

from ..models import CallSource, CallStatus
from .base import (
    Column,
    Item,
    Preset,
    Row,
    Skip,
    amount,
    cell,
    seconds,
    without_blanks,
)

CALL_TRANSACTION_TYPE = "call"


class InvocaPreset(Preset):
    name = "invoca"
    source = CallSource.INVOCA
    columns = (
        Column("transaction_id", ("transaction_id",), required=True),
        Column("started", ("start_time_utc",), required=True),
        Column("connected_seconds", ("connect_duration",), required=True),
        Column("transaction_type", ("transaction_type",)),
        Column("corrects", ("corrects_transaction_id",)),
        Column("campaign", ("advertiser_campaign_name",)),
        Column("publisher", ("affiliate_name",)),
        Column("caller", ("calling_phone_number",)),
        Column("region", ("region",)),
        Column("payin", ("advertiser_payin_localized",)),
        Column("payout", ("affiliate_payout_localized",)),
        Column("complete_call_id", ("complete_call_id",)),
        Column("call_result", ("call_result_description_detail",)),
    )
    field_columns = {
        "external_id": "transaction_id",
        "started_at": "started",
        "status": "connected_seconds",
        "campaign_name": "campaign",
        "campaign": "campaign",
        "publisher_name": "publisher",
        "caller_number": "caller",
        "caller_region": "region",
        "duration_seconds": "connected_seconds",
        "converted": "payin",
        "revenue": "payin",
        "cost": "payout",
    }

    def to_item(self, row: Row, extra: Row) -> Item | Skip:
        transaction_type = cell(row, "transaction_type")
        if transaction_type and transaction_type.lower() != CALL_TRANSACTION_TYPE:
            return Skip(f"not a call: a {transaction_type} transaction")
        connected_seconds = seconds(row, "connected_seconds")
        answered = connected_seconds > 0
        item: Item = {
            "external_id": cell(row, "corrects") or cell(row, "transaction_id"),
            "started_at": cell(row, "started"),
            "status": CallStatus.ANSWERED if answered else CallStatus.MISSED,
            "duration_seconds": connected_seconds,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "publisher"),
            "caller_number": cell(row, "caller"),
            "caller_region": cell(row, "region"),
            "revenue": cell(row, "payin"),
            "cost": cell(row, "payout"),
            "tags": without_blanks(
                {
                    "complete_call_id": cell(row, "complete_call_id"),
                    "call_result": cell(row, "call_result"),
                }
            ),
        }
        if "payin" in row:
            item["converted"] = amount(row, "payin") > 0
        return without_blanks(item)
