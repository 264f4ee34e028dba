"""`retreaver`: Retreaver's calls export (Calls > export to CSV).

Column mapping (Retreaver's "affiliate" is our publisher, its "target" our buyer):

| Retreaver column | item field |
| --- | --- |
| uuid | external_id |
| start_time ("2026-11-03 16:05:00 -0500", ISO 8601 or epoch) | started_at |
| campaign_name | campaign_name |
| affiliate_name | publisher_name |
| target_name | buyer_name |
| number (the tracking number dialed) | tracking_number |
| caller | caller_number |
| caller_state | caller_region |
| dialed_call_duration (time connected to the target) | duration_seconds |
| converted | converted |
| revenue | revenue |
| payout | cost (what the publisher is paid) |
| duplicate | tag `duplicate` |

Status mapping (KPIS.md), the same rule as Ringba's:

| connected | target_name | our status |
| --- | --- | --- |
| true | any | answered |
| false | set | missed (the target rang, nobody picked up) |
| false | empty | no_buyer (no target was open / under cap / matching: nothing rang) |

`duplicate` marks a repeat caller; the row is its own call (its own uuid) and is imported.
A not-connected call has no talk time, whatever dialed_call_duration says.
"""

from __future__ import annotations

from ..models import CallSource
from .base import (
    Item,
    Preset,
    Row,
    cell,
    routed_call_status,
    without_blanks,
    yes_no,
)


class RetreaverPreset(Preset):
    name = "retreaver"
    source = CallSource.RETREAVER
    required_columns = ("uuid", "start_time", "connected")
    field_columns = {
        "external_id": "uuid",
        "started_at": "start_time",
        "status": "connected",
        "campaign_name": "campaign_name",
        "campaign": "campaign_name",
        "publisher_name": "affiliate_name",
        "buyer_name": "target_name",
        "tracking_number": "number",
        "caller_number": "caller",
        "caller_region": "caller_state",
        "duration_seconds": "dialed_call_duration",
        "converted": "converted",
        "revenue": "revenue",
        "cost": "payout",
    }

    def to_item(self, row: Row) -> Item:
        connected = yes_no(row, "connected")
        target = cell(row, "target_name")
        item: Item = {
            "external_id": cell(row, "uuid"),
            "started_at": cell(row, "start_time"),
            "status": routed_call_status(connected=connected, target=target),
            "duration_seconds": cell(row, "dialed_call_duration") if connected else 0,
            "campaign_name": cell(row, "campaign_name"),
            "publisher_name": cell(row, "affiliate_name"),
            "buyer_name": target,
            "tracking_number": cell(row, "number"),
            "caller_number": cell(row, "caller"),
            "caller_region": cell(row, "caller_state"),
            "revenue": cell(row, "revenue"),
            "cost": cell(row, "payout"),
        }
        if "converted" in row:
            item["converted"] = yes_no(row, "converted")
        if "duplicate" in row:
            item["tags"] = {"duplicate": yes_no(row, "duplicate")}
        return without_blanks(item)
