"""`callrail`: CallRail's call log export (Calls > export, API field names as columns).

Column mapping:

| CallRail column | item field |
| --- | --- |
| id | external_id |
| start_time (ISO 8601 with offset) | started_at |
| campaign | campaign_name |
| source ("Google Ads", "Direct", ...) | publisher_name |
| tracking_phone_number | tracking_number |
| customer_phone_number | caller_number |
| customer_state | caller_region |
| duration (only when answered) | duration_seconds |
| value | revenue |
| lead_status | converted (see below) |

Status mapping (KPIS.md):

| answered | voicemail | our status |
| --- | --- | --- |
| true | not true | answered |
| true | true | missed (voicemail is not an answer) |
| false | any | missed |

CallRail's duration of an unanswered call is ring and voicemail time, not talk time, so such a
call gets 0 s. Conversion from lead_status (case and spaces ignored):
good_lead -> converted; not_a_lead -> not converted; previously_marked_good_lead -> not
converted (the caller's earlier call already counted as the lead); empty -> not given, so a
conversion posted later through the API is kept when the file is imported again.
"""

from __future__ import annotations

from ..models import CallSource, CallStatus
from .base import (
    Column,
    Item,
    Preset,
    Row,
    RowValueError,
    cell,
    without_blanks,
    yes_no,
)

LEAD_STATUS_CONVERTED = {
    "good_lead": True,
    "not_a_lead": False,
    "previously_marked_good_lead": False,
}


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


class CallRailPreset(Preset):
    name = "callrail"
    source = CallSource.CALLRAIL
    columns = (
        Column("call_id", ("id",), required=True),
        Column("started", ("start_time",), required=True),
        Column("answered", ("answered",), required=True),
        Column("voicemail", ("voicemail",)),
        Column("duration", ("duration",)),
        Column("campaign", ("campaign",)),
        Column("source", ("source",)),
        Column("tracking_number", ("tracking_phone_number",)),
        Column("caller", ("customer_phone_number",)),
        Column("caller_state", ("customer_state",)),
        Column("value", ("value",)),
        Column("lead_status", ("lead_status",)),
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
    }

    def to_item(self, row: Row, extra: Row) -> Item:
        answered = yes_no(row, "answered") and not yes_no(row, "voicemail")
        item: Item = {
            "external_id": cell(row, "call_id"),
            "started_at": cell(row, "started"),
            "status": CallStatus.ANSWERED if answered else CallStatus.MISSED,
            "duration_seconds": cell(row, "duration") if answered else 0,
            "campaign_name": cell(row, "campaign"),
            "publisher_name": cell(row, "source"),
            "tracking_number": cell(row, "tracking_number"),
            "caller_number": cell(row, "caller"),
            "caller_region": cell(row, "caller_state"),
            "revenue": cell(row, "value"),
            "converted": _lead_converted(row),
        }
        return without_blanks(item)
