"""`retreaver`: Retreaver's calls, as its calls API names the fields or as its export labels them.

Retreaver's "affiliate" (publisher, source) is our publisher, its "target" (buyer, call
handler) our buyer. Both header forms are read (headers match without regard to case, spaces
and punctuation, so "Start Time" is start_time):

| API field | export header | item field |
| --- | --- | --- |
| uuid | UUID, Call UUID | external_id |
| start_time ("2026-11-03 16:05:00 -0500", ISO 8601 or epoch) | Start Time | started_at |
| campaign_name | Campaign Name, Campaign | campaign_name |
| affiliate_name | Affiliate Name, Publisher Name, Publisher | publisher_name |
| target_name | Target Name, Buyer Name, Buyer | buyer_name |
| number (the tracking number dialed) | Number, Tracking Number | tracking_number |
| caller | Caller, Caller Number | caller_number |
| caller_state | Caller State | caller_region |
| dialed_call_duration (time connected to the target) | Dialed Call Duration | duration_seconds |
| connected, status, dialed_number, hold_duration | the same, spaced | status (below) |
| converted | Converted | converted |
| revenue | Revenue | revenue |
| payout | Payout | cost (what the publisher is paid) |
| duplicate, repeat, hung_up_by | Duplicate, Repeat, Hung Up By | tags of the same names |
| caller_city, caller_zip | Caller City, Caller Zip | tags of the same names |
| tags ("key:value, key:value" or a JSON object) | Tags | tags, one per key |

Status mapping (KPIS.md), the same rule as Ringba's:

| status | connected | a target rang | our status |
| --- | --- | --- | --- |
| in-progress, ringing, queued... | - | - | skipped (reported as skipped): the call is not over |
| finished (any other) | true | any | answered |
| finished | false | yes | missed (the target rang, nobody picked up) |
| finished | false | no | no_buyer (no target was open / under cap / matching: nothing rang) |

A target rang when the row names one (target_name), or when Retreaver dialed a target's
number (dialed_number set) and the caller held for it (hold_duration > 0): Retreaver leaves
target_name empty on such calls. `duplicate` and `repeat` mark a repeat caller; the row is its
own call (its own uuid) and is imported. A not-connected call has no talk time, whatever
dialed_call_duration says.
"""

from __future__ import annotations

import json

from ..ingest import MAX_TAGS
from ..models import CallSource
from .base import (
    Column,
    Item,
    Preset,
    Row,
    Skip,
    cell,
    routed_call_status,
    seconds,
    without_blanks,
    yes_no,
)

# Retreaver's statuses of a call that is not over (its finished calls say "finished").
NOT_FINAL_STATUSES = frozenset(
    {"in-progress", "in progress", "inprogress", "ringing", "queued", "initiated", "live"}
)
# Columns kept as tags of the same name.
YES_NO_TAGS = ("duplicate", "repeat")
TEXT_TAGS = ("hung_up_by", "caller_city", "caller_zip")


def _tags_cell(text: str) -> dict[str, object]:
    """Retreaver's tags cell: a JSON object, or "key:value" pairs separated by commas."""
    text = text.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return {str(k): v for k, v in parsed.items() if not isinstance(v, dict | list)}
    tags: dict[str, object] = {}
    for pair in text.replace(";", ",").split(","):
        key, separator, value = pair.partition(":")
        if key.strip():
            tags[key.strip()] = value.strip() if separator else True
    return tags


class RetreaverPreset(Preset):
    name = "retreaver"
    source = CallSource.RETREAVER
    columns = (
        Column("call_id", ("uuid", "Call UUID"), required=True),
        Column("started", ("start_time", "Start Time"), required=True),
        Column("connected", ("connected", "Connected"), required=True),
        Column("status", ("status", "Status")),
        Column("campaign", ("campaign_name", "Campaign Name", "Campaign")),
        Column("publisher", ("affiliate_name", "Publisher Name", "Publisher", "Affiliate")),
        Column("target", ("target_name", "Buyer Name", "Buyer", "Target")),
        Column("dialed_number", ("dialed_number", "Dialed Number")),
        Column("hold_seconds", ("hold_duration", "Hold Duration")),
        Column("tracking_number", ("number", "Tracking Number")),
        Column("caller", ("caller", "Caller Number")),
        Column("caller_state", ("caller_state", "Caller State")),
        Column("caller_city", ("caller_city", "Caller City")),
        Column("caller_zip", ("caller_zip", "Caller Zip")),
        Column("talk_seconds", ("dialed_call_duration", "Dialed Call Duration")),
        Column("converted", ("converted", "Converted")),
        Column("revenue", ("revenue", "Revenue")),
        Column("payout", ("payout", "Payout")),
        Column("duplicate", ("duplicate", "Duplicate")),
        Column("repeat", ("repeat", "Repeat")),
        Column("hung_up_by", ("hung_up_by", "Hung Up By")),
        Column("tags", ("tags", "Tags")),
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
        "tags": "tags",
    }

    def to_item(self, row: Row, extra: Row) -> Item | Skip:
        status = cell(row, "status")
        if status.lower() in NOT_FINAL_STATUSES:
            return Skip(f"call in progress (status {status})")
        connected = yes_no(row, "connected")
        target = cell(row, "target")
        held_for_a_target = bool(cell(row, "dialed_number")) and seconds(row, "hold_seconds") > 0
        item: Item = {
            "external_id": cell(row, "call_id"),
            "started_at": cell(row, "started"),
            "status": routed_call_status(
                connected=connected, rang_a_target=bool(target) or held_for_a_target
            ),
            "duration_seconds": cell(row, "talk_seconds") if connected else 0,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "publisher"),
            "buyer_name": target,
            "tracking_number": cell(row, "tracking_number"),
            "caller_number": cell(row, "caller"),
            "caller_region": cell(row, "caller_state"),
            "revenue": cell(row, "revenue"),
            "cost": cell(row, "payout"),
            "tags": self._tags(row),
        }
        if "converted" in row:
            item["converted"] = yes_no(row, "converted")
        return without_blanks(item)

    @staticmethod
    def _tags(row: Row) -> dict[str, object]:
        tags: dict[str, object] = {name: yes_no(row, name) for name in YES_NO_TAGS if name in row}
        tags.update({name: cell(row, name) for name in TEXT_TAGS if cell(row, name)})
        for key, value in _tags_cell(cell(row, "tags")).items():
            if len(tags) < MAX_TAGS:
                tags.setdefault(key, value)
        return tags
