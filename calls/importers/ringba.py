"""`ringba`: Ringba's call log, as its API names the columns or as the Console downloads it.

Two header forms are read, column by column (headers match without regard to case, spaces
and punctuation):

| API / export column key | Console download header | item field |
| --- | --- | --- |
| inboundCallId | Inbound Call ID | external_id |
| callDt (epoch ms, ISO 8601) | Call Date ("11/03/2026 04:05:00 PM", tenant's zone) | started_at |
| campaignName | Campaign | campaign_name |
| publisherName | Publisher | publisher_name |
| targetName | Target | buyer_name (a Ringba target is the buyer's endpoint) |
| inboundPhoneNumber (the caller) | Caller ID | caller_number |
| number (the tracking number dialed) | Dialed #, Number | tracking_number |
| connectedCallLengthInSeconds | Connected Call Length | duration_seconds (talk time) |
| callLengthInSeconds | Duration | duration_seconds when there is no talk-time column |
| hasConnected | Connected | status (below) |
| hasConverted | Converted | converted |
| conversionAmount | Revenue | revenue |
| payoutAmount | Payout | cost (what the publisher is paid) |
| isLive | Live | the row is skipped while true (the call is in progress) |
| isDuplicate | Duplicate | tag `isDuplicate` |
| publisherSubId | Publisher Sub ID | tag `publisherSubId` |
| targetNumber | Target Number | tag `targetNumber` |
| tag:<group>:<name> | <group>:<name> | tags `<group>:<name>` (up to 50 tags in all) |
| tag InboundNumber:State | InboundNumber:State | caller_region |

inboundPhoneNumber is the caller and number the tracking number dialed, as in Ringba's own
API samples (ringba-api-samples: CallerId = inboundPhoneNumber, DialedNumber = number); the
tag group InboundNumber (State, City) describes the caller too.

Status mapping (KPIS.md):

| connected | a target rang | our status |
| --- | --- | --- |
| true | any | answered |
| false | yes | missed (a target rang, nobody picked up) |
| false | no | no_buyer (no target was open / under cap / matching: nothing rang) |

A target rang when the row names one (targetName / Target). The Console download has no
connected flag: there a call counts as connected when it names a target and has talk time
(Connected Call Length, else Duration). A row with isLive true is a call still in progress:
it is skipped (reported as skipped), not stored as a missed call, and a later import of the
finished call records it.

`isDuplicate` is Ringba's repeat-caller flag. The row is still its own call with its own
inboundCallId, so it is imported and counted; the flag is kept as the tag `isDuplicate`.
callLengthInSeconds (the whole call, IVR and ringing included) is not talk time; it is used as
talk time only when a connected row has no connectedCallLengthInSeconds column or value.
"""

from __future__ import annotations

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

STATE_TAG = "InboundNumber:State"
TAG_PREFIXES = ("tag:", "[tag]")
# Columns kept as tags under Ringba's API name.
TAG_COLUMNS = {
    "duplicate": "isDuplicate",
    "publisher_sub_id": "publisherSubId",
    "target_number": "targetNumber",
}


def _tag_name(header: str) -> str | None:
    """The tag a Ringba column holds ("tag:User:utm_source", "User:utm_source"), or None."""
    for prefix in TAG_PREFIXES:
        if header.lower().startswith(prefix):
            return header[len(prefix) :].strip() or None
    return header.strip() if ":" in header else None


class RingbaPreset(Preset):
    name = "ringba"
    source = CallSource.RINGBA
    columns = (
        Column("call_id", ("inboundCallId", "Inbound Call ID", "Call ID"), required=True),
        Column("started", ("callDt", "Call Date", "Call Date Time", "dtStamp"), required=True),
        Column("connected", ("hasConnected", "Connected", "Has Connected")),
        Column("campaign", ("campaignName", "Campaign")),
        Column("publisher", ("publisherName", "Publisher")),
        Column("publisher_sub_id", ("publisherSubId", "Publisher Sub ID", "Sub ID")),
        Column("target", ("targetName", "Target")),
        Column("target_number", ("targetNumber", "Target Number")),
        Column("caller", ("inboundPhoneNumber", "Caller ID", "Caller Number")),
        Column("tracking_number", ("number", "Dialed #", "Dialed Number", "Tracking Number")),
        Column("talk_seconds", ("connectedCallLengthInSeconds", "Connected Call Length")),
        Column("call_seconds", ("callLengthInSeconds", "Duration", "Call Length")),
        Column("converted", ("hasConverted", "Converted")),
        Column("revenue", ("conversionAmount", "Revenue")),
        Column("payout", ("payoutAmount", "Payout")),
        Column("duplicate", ("isDuplicate", "Duplicate")),
        Column("live", ("isLive", "Live")),
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

    def to_item(self, row: Row, extra: Row) -> Item | Skip:
        if cell(row, "live") and yes_no(row, "live"):
            return Skip("call in progress (isLive)")
        target = cell(row, "target")
        talk_column = "talk_seconds" if cell(row, "talk_seconds") else "call_seconds"
        if "connected" in row:
            connected = yes_no(row, "connected")
        else:  # the Console download: connected when a target talked
            connected = bool(target) and seconds(row, talk_column) > 0
        tags = self._tags(row, extra)
        item: Item = {
            "external_id": cell(row, "call_id"),
            "started_at": cell(row, "started"),
            "status": routed_call_status(connected=connected, rang_a_target=bool(target)),
            "duration_seconds": seconds(row, talk_column) if connected else 0,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "publisher"),
            "buyer_name": target,
            "tracking_number": cell(row, "tracking_number"),
            "caller_number": cell(row, "caller"),
            "caller_region": tags.get(STATE_TAG, ""),
            "revenue": cell(row, "revenue"),
            "cost": cell(row, "payout"),
            "tags": tags,
        }
        if "converted" in row:
            item["converted"] = yes_no(row, "converted")
        return without_blanks(item)

    @staticmethod
    def _tags(row: Row, extra: Row) -> dict[str, object]:
        tags: dict[str, object] = {}
        if "duplicate" in row:
            tags["isDuplicate"] = yes_no(row, "duplicate")
        for column in ("publisher_sub_id", "target_number"):
            if cell(row, column):
                tags[TAG_COLUMNS[column]] = cell(row, column)
        for header, value in extra.items():
            name = _tag_name(header)
            if name and value.strip() and len(tags) < MAX_TAGS:
                tags[name] = value.strip()
        return tags
