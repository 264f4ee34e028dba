"""`asterisk`: Asterisk's CDR file Master.csv as cdr_csv writes it (no header).

Columns by position: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags, then, depending on
cdr.conf, uniqueid, userfield (loguniqueid / loguserfield) and peeraccount, linkedid,
sequence (newcdrcolumns). Rows with or without the optional columns are accepted.

One call leaves several rows (legs) behind: one per buyer rung by a ring group, one per
transfer. Legs sharing a linkedid (else a uniqueid) are one call:

| call field | from the legs |
| --- | --- |
| external_id | linkedid, else uniqueid; without either, a digest of channel + start (stable) |
| started_at | the earliest start, in the tenant's time zone (cdr_csv writes server local time) |
| status | see below |
| duration_seconds | talk time: billsec of the legs a buyer answered, overlaps counted once |
| caller_number | src of the earliest leg |
| tracking_number | dst of the earliest leg whose dst is a phone number (the DID dialed) |
| campaign_name | accountcode, when the call's legs set one |
| tags | `legs` (how many rows the call had), `userfield` when set |

Talk time is the length of the union of the answered legs' [answer, answer + billsec]: a
transfer's legs follow each other and add up, while the Local-channel legs of a ring group
(FreePBX) log the same conversation twice and count once.

The campaign comes from the tracking number (dst), or from accountcode as the campaign's
name when the dialplan sets one (accountcode wins; the tracking number still gives the
publisher). Conversion and revenue are not in a CDR, so they are never written.

Status mapping (KPIS.md), per leg, then for the call:

| disposition | dstchannel | leg outcome |
| --- | --- | --- |
| ANSWERED | set (bridged to a buyer) | answered |
| ANSWERED | empty, lastapp VoiceMail | missed (voicemail is not an answer) |
| ANSWERED | empty, other lastapp | abandoned (the PBX answered: IVR, queue, playback) |
| NO ANSWER, BUSY | any | missed |
| FAILED, CONGESTION | any | failed |

An ANSWERED leg without a dstchannel was answered by the PBX itself and the caller left
before reaching a buyer. A call is answered if any leg was; otherwise missed if a buyer
rang, else abandoned, else failed. A call with a leg that cannot be read is not imported;
the leg's row is reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..models import CallSource, CallStatus
from ..parsing import parse_datetime
from .base import (
    Item,
    Preset,
    Row,
    RowError,
    RowValueError,
    Skip,
    cell,
    seconds,
    without_blanks,
)

STANDARD_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
OPTIONAL_COLUMNS = ("uniqueid", "userfield", "peeraccount", "linkedid", "sequence")

DISPOSITION_OUTCOMES = {
    "ANSWERED": CallStatus.ANSWERED,
    "NO ANSWER": CallStatus.MISSED,
    "BUSY": CallStatus.MISSED,
    "FAILED": CallStatus.FAILED,
    "CONGESTION": CallStatus.FAILED,
}
# When no leg was answered, the outcome that explains the call best wins.
_OUTCOME_RANK = {
    CallStatus.ANSWERED: 3,
    CallStatus.MISSED: 2,
    CallStatus.ABANDONED: 1,
    CallStatus.FAILED: 0,
}
_PHONE_DIGITS = re.compile(r"^\+?[\d\s().-]{7,}$")


def leg_outcome(disposition: str, dstchannel: str, lastapp: str) -> str | None:
    """Our status for one CDR row, or None for an unknown disposition."""
    outcome = DISPOSITION_OUTCOMES.get(disposition.strip().upper())
    if outcome == CallStatus.ANSWERED and not dstchannel:
        return CallStatus.MISSED if lastapp.lower() == "voicemail" else CallStatus.ABANDONED
    return outcome


@dataclass(slots=True)
class _Call:
    """What is kept of one call while the file is read: a few fields, not its rows."""

    first_row: int
    started: dt.datetime
    start_text: str
    caller: str
    tracking_start: dt.datetime | None = None
    tracking_number: str = ""
    accountcode: str = ""
    userfield: str = ""
    outcome: str = CallStatus.FAILED
    # [answer, answer + billsec] of the answered legs, as epoch seconds.
    talk: list[tuple[float, float]] | None = None
    legs: int = 0
    error_row: int | None = None


class AsteriskPreset(Preset):
    name = "asterisk"
    source = CallSource.ASTERISK
    header = False
    field_columns = {
        "external_id": "linkedid",
        "started_at": "start",
        "status": "disposition",
        "duration_seconds": "billsec",
        "tracking_number": "dst",
        "campaign": "dst",
        "campaign_name": "accountcode",
        "caller_number": "src",
    }

    @property
    def positional_columns(self) -> tuple[str, ...]:
        return STANDARD_COLUMNS + OPTIONAL_COLUMNS

    def items(
        self, rows: Iterable[tuple[int, Row]]
    ) -> Iterator[tuple[int, Item | RowError | Skip]]:
        """One item per call, after the whole file is read (a call's legs can be far apart)."""
        calls: dict[str, _Call] = {}
        for number, row in rows:
            try:
                self._add_leg(calls, number, row)
            except RowValueError as exc:
                yield number, RowError(number, exc.column, str(exc))
        for external_id, call in sorted(calls.items(), key=lambda pair: pair[1].first_row):
            if call.error_row is not None:
                if call.error_row != call.first_row:
                    yield (
                        call.first_row,
                        RowError(
                            call.first_row,
                            "linkedid",
                            f"call {external_id} not imported: its leg on row {call.error_row} "
                            "has an error",
                        ),
                    )
                continue
            yield call.first_row, self._item(external_id, call)

    def _add_leg(self, calls: dict[str, _Call], number: int, row: Row) -> None:
        if len(row) < len(STANDARD_COLUMNS):
            raise RowValueError(
                STANDARD_COLUMNS[len(row)],
                f"the row has {len(row)} columns; a CDR row has at least {len(STANDARD_COLUMNS)}",
            )
        external_id = cell(row, "linkedid") or cell(row, "uniqueid") or _digest(row)
        try:
            started = parse_datetime(cell(row, "start"), dt.UTC)
        except ValueError as exc:
            self._mark_error(calls, external_id, number)
            raise RowValueError("start", str(exc)) from exc
        outcome = leg_outcome(
            cell(row, "disposition"), cell(row, "dstchannel"), cell(row, "lastapp")
        )
        if outcome is None:
            self._mark_error(calls, external_id, number)
            raise RowValueError(
                "disposition",
                f"'{cell(row, 'disposition')}' is not a CDR disposition "
                f"({', '.join(DISPOSITION_OUTCOMES)})",
            )
        talk = None
        if outcome == CallStatus.ANSWERED:
            try:
                talk = _talk_interval(row, started)
            except RowValueError:
                self._mark_error(calls, external_id, number)
                raise
        call = calls.get(external_id)
        if call is None:
            call = calls[external_id] = _Call(
                first_row=number,
                started=started,
                start_text=cell(row, "start"),
                caller=cell(row, "src"),
            )
        elif started < call.started:
            call.started, call.start_text, call.caller = (
                started,
                cell(row, "start"),
                cell(row, "src"),
            )
        dst = cell(row, "dst")
        if _PHONE_DIGITS.match(dst) and (
            call.tracking_start is None or started < call.tracking_start
        ):
            call.tracking_start, call.tracking_number = started, dst
        call.accountcode = call.accountcode or cell(row, "accountcode")
        call.userfield = call.userfield or cell(row, "userfield")
        if talk is not None:
            call.talk = [*(call.talk or []), talk]
        if not call.legs or _OUTCOME_RANK[outcome] > _OUTCOME_RANK[call.outcome]:
            call.outcome = outcome
        call.legs += 1

    @staticmethod
    def _mark_error(calls: dict[str, _Call], external_id: str, number: int) -> None:
        call = calls.get(external_id)
        if call is None:
            call = calls[external_id] = _Call(
                first_row=number,
                started=dt.datetime.max.replace(tzinfo=dt.UTC),
                start_text="",
                caller="",
            )
        if call.error_row is None:
            call.error_row = number

    @staticmethod
    def _item(external_id: str, call: _Call) -> Item:
        return without_blanks(
            {
                "external_id": external_id,
                "started_at": call.start_text,
                "status": call.outcome,
                "duration_seconds": _union_seconds(call.talk or []),
                "caller_number": call.caller,
                "tracking_number": call.tracking_number,
                "campaign_name": call.accountcode,
                "tags": without_blanks({"legs": call.legs, "userfield": call.userfield}),
            }
        )


def _talk_interval(row: Row, started: dt.datetime) -> tuple[float, float]:
    billsec = seconds(row, "billsec")
    answer = cell(row, "answer")
    try:
        answered_at = parse_datetime(answer, dt.UTC) if answer else started
    except ValueError as exc:
        raise RowValueError("answer", str(exc)) from exc
    begin = answered_at.timestamp()
    return begin, begin + billsec


def _union_seconds(intervals: list[tuple[float, float]]) -> int:
    total = 0.0
    covered_until = float("-inf")
    for begin, end in sorted(intervals):
        begin = max(begin, covered_until)
        if end > begin:
            total += end - begin
            covered_until = end
    return round(total)


def _digest(row: Row) -> str:
    """A stable id for a CDR row written without uniqueid/linkedid."""
    key = f"{cell(row, 'channel')}|{cell(row, 'start')}|{cell(row, 'src')}|{cell(row, 'dst')}"
    return "cdr-" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:24]
