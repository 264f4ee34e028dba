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
    Column,
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
    columns = (
        Column("call_id", ("uuid",), required=True),
        Column("started", ("start_time",), required=True),
        Column("connected", ("connected",), required=True),
        Column("campaign", ("campaign_name",)),
        Column("publisher", ("affiliate_name",)),
        Column("target", ("target_name",)),
        Column("tracking_number", ("number",)),
        Column("caller", ("caller",)),
        Column("caller_state", ("caller_state",)),
        Column("talk_seconds", ("dialed_call_duration",)),
        Column("converted", ("converted",)),
        Column("revenue", ("revenue",)),
        Column("payout", ("payout",)),
        Column("duplicate", ("duplicate",)),
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
        "caller_region": "caller_state",
        "duration_seconds": "talk_seconds",
        "converted": "converted",
        "revenue": "revenue",
        "cost": "payout",
    }

    def to_item(self, row: Row, extra: Row) -> Item:
        connected = yes_no(row, "connected")
        target = cell(row, "target")
        item: Item = {
            "external_id": cell(row, "call_id"),
            "started_at": cell(row, "started"),
            "status": routed_call_status(connected=connected, rang_a_target=bool(target)),
            "duration_seconds": cell(row, "talk_seconds") if connected else 0,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "publisher"),
            "buyer_name": target,
            "tracking_number": cell(row, "tracking_number"),
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
