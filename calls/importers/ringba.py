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
    required_columns = ("inboundCallId", "callDt", "hasConnected")
    field_columns = {
        "external_id": "inboundCallId",
        "started_at": "callDt",
        "status": "hasConnected",
        "campaign_name": "campaignName",
        "campaign": "campaignName",
        "publisher_name": "publisherName",
        "buyer_name": "targetName",
        "tracking_number": "inboundPhoneNumber",
        "caller_number": "number",
        "caller_region": f"tag:{STATE_TAG}",
        "duration_seconds": "connectedCallLengthInSeconds",
        "converted": "hasConverted",
        "revenue": "conversionAmount",
        "cost": "payoutAmount",
    }

    def to_item(self, row: Row) -> Item:
        connected = yes_no(row, "hasConnected")
        target = cell(row, "targetName")
        duration: int | str = 0
        if connected:
            duration = cell(row, "connectedCallLengthInSeconds") or seconds(
                row, "callLengthInSeconds"
            )
        tags: dict[str, object] = dict(list(tags_from_columns(row, "tag:").items())[: MAX_TAGS - 1])
        if "isDuplicate" in row:
            tags["isDuplicate"] = yes_no(row, "isDuplicate")
        item: Item = {
            "external_id": cell(row, "inboundCallId"),
            "started_at": cell(row, "callDt"),
            "status": routed_call_status(connected=connected, target=target),
            "duration_seconds": duration,
            "campaign_name": cell(row, "campaignName"),
            "publisher_name": cell(row, "publisherName"),
            "buyer_name": target,
            "tracking_number": cell(row, "inboundPhoneNumber"),
            "caller_number": cell(row, "number"),
            "caller_region": cell(row, f"tag:{STATE_TAG}"),
            "revenue": cell(row, "conversionAmount"),
            "cost": cell(row, "payoutAmount"),
            "tags": tags,
        }
        if "hasConverted" in row:
            item["converted"] = yes_no(row, "hasConverted")
        return without_blanks(item)
