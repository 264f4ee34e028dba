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
    Item,
    Preset,
    Row,
    amount,
    cell,
    seconds,
    without_blanks,
)

CALL_TRANSACTION_TYPE = "call"


class InvocaPreset(Preset):
    name = "invoca"
    source = CallSource.INVOCA
    required_columns = ("transaction_id", "start_time_utc", "connect_duration")
    field_columns = {
        "external_id": "transaction_id",
        "started_at": "start_time_utc",
        "status": "connect_duration",
        "campaign_name": "advertiser_campaign_name",
        "campaign": "advertiser_campaign_name",
        "publisher_name": "affiliate_name",
        "caller_number": "calling_phone_number",
        "caller_region": "region",
        "duration_seconds": "connect_duration",
        "converted": "advertiser_payin_localized",
        "revenue": "advertiser_payin_localized",
        "cost": "affiliate_payout_localized",
    }

    def to_item(self, row: Row) -> Item | None:
        transaction_type = cell(row, "transaction_type")
        if transaction_type and transaction_type.lower() != CALL_TRANSACTION_TYPE:
            return None
        connected_seconds = seconds(row, "connect_duration")
        answered = connected_seconds > 0
        item: Item = {
            "external_id": cell(row, "corrects_transaction_id") or cell(row, "transaction_id"),
            "started_at": cell(row, "start_time_utc"),
            "status": CallStatus.ANSWERED if answered else CallStatus.MISSED,
            "duration_seconds": connected_seconds,
            "campaign_name": cell(row, "advertiser_campaign_name"),
            "publisher_name": cell(row, "affiliate_name"),
            "caller_number": cell(row, "calling_phone_number"),
            "caller_region": cell(row, "region"),
            "revenue": cell(row, "advertiser_payin_localized"),
            "cost": cell(row, "affiliate_payout_localized"),
            "tags": without_blanks(
                {
                    "complete_call_id": cell(row, "complete_call_id"),
                    "call_result": cell(row, "call_result_description_detail"),
                }
            ),
        }
        if "advertiser_payin_localized" in row:
            item["converted"] = amount(row, "advertiser_payin_localized") > 0
        return without_blanks(item)
