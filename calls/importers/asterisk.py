"""`asterisk`: Asterisk's CDR file Master.csv (no header), as cdr_csv or cdr_custom writes it.

Column orders (a row may stop early, after any of the optional columns):

- cdr_csv (Master.csv in cdr-csv/): accountcode, src, dst, dcontext, clid, channel,
  dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags,
  then uniqueid, userfield (loguniqueid, loguserfield) and peeraccount, linkedid, sequence
  (newcdrcolumns);
- cdr_custom, as the cdr_custom.conf sample maps it: clid, src, dst, dcontext, channel,
  dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition,
  amaflags, accountcode, uniqueid, userfield, sequence;
- any other mapping: `--columns` (form field `columns`), the CDR names in the file's order.

Without `--columns` the order is recognised from the rows themselves (a disposition and a
start time where the order puts them); a file that fits neither order is refused whole, with
the order it was expected in and how to give its own, rather than failing row by row.

One call leaves several rows (legs) behind: one per buyer rung by a ring group, one per
transfer. Legs sharing a linkedid (else a uniqueid) are one call:

| call field | from the legs |
| --- | --- |
| external_id | linkedid, else uniqueid; without either, a digest of channel + start (stable) |
| started_at | the earliest start, on the PBX's clock: the tenant's zone, or `--source-timezone` |
| status | see below |
| duration_seconds | talk time: billsec of the legs a buyer answered, overlaps counted once |
| caller_number | src of the earliest leg |
| tracking_number | the DID: dst of the earliest leg with a full number, else with digits |
| campaign_name | `--campaign` for every call; else accountcode, when the call's legs set one |
| tags | `legs` (how many rows the call had), `userfield` when set |

Numbers are read in the tenant's country (Organization.country); a src or dst that is no
phone number there (an extension "201", a short DID "946012") is kept as its digits. Talk
time is the length of the union of the answered legs' [answer, answer + billsec]: a
transfer's legs follow each other and add up, while the Local-channel legs of a ring group
(FreePBX) log the same conversation twice and count once.

The campaign comes from `--campaign` when given, else from accountcode as the campaign's name
when the dialplan sets one, else from the DID through the tracking numbers (which also give
the publisher). Conversion and revenue are not in a CDR, so they are never written.

Internal calls: with `--internal-context from-internal` (one or more dcontexts), a call whose
earliest leg is in such a context started inside the PBX (extension to extension, or
outbound): all its rows are skipped (reported as skipped). Legs of an inbound call that pass
through such a context later (a ring group's Local channels) stay part of their call.

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
rang, else abandoned, else failed. A call with a leg that cannot be read is not imported:
the leg's row reports its error, and every other row of the call says which leg held it back,
so the rows that failed are counted as rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ..models import CallSource, CallStatus
from ..parsing import parse_datetime
from .base import (
    ImportFileError,
    ImportOptions,
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
CDR_CSV_COLUMNS = STANDARD_COLUMNS + OPTIONAL_COLUMNS
# The mapping of Asterisk's cdr_custom.conf sample, the usual Master.csv of cdr_custom: clid
# first, accountcode after amaflags, then no peeraccount or linkedid.
CDR_CUSTOM_COLUMNS = (
    "clid",
    "src",
    "dst",
    "dcontext",
    *STANDARD_COLUMNS[STANDARD_COLUMNS.index("channel") :],
    "accountcode",
    "uniqueid",
    "userfield",
    "sequence",
)
KNOWN_ORDERS = {"cdr_csv": CDR_CSV_COLUMNS, "cdr_custom": CDR_CUSTOM_COLUMNS}
# What a --columns order must name: without them no call can be read.
REQUIRED_COLUMNS = ("src", "dst", "start", "disposition")
# Rows read, at most, looking for one that shows the column order.
ORDER_PROBE_ROWS = 20
_COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

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
# A dst that is a full number (a DID as the carrier sent it), or at least digits someone dialed.
_FULL_NUMBER = re.compile(r"^\+?[\d\s().-]{7,}$")
_DIGITS = re.compile(r"^\+?[\d\s().*#-]+$")


def leg_outcome(disposition: str, dstchannel: str, lastapp: str) -> str | None:
    """Our status for one CDR row, or None for an unknown disposition."""
    outcome = DISPOSITION_OUTCOMES.get(disposition.strip().upper())
    if outcome == CallStatus.ANSWERED and not dstchannel:
        return CallStatus.MISSED if lastapp.lower() == "voicemail" else CallStatus.ABANDONED
    return outcome


def _did_rank(dst: str) -> int:
    """How well a leg's dst says which number the caller dialed: full number > digits > not."""
    if _FULL_NUMBER.match(dst):
        return 2
    return 1 if _DIGITS.match(dst) else 0


@dataclass(slots=True)
class _Call:
    """What is kept of one call while the file is read: a few fields and its row numbers."""

    first_row: int
    started: dt.datetime
    start_text: str
    caller: str
    context: str = ""
    did_rank: int = 0
    did_start: dt.datetime | None = None
    did: str = ""
    accountcode: str = ""
    userfield: str = ""
    outcome: str = CallStatus.FAILED
    # [answer, answer + billsec] of the answered legs, as epoch seconds.
    talk: list[tuple[float, float]] | None = None
    legs: int = 0
    rows: list[int] = field(default_factory=list)
    error_rows: list[int] = field(default_factory=list)


class AsteriskPreset(Preset):
    name = "asterisk"
    source = CallSource.ASTERISK
    header = False
    accepted_options = frozenset({"campaign", "source_timezone", "columns", "internal_context"})
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

    @classmethod
    def options_errors(cls, options: ImportOptions) -> dict[str, str]:
        errors = super().options_errors(options)
        columns = options.columns
        if columns:
            unreadable = [name for name in columns if not _COLUMN_NAME.match(name)]
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if unreadable:
                errors["columns"] = f"{', '.join(unreadable)}: not CDR field names"
            elif len(set(columns)) < len(columns):
                errors["columns"] = "a column is named twice"
            elif missing:
                errors["columns"] = (
                    f"must name {', '.join(missing)} (CDR field names, as in cdr_custom.conf: "
                    f"{', '.join(CDR_CSV_COLUMNS)})"
                )
        return errors

    def __init__(self, options: ImportOptions | None = None):
        super().__init__(options)
        # The file's column order, once a row shows it.
        self._order: Sequence[str] = self.positional_columns

    @property
    def positional_columns(self) -> tuple[str, ...]:
        return self.options.columns or CDR_CSV_COLUMNS

    def items(
        self, rows: Iterable[tuple[int, Row]]
    ) -> Iterator[tuple[int, Item | RowError | Skip]]:
        """One item per call, after the whole file is read (a call's legs can be far apart)."""
        calls: dict[str, _Call] = {}
        for number, row in self._rows_in_file_order(rows):
            try:
                self._add_leg(calls, number, row)
            except RowValueError as exc:
                yield number, RowError(number, exc.column, str(exc))
        internal = set(self.options.internal_context)
        for external_id, call in sorted(calls.items(), key=lambda pair: pair[1].first_row):
            if call.context in internal:
                reason = f"internal call (dcontext {call.context})"
                for number in call.rows:
                    if number not in call.error_rows:
                        yield number, Skip(reason)
            elif call.error_rows:
                held_back = (
                    f"call {external_id} not imported: its leg on row {call.error_rows[0]} "
                    "has an error"
                )
                for number in call.rows:
                    if number not in call.error_rows:
                        yield number, RowError(number, "linkedid", held_back)
            else:
                yield call.first_row, self._item(external_id, call)

    def _rows_in_file_order(self, rows: Iterable[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
        """The rows keyed by the file's column order, found from the first row that shows it.

        Rows come keyed by `positional_columns`; a file in another order is keyed again.
        """
        orders = {"--columns": self.options.columns} if self.options.columns else KNOWN_ORDERS
        order: Sequence[str] | None = None
        unfit: list[tuple[int, list[str]]] = []
        for number, row in rows:
            values = self._values(row)
            if order is None:
                order = next((o for o in orders.values() if _order_fits(o, values)), None)
                if order is None:
                    unfit.append((number, values))
                    if len(unfit) >= ORDER_PROBE_ROWS:
                        raise _unknown_order(unfit, orders)
                    continue
                self._order = order
                for early_number, early_values in unfit:
                    yield early_number, dict(zip(order, early_values, strict=False))
            yield number, dict(zip(order, values, strict=False))
        if order is None and unfit:
            if any(len(values) >= _row_width(self._order) for _, values in unfit):
                raise _unknown_order(unfit, orders)
            for number, values in unfit:  # only short rows: each reports what it lacks
                yield number, dict(zip(self._order, values, strict=False))

    def _values(self, row: Row) -> list[str]:
        """A row's values by position, up to its last column."""
        columns = self.positional_columns
        width = max((i + 1 for i, name in enumerate(columns) if name in row), default=0)
        return [row.get(name, "") for name in columns[:width]]

    def _add_leg(self, calls: dict[str, _Call], number: int, row: Row) -> None:
        width = _row_width(self._order)
        if len(row) < width:
            raise RowValueError(
                self._order[len(row)],
                f"the row has {len(row)} columns; a CDR row has at least {width}",
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
                context=cell(row, "dcontext"),
            )
        elif started < call.started:
            call.started, call.start_text = started, cell(row, "start")
            call.caller, call.context = cell(row, "src"), cell(row, "dcontext")
        dst = cell(row, "dst")
        rank = _did_rank(dst)
        if rank and (
            rank > call.did_rank
            or (rank == call.did_rank and call.did_start and started < call.did_start)
        ):
            call.did_rank, call.did_start, call.did = rank, started, dst
        call.accountcode = call.accountcode or cell(row, "accountcode")
        call.userfield = call.userfield or cell(row, "userfield")
        if talk is not None:
            call.talk = [*(call.talk or []), talk]
        if not call.legs or _OUTCOME_RANK[outcome] > _OUTCOME_RANK[call.outcome]:
            call.outcome = outcome
        call.legs += 1
        call.rows.append(number)

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
        call.rows.append(number)
        call.error_rows.append(number)

    @staticmethod
    def _item(external_id: str, call: _Call) -> Item:
        return without_blanks(
            {
                "external_id": external_id,
                "started_at": call.start_text,
                "status": call.outcome,
                "duration_seconds": _union_seconds(call.talk or []),
                "caller_number": call.caller,
                "tracking_number": call.did,
                "campaign_name": call.accountcode,
                "tags": without_blanks({"legs": call.legs, "userfield": call.userfield}),
            }
        )


def _row_width(order: Sequence[str]) -> int:
    """The fewest columns a row can have in `order`: up to its last column that is read."""
    return max(order.index(name) for name in REQUIRED_COLUMNS) + 1


def _order_fits(order: Sequence[str], values: list[str]) -> bool:
    """Whether a row's values hold a disposition and a start time where `order` puts them."""
    start, disposition = order.index("start"), order.index("disposition")
    if max(start, disposition) >= len(values):
        return False
    if values[disposition].strip().upper() not in DISPOSITION_OUTCOMES:
        return False
    try:
        parse_datetime(values[start], dt.UTC)
    except ValueError:
        return False
    return True


def _unknown_order(
    unfit: list[tuple[int, list[str]]], orders: dict[str, Sequence[str]]
) -> ImportFileError:
    number, values = unfit[0]
    seen = "; ".join(
        f"in {name} order, column {order.index('disposition') + 1} should be the disposition "
        f"and holds '{_value_at(values, order.index('disposition'))}'"
        for name, order in orders.items()
    )
    return ImportFileError(
        f"row {number} of this Master.csv fits no known column order ({seen}). If cdr_custom "
        "writes the file, give its order as in cdr_custom.conf, e.g. --columns "
        f"{','.join(CDR_CUSTOM_COLUMNS)} (API form field columns)."
    )


def _value_at(values: list[str], index: int) -> str:
    return values[index].strip()[:40] if index < len(values) else ""


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
