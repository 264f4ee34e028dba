"""`invoca`: Invoca's transactions, as the Transactions API names the columns or as the report
download labels them.

Both header forms are read (headers match without regard to case, spaces and punctuation).
Invoca's "affiliate" (publisher) is our publisher; the "advertiser" pays us:

| Transactions API column | report download header | item field |
| --- | --- | --- |
| transaction_id | Transaction ID | external_id |
| corrects_transaction_id (a correction row) | Corrects Transaction ID | external_id, when set |
| start_time_utc (epoch ms), start_time_local | Call Start Time (tenant's zone) | started_at |
| advertiser_campaign_name | Campaign, Advertiser Campaign Name | campaign_name |
| affiliate_name | Publisher, Affiliate Name | publisher_name |
| calling_phone_number ("866-555-1234") | Calling Phone Number | caller_number |
| region | Region | caller_region |
| connect_duration (seconds connected) | Connected Duration ("00:04:05") | duration_seconds |
| advertiser_payin_localized ("Earned") | Payin, Earned | revenue |
| affiliate_payout_localized ("Paid") | Payout, Paid | cost |
| advertiser_payin_localized > 0 | Payin > 0 | converted |
| transaction_type | Transaction Type | rows that are not calls are skipped |
| complete_call_id | Complete Call ID | tag `complete_call_id` |
| call_result_description_detail | Call Result | tag `call_result` |
| repeat_calling_phone_number | Repeat Calling Phone Number | tag `repeat_calling_phone_number` |

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
(Post Call Event, Reported Conversion, Signal) are not calls: they are skipped (reported as
skipped). A correction row (corrects_transaction_id set) replaces the call it corrects,
because it is written under the original transaction's id.
"""

from __future__ import annotations

from ..models import CallSource, CallStatus
from ..parsing import parse_bool
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


def _yes_no_or_text(text: str) -> bool | str:
    """A flag as a boolean when it reads as one ("Yes", "false"), else the text as given."""
    try:
        return parse_bool(text) if text else ""
    except ValueError:
        return text


class InvocaPreset(Preset):
    name = "invoca"
    source = CallSource.INVOCA
    columns = (
        Column("transaction_id", ("transaction_id", "Transaction ID"), required=True),
        Column(
            "started",
            ("start_time_utc", "Call Start Time", "start_time_local", "Start Time"),
            required=True,
        ),
        Column(
            "connected_seconds",
            ("connect_duration", "Connected Duration", "Total Connected Duration"),
            required=True,
        ),
        Column("transaction_type", ("transaction_type", "Transaction Type")),
        Column("corrects", ("corrects_transaction_id", "Corrects Transaction ID")),
        Column("campaign", ("advertiser_campaign_name", "Campaign")),
        Column("publisher", ("affiliate_name", "Publisher")),
        Column("caller", ("calling_phone_number", "Calling Phone Number")),
        Column("region", ("region", "Region")),
        Column("payin", ("advertiser_payin_localized", "Payin", "Earned", "advertiser_payin")),
        Column("payout", ("affiliate_payout_localized", "Payout", "Paid", "affiliate_payout")),
        Column("complete_call_id", ("complete_call_id", "Complete Call ID")),
        Column("call_result", ("call_result_description_detail", "Call Result")),
        Column("repeat_caller", ("repeat_calling_phone_number", "Repeat Calling Phone Number")),
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
                    "repeat_calling_phone_number": _yes_no_or_text(cell(row, "repeat_caller")),
                }
            ),
        }
        if "payin" in row:
            item["converted"] = amount(row, "payin") > 0
        return without_blanks(item)
