"""`callrail`: CallRail's calls, as its API names the fields or as its call log export labels them.

Both header forms are read (headers match without regard to case, spaces and punctuation):

| API field | call log export header | item field |
| --- | --- | --- |
| id | Call ID | external_id |
| start_time (ISO 8601, offset) | Start Time ("11/03/2026 11:05 AM", tenant's zone) | started_at |
| campaign | Campaign | campaign_name |
| source ("Google Ads", "Direct", ...) | Source | publisher_name |
| tracking_phone_number | Tracking Number | tracking_number |
| customer_phone_number | Phone Number, Customer Phone Number | caller_number |
| customer_state | State, Customer State | caller_region |
| answered, voicemail | Call Status | status (below) |
| duration (only when answered) | Duration (seconds), Duration | duration_seconds |
| direction | Direction | outbound calls are skipped |
| value | Value | revenue |
| lead_status | Lead Status | converted (see below) |
| first_call | First Call | tag `first_call` |
| tags ("Roof Repair, Qualified") | Tags | one tag per name, valued true |

Status mapping (KPIS.md), from answered and voicemail (API), or from Call Status (export):

| answered | voicemail | Call Status | our status |
| --- | --- | --- | --- |
| true | not true | "Inbound Answered Call" | answered |
| true | true | "Voicemail Call" | missed (voicemail is not an answer) |
| false | any | "Inbound Missed Call" | missed |
| - | - | "Abandoned Call" (hung up within 15 s) | abandoned |

Only inbound calls count: a row whose direction is outbound (or whose Call Status is an
outbound call) is a call the business placed; it is skipped (reported as skipped).

CallRail's duration of an unanswered call is ring and voicemail time, not talk time, so such a
call gets 0 s. Conversion from lead_status (case and spaces ignored):
good_lead -> converted; not_a_lead -> not converted; previously_marked_good_lead -> not
converted (the caller's earlier call already counted as the lead); empty -> not given, so a
conversion posted later through the API is kept when the file is imported again.
"""

from __future__ import annotations

from ..ingest import MAX_TAGS
from ..models import CallSource, CallStatus
from .base import (
    Column,
    Item,
    Preset,
    Row,
    RowValueError,
    Skip,
    cell,
    without_blanks,
    yes_no,
)

LEAD_STATUS_CONVERTED = {
    "good_lead": True,
    "not_a_lead": False,
    "previously_marked_good_lead": False,
}
# The export's Call Status, by the word that decides it (checked in this order).
CALL_STATUS_WORDS = (
    ("outbound", None),
    ("voicemail", CallStatus.MISSED),
    ("abandoned", CallStatus.ABANDONED),
    ("missed", CallStatus.MISSED),
    ("answered", CallStatus.ANSWERED),
)
STATUS_COLUMNS_LABEL = 'answered (or "Call Status")'


def _lead_converted(row: Row) -> bool | None:
    value = cell(row, "lead_status").lower().replace(" ", "_").replace("-", "_")
    if not value:
        return None
    if value not in LEAD_STATUS_CONVERTED:
        raise RowValueError(
            "lead_status",
            f"'{cell(row, 'lead_status')}' is not a lead status "
            f"({', '.join(LEAD_STATUS_CONVERTED)} or empty)",
        )
    return LEAD_STATUS_CONVERTED[value]


def _call_status(row: Row) -> str | None:
    """Our status from the export's Call Status; None for an outbound call."""
    text = cell(row, "call_status")
    for word, status in CALL_STATUS_WORDS:
        if word in text.lower():
            return status
    raise RowValueError("call_status", f"'{text}' is not a CallRail call status")


class CallRailPreset(Preset):
    name = "callrail"
    source = CallSource.CALLRAIL
    columns = (
        Column("call_id", ("id", "Call ID"), required=True),
        Column("started", ("start_time", "Start Time"), required=True),
        Column("answered", ("answered", "Answered")),
        Column("voicemail", ("voicemail", "Voicemail")),
        Column("call_status", ("call_status", "Call Status")),
        Column("direction", ("direction", "Direction")),
        Column("duration", ("duration", "Duration (seconds)", "Duration")),
        Column("campaign", ("campaign", "Campaign")),
        Column("source", ("source", "Source")),
        Column("tracking_number", ("tracking_phone_number", "Tracking Number")),
        Column("caller", ("customer_phone_number", "Phone Number", "Caller Number")),
        Column("caller_state", ("customer_state", "State")),
        Column("value", ("value", "Value")),
        Column("lead_status", ("lead_status", "Lead Status")),
        Column("first_call", ("first_call", "First Call")),
        Column("tags", ("tags", "Tags")),
    )
    field_columns = {
        "external_id": "call_id",
        "started_at": "started",
        "status": "answered",
        "campaign_name": "campaign",
        "campaign": "tracking_number",
        "publisher_name": "source",
        "tracking_number": "tracking_number",
        "caller_number": "caller",
        "caller_region": "caller_state",
        "duration_seconds": "duration",
        "converted": "lead_status",
        "revenue": "value",
        "tags": "tags",
    }

    def missing_columns(self, header: list[str]) -> list[str]:
        missing = super().missing_columns(header)
        found = self._header.headers if self._header else {}
        if "answered" not in found and "call_status" not in found:
            missing.append(STATUS_COLUMNS_LABEL)
        return missing

    def to_item(self, row: Row, extra: Row) -> Item | Skip:
        if cell(row, "direction").lower() == "outbound":
            return Skip("outbound call")
        if "answered" in row:
            answered = yes_no(row, "answered") and not yes_no(row, "voicemail")
            status: str | None = CallStatus.ANSWERED if answered else CallStatus.MISSED
        else:
            status = _call_status(row)
            if status is None:
                return Skip("outbound call")
        answered = status == CallStatus.ANSWERED
        tags: dict[str, object] = {}
        if cell(row, "first_call"):
            tags["first_call"] = yes_no(row, "first_call")
        for name in cell(row, "tags").split(","):
            if name.strip() and len(tags) < MAX_TAGS:
                tags[name.strip()] = True
        item: Item = {
            "external_id": cell(row, "call_id"),
            "started_at": cell(row, "started"),
            "status": status,
            "duration_seconds": cell(row, "duration") if answered else 0,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "source"),
            "tracking_number": cell(row, "tracking_number"),
            "caller_number": cell(row, "caller"),
            "caller_region": cell(row, "caller_state"),
            "revenue": cell(row, "value"),
            "converted": _lead_converted(row),
            "tags": tags,
        }
        return without_blanks(item)
