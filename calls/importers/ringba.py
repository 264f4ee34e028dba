"""`ringba`: Ringba's call log export (Reporting > Call Logs > export, column keys as in its API).

Column mapping:

| Ringba column | item field |
| --- | --- |
| inboundCallId | external_id |
| callDt (epoch ms, ISO 8601 or "11/03/2026 04:05:00 PM") | started_at |
| campaignName | campaign_name |
| publisherName | publisher_name |
| targetName | buyer_name (a Ringba target is the buyer's endpoint) |
| inboundPhoneNumber (the tracking number dialed) | tracking_number |
| number (the caller) | caller_number |
| tag:InboundNumber:State | caller_region |
| connectedCallLengthInSeconds (talk time with the target) | duration_seconds |
| hasConverted | converted |
| conversionAmount | revenue |
| payoutAmount | cost (what the publisher is paid) |
| isDuplicate, every other `tag:<group>:<name>` column with a value | tags (the first 50) |

Status mapping (KPIS.md):

| hasConnected | targetName | our status |
| --- | --- | --- |
| true | any | answered |
| false | set | missed (a target rang, nobody picked up) |
| false | empty | no_buyer (no target was open / under cap / matching: nothing rang) |

`isDuplicate` is Ringba's repeat-caller flag. The row is still its own call with its own
inboundCallId, so it is imported and counted; the flag is kept as the tag `isDuplicate`.
callLengthInSeconds (the whole call, IVR and ringing included) is not talk time; it is used as
talk time only when a connected row lacks connectedCallLengthInSeconds.
"""

from __future__ import annotations

from ..ingest import MAX_TAGS
from ..models import CallSource
from .base import (
    Column,
    Item,
    Preset,
    Row,
    cell,
    routed_call_status,
    seconds,
    tags_from_columns,
    without_blanks,
    yes_no,
)

STATE_TAG = "InboundNumber:State"


class RingbaPreset(Preset):
    name = "ringba"
    source = CallSource.RINGBA
    columns = (
        Column("call_id", ("inboundCallId",), required=True),
        Column("started", ("callDt",), required=True),
        Column("connected", ("hasConnected",), required=True),
        Column("campaign", ("campaignName",)),
        Column("publisher", ("publisherName",)),
        Column("target", ("targetName",)),
        Column("tracking_number", ("inboundPhoneNumber",)),
        Column("caller", ("number",)),
        Column("talk_seconds", ("connectedCallLengthInSeconds",)),
        Column("call_seconds", ("callLengthInSeconds",)),
        Column("converted", ("hasConverted",)),
        Column("revenue", ("conversionAmount",)),
        Column("payout", ("payoutAmount",)),
        Column("duplicate", ("isDuplicate",)),
    )
    field_columns = {
        "external_id": "call_id",
        "started_at": "started",
        "status": "connected",
        "campaign_name": "campaign",
        "campaign": "campaign",
        "publisher_name": "publisher",
        "buyer_name": "target",
        "tracking_number": "tracking_number",
        "caller_number": "caller",
        "caller_region": f"tag:{STATE_TAG}",
        "duration_seconds": "talk_seconds",
        "converted": "converted",
        "revenue": "revenue",
        "cost": "payout",
    }

    def to_item(self, row: Row, extra: Row) -> Item:
        connected = yes_no(row, "connected")
        target = cell(row, "target")
        duration: int | str = 0
        if connected:
            duration = cell(row, "talk_seconds") or seconds(row, "call_seconds")
        tags: dict[str, object] = dict(
            list(tags_from_columns(extra, "tag:").items())[: MAX_TAGS - 1]
        )
        if "duplicate" in row:
            tags["isDuplicate"] = yes_no(row, "duplicate")
        item: Item = {
            "external_id": cell(row, "call_id"),
            "started_at": cell(row, "started"),
            "status": routed_call_status(connected=connected, rang_a_target=bool(target)),
            "duration_seconds": duration,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "publisher"),
            "buyer_name": target,
            "tracking_number": cell(row, "tracking_number"),
            "caller_number": cell(row, "caller"),
            "caller_region": cell(extra, f"tag:{STATE_TAG}"),
            "revenue": cell(row, "revenue"),
            "cost": cell(row, "payout"),
            "tags": tags,
        }
        if "converted" in row:
            item["converted"] = yes_no(row, "converted")
        return without_blanks(item)
