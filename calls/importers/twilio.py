"""`twilio`: Twilio's call log, and the one home of Twilio's CallStatus -> our status mapping.

Status mapping (KPIS.md), shared by the CSV preset and the status callback webhook:

| Twilio CallStatus / DialCallStatus | duration | our status |
| --- | --- | --- |
| completed | > 0 s | answered |
| completed | 0 s | missed (nobody talked: treated as a ring without pickup) |
| no-answer, busy | any | missed |
| failed | any | failed |
| canceled | any | abandoned (the caller hung up before anyone answered) |
| queued, initiated, ringing, in-progress | - | not final: nothing is recorded yet |

CSV preset `twilio`: the call log as downloaded from the Console (Monitor > Logs > Calls >
Download CSV) or written from the Calls API. Header names vary between the Console's and the
API's spelling ("Call Sid" / "Sid" / "sid", "Start Time" / "StartTime" / "start_time"), so
columns are matched ignoring case, spaces and underscores:

| Twilio column | item field |
| --- | --- |
| Call Sid (or Sid) of the inbound call | external_id |
| Start Time (or Date Created when empty), RFC 2822, ISO 8601 or "... UTC" | started_at |
| To (the Twilio number dialed: a tracking number, giving campaign, publisher) | tracking_number |
| From | caller_number |
| Status + Duration, with the dial legs (below) | status, duration_seconds |
| Price (Twilio's own charge, negative; not the publisher payout) | tag `price` |

Only inbound calls count: rows with Direction inbound / Incoming and no Parent Call Sid. A
row with a Parent Call Sid is a leg that the inbound call dialed (<Dial> to the buyer,
outbound-dial); other outbound rows are skipped. The Twilio number answers every call it
handles with TwiML, so the inbound row alone says "completed" even when no buyer picked up;
when the file holds the dial legs of a completed inbound call, they decide, as the webhook's
DialCallStatus does: answered if any leg was answered (duration = the answered legs' talk
time), else abandoned if a leg was canceled (the caller hung up while the buyer rang), else
missed (no-answer, busy), else failed. Without dial legs the inbound row's Status and
Duration decide, by the table above. Calls still in progress are skipped; legs whose inbound
call is not in the file are ignored. Twilio's exports carry no conversion or revenue, so
those are never written and a conversion posted through the API survives a re-import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..models import CallSource, CallStatus
from .base import (
    Item,
    Preset,
    Row,
    RowError,
    RowValueError,
    cell,
    seconds,
    without_blanks,
)

FINAL_TWILIO_STATUSES = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})
NOT_FINAL_TWILIO_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress"})


def _normalized_status(twilio_status: str) -> str:
    return twilio_status.strip().lower().replace("_", "-").replace(" ", "-")


def twilio_status_to_call_status(twilio_status: str, duration_seconds: int) -> str | None:
    """Our status for a Twilio call status, or None while the call is not over."""
    value = _normalized_status(twilio_status)
    if value == "completed":
        return CallStatus.ANSWERED if duration_seconds > 0 else CallStatus.MISSED
    if value in {"no-answer", "busy"}:
        return CallStatus.MISSED
    if value == "failed":
        return CallStatus.FAILED
    if value == "canceled" or value == "cancelled":
        return CallStatus.ABANDONED
    return None


# Among the dial legs of one call that nobody answered: the outcome that explains the call.
_LEG_OUTCOME_RANK = {
    CallStatus.ANSWERED: 3,
    CallStatus.ABANDONED: 2,
    CallStatus.MISSED: 1,
    CallStatus.FAILED: 0,
}

# (our status, talk seconds) of a dial leg, or of all the dial legs of one call together.
DialOutcome = tuple[str, int]
# What no leg at all says; combined with any outcome, it changes nothing.
NO_DIAL_LEGS: DialOutcome = (CallStatus.FAILED, 0)


def twilio_dial_outcomes_combined(first: DialOutcome, second: DialOutcome) -> DialOutcome:
    """The outcome of a call's dial legs (the buyers it rang), from the outcomes of two parts.

    Answered if any leg was answered, talking for the answered legs' time together; else
    abandoned if a leg was canceled (the caller hung up while a buyer rang), else missed
    (no-answer, busy), else failed. Commutative and associative, so legs fold in any order:
    the CSV preset's dial legs and the webhook's <Dial> action callbacks both decide this way.
    """
    status = max(first[0], second[0], key=_LEG_OUTCOME_RANK.__getitem__)
    talk = sum(seconds for leg, seconds in (first, second) if leg == CallStatus.ANSWERED)
    return status, talk


# Logical column -> accepted header spellings, compared after `_header_key`.
_COLUMN_ALIASES = {
    "sid": ("callsid", "sid"),
    "parent": ("parentcallsid",),
    "from": ("from",),
    "to": ("to",),
    "direction": ("direction",),
    "status": ("status", "callstatus"),
    "start": ("starttime",),
    "created": ("datecreated",),
    "duration": ("duration", "callduration"),
    "price": ("price",),
}
_REQUIRED = {"sid": "Call Sid", "to": "To", "status": "Status"}
_INBOUND_DIRECTIONS = frozenset({"", "inbound", "incoming"})


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _value(row: Row, columns: dict[str, str], key: str) -> str:
    name = columns.get(key)
    return cell(row, name) if name else ""


def _resolve_columns(header: Iterable[str]) -> dict[str, str]:
    """Logical column -> the header name this file uses for it."""
    by_key = {_header_key(name): name for name in header}
    resolved = {}
    for logical, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in by_key:
                resolved[logical] = by_key[alias]
                break
    return resolved


@dataclass(slots=True)
class _InboundCall:
    row: int
    item: Item
    completed: bool


@dataclass(slots=True)
class _DialLegs:
    outcome: DialOutcome | None = None  # None until a leg is over
    error_row: int | None = None


class TwilioPreset(Preset):
    name = "twilio"
    source = CallSource.TWILIO
    required_columns = ()  # the header's spelling varies: see missing_columns
    field_columns = {
        "external_id": "Call Sid",
        "started_at": "Start Time",
        "status": "Status",
        "duration_seconds": "Duration",
        "tracking_number": "To",
        "campaign": "To",
        "caller_number": "From",
    }

    def missing_columns(self, header: list[str]) -> list[str]:
        return _missing_columns(_resolve_columns(header))

    def items(self, rows: Iterable[tuple[int, Row]]) -> Iterator[tuple[int, Item | RowError]]:
        """Inbound calls with the outcome of their dial legs, once the whole file is read.

        Holds one small item per inbound call and one outcome per dialed call, not rows.
        """
        calls: dict[str, _InboundCall] = {}
        legs: dict[str, _DialLegs] = {}
        columns: dict[str, str] | None = None
        for number, row in rows:
            if columns is None:
                columns = _resolve_columns(row)
            parent = _value(row, columns, "parent")
            try:
                if parent:
                    self._add_leg(legs.setdefault(parent, _DialLegs()), row, columns)
                    continue
                call = self._inbound_call(number, row, columns)
            except RowValueError as exc:
                if parent:
                    legs[parent].error_row = legs[parent].error_row or number
                yield number, RowError(number, exc.column, str(exc))
                continue
            if call is not None:
                # A row without a sid is kept apart, so that the validator reports it.
                calls[call.item.get("external_id") or f"row {number}"] = call
        for sid, call in sorted(calls.items(), key=lambda pair: pair[1].row):
            dialed = legs.get(sid)
            if dialed is not None and dialed.error_row is not None:
                yield (
                    call.row,
                    RowError(
                        call.row,
                        (columns or {}).get("parent", "Parent Call Sid"),
                        f"not imported: its dial leg on row {dialed.error_row} has an error",
                    ),
                )
                continue
            if call.completed and dialed is not None and dialed.outcome is not None:
                call.item["status"], call.item["duration_seconds"] = dialed.outcome
            yield call.row, call.item

    def _inbound_call(self, number: int, row: Row, columns: dict[str, str]) -> _InboundCall | None:
        if _value(row, columns, "direction").lower() not in _INBOUND_DIRECTIONS:
            return None
        final = _final_status(row, columns)
        if final is None:
            return None
        status, duration = final
        start_column = columns.get("start", "")
        if not _value(row, columns, "start"):
            start_column = columns.get("created", start_column)
        item = {
            "external_id": _value(row, columns, "sid"),
            "started_at": cell(row, start_column) if start_column else "",
            "status": status,
            "duration_seconds": duration if status == CallStatus.ANSWERED else 0,
            "tracking_number": _value(row, columns, "to"),
            "caller_number": _value(row, columns, "from"),
            "tags": without_blanks({"price": _value(row, columns, "price")}),
        }
        completed = _normalized_status(_value(row, columns, "status")) == "completed"
        return _InboundCall(row=number, item=without_blanks(item), completed=completed)

    def _add_leg(self, dialed: _DialLegs, row: Row, columns: dict[str, str]) -> None:
        final = _final_status(row, columns)
        if final is None:
            return
        dialed.outcome = twilio_dial_outcomes_combined(dialed.outcome or NO_DIAL_LEGS, final)


def _missing_columns(columns: dict[str, str]) -> list[str]:
    """Columns every Twilio call log has, by their usual label, that this header lacks."""
    missing = [label for key, label in _REQUIRED.items() if key not in columns]
    if "start" not in columns and "created" not in columns:
        missing.append("Start Time")
    return missing


def _final_status(row: Row, columns: dict[str, str]) -> tuple[str, int] | None:
    """(our status, duration) of a Twilio row, or None while the call is not over."""
    twilio_status = _value(row, columns, "status")
    if _normalized_status(twilio_status) in NOT_FINAL_TWILIO_STATUSES:
        return None
    duration = seconds(row, columns["duration"]) if "duration" in columns else 0
    status = twilio_status_to_call_status(twilio_status, duration)
    if status is None:
        raise RowValueError(columns["status"], f"'{twilio_status}' is not a Twilio call status")
    return status, duration
