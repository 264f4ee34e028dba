"""What every CSV preset shares: the preset interface, header aliases, options, row outcomes.

A preset turns rows of a platform's export into call items: plain dicts with the fields of
`calls.ingest.CALL_INPUT_FIELDS`, the same shape the REST API takes. From there one pipeline
(`calls.services.call_import_run`) validates, resolves names and upserts, so a CSV call and an
API call obey the same rules.

Platforms spell one column several ways: the API's field name (`inboundCallId`) and the label
of the UI's download ("Inbound Call ID"). A preset declares each column it reads once, as a
`Column` with every accepted spelling; headers are matched by `header_key` (no case, spaces,
punctuation or underscores), and the preset reads rows by its own column names. Errors name
the column as the file spells it, so the user finds it.

A row gives a call item, a `RowError` (reported, not imported) or a `Skip` (not a call, with
the reason: a call still in progress, an outbound call, an internal leg), counted apart.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ..models import CallStatus
from ..parsing import parse_bool, parse_money, parse_seconds

Row = dict[str, str]
Item = dict[str, Any]


def header_key(name: str) -> str:
    """A header as it is compared: lowercase, without spaces, punctuation or underscores."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Column:
    """A column a preset reads, with every header that names it in the platform's exports.

    `headers[0]` is the API's field name, `headers[1]` the UI download's label: both are
    named when a required column is missing.
    """

    name: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        if len(self.headers) > 1:
            return f'{self.headers[0]} (or "{self.headers[1]}")'
        return self.headers[0]


class HeaderColumns:
    """Which header of one file holds each column of a preset.

    Columns are matched in the order the preset declares them, each header to one column at
    most; headers no column claims stay available (tag columns).
    """

    def __init__(self, columns: Iterable[Column], header: Iterable[str]):
        by_key: dict[str, str] = {}
        for name in header:
            by_key.setdefault(header_key(name), name)
        self.columns = {column.name: column for column in columns}
        self.headers: dict[str, str] = {}
        claimed: set[str] = set()
        for column in self.columns.values():
            for spelling in column.headers:
                found = by_key.get(header_key(spelling))
                if found is not None and found not in claimed:
                    self.headers[column.name] = found
                    claimed.add(found)
                    break
        self.unclaimed = [name for name in by_key.values() if name not in claimed]

    def missing(self) -> list[str]:
        return [
            column.label
            for column in self.columns.values()
            if column.required and column.name not in self.headers
        ]

    def header_of(self, name: str) -> str:
        """How this file spells the column `name` (its API name when the file lacks it)."""
        if name in self.headers:
            return self.headers[name]
        column = self.columns.get(name)
        return column.headers[0] if column else name

    def row(self, raw: Mapping[str, str]) -> Row:
        return {name: raw.get(header) or "" for name, header in self.headers.items()}

    def extra(self, raw: Mapping[str, str]) -> Row:
        return {name: raw[name] for name in self.unclaimed if raw.get(name)}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "error": self.error}


@dataclass(frozen=True)
class Skip:
    """A row that is not a call to import, and why (a call in progress, an outbound call)."""

    reason: str


class RowValueError(ValueError):
    """A value in a named column that the preset could not read."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


class ImportFileError(ValueError):
    """A file that cannot be read as its format at all: the import fails, saying why."""


class ImportOptionsError(ValueError):
    """Options that do not fit the import: option name -> what is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ImportOptions:
    """What the user told an import beyond its file; kept on the CallImport (`as_json`) so an
    import run later by a worker reads the file the same way.

    campaign: every call goes to this campaign (the file names none, or the wrong one).
    source_timezone: the zone of the file's naive times, when it is not the tenant's (a PBX
    clock in UTC). columns, internal_context: Asterisk only (see `asterisk.py`).
    """

    campaign: str = ""
    source_timezone: str = ""
    columns: tuple[str, ...] = ()
    internal_context: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(self).items()
            if value
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ImportOptions:
        data = data or {}
        return cls(
            campaign=data.get("campaign", ""),
            source_timezone=data.get("source_timezone", ""),
            columns=tuple(data.get("columns", ())),
            internal_context=tuple(data.get("internal_context", ())),
        )

    @property
    def source_tzinfo(self) -> zoneinfo.ZoneInfo | None:
        return zoneinfo.ZoneInfo(self.source_timezone) if self.source_timezone else None


class Preset:
    """Base of the CSV presets. Subclasses declare `columns` and write `to_item`.

    An instance reads one file: it learns the file's header (`missing_columns`) and applies
    the import's options.
    """

    name: ClassVar[str]
    source: ClassVar[str]
    # False for files without a header row (Asterisk CDR): columns are then by position.
    header: ClassVar[bool] = True
    columns: ClassVar[tuple[Column, ...]] = ()
    # Item field -> the column it came from, for the errors found by the shared validator.
    field_columns: ClassVar[dict[str, str]] = {}
    # Options beyond these are refused for the preset.
    accepted_options: ClassVar[frozenset[str]] = frozenset({"campaign", "source_timezone"})

    def __init__(self, options: ImportOptions | None = None):
        self.options = options or ImportOptions()
        self._header: HeaderColumns | None = None

    @classmethod
    def options_errors(cls, options: ImportOptions) -> dict[str, str]:
        """What is wrong with `options` for this preset (the campaign is checked by services)."""
        errors = {
            name: f"not an option of the {cls.name} format"
            for name in options.as_json()
            if name not in cls.accepted_options
        }
        zone = options.source_timezone
        if zone and zone not in zoneinfo.available_timezones():
            errors["source_timezone"] = f"'{zone}' is not an IANA time zone name (e.g. UTC)"
        return errors

    @property
    def positional_columns(self) -> tuple[str, ...]:
        """For files without a header: the column names by position."""
        return ()

    def missing_columns(self, header: list[str]) -> list[str]:
        """Learn the file's header; the required columns it lacks, each with its spellings."""
        self._header = HeaderColumns(self.columns, header)
        return self._header.missing()

    def column_for(self, field: str) -> str:
        """The file's own header of the column an item field came from."""
        name = self.field_columns.get(field, field)
        return self._header.header_of(name) if self._header else name

    def to_item(self, row: Row, extra: Row) -> Item | Skip:
        """The call item of one row (`row` by column name, `extra`: the other columns)."""
        raise NotImplementedError

    def items(
        self, rows: Iterable[tuple[int, Row]]
    ) -> Iterator[tuple[int, Item | RowError | Skip]]:
        """(row number, item, error or skip) per row; presets that merge rows override this."""
        for number, raw in rows:
            header = self._header_columns(raw)
            try:
                item = self.to_item(header.row(raw), header.extra(raw))
            except RowValueError as exc:
                yield number, RowError(number, header.header_of(exc.column), str(exc))
                continue
            yield number, item

    def _header_columns(self, raw: Row) -> HeaderColumns:
        if self._header is None:  # a caller that did not show the header first (a script)
            self._header = HeaderColumns(self.columns, list(raw))
        return self._header

    def with_options(self, item: Item) -> Item:
        """The item as the import's options say (`campaign` names the campaign of every call).

        Applied by the pipeline to every preset's items, merged or not.
        """
        if self.options.campaign:
            item.pop("campaign_id", None)
            item["campaign_name"] = self.options.campaign
        return item


def cell(row: Mapping[str, str], column: str) -> str:
    value = row.get(column)
    return value.strip() if isinstance(value, str) else ""


def yes_no(row: Mapping[str, str], column: str) -> bool:
    try:
        return parse_bool(cell(row, column))
    except ValueError as exc:
        raise RowValueError(column, str(exc)) from exc


def tags_from_columns(row: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Columns named `<prefix>...` with a value, as tags keyed by the rest of the name."""
    return {
        key[len(prefix) :]: value.strip()
        for key, value in row.items()
        if key and key.startswith(prefix) and isinstance(value, str) and value.strip()
    }


def seconds(row: Mapping[str, str], column: str) -> int:
    """Whole seconds in `column` (0 when empty), or a RowValueError naming it."""
    try:
        return parse_seconds(cell(row, column))
    except ValueError as exc:
        raise RowValueError(column, str(exc)) from exc


def amount(row: Mapping[str, str], column: str) -> Decimal:
    """The Decimal amount in `column` (0 when empty), or a RowValueError naming it."""
    try:
        return parse_money(cell(row, column))
    except ValueError as exc:
        raise RowValueError(column, str(exc)) from exc


def without_blanks(item: Item) -> Item:
    """The item without empty values, so a blank cell means "not given" rather than ""."""
    return {key: value for key, value in item.items() if value not in ("", None, {})}


def routed_call_status(*, connected: bool, rang_a_target: bool) -> str:
    """Status of a call on a routing platform that reports "connected" and the target it rang.

    Connected -> answered. Not connected but a target rang -> missed (nobody picked up). Not
    connected and no target rang -> no_buyer (no target was open, under cap or matching).
    """
    if connected:
        return CallStatus.ANSWERED
    return CallStatus.MISSED if rang_a_target else CallStatus.NO_BUYER
