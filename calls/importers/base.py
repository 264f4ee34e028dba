"""What every CSV preset shares: the preset interface and the row-error shape.

A preset turns rows of a platform's export into call items: plain dicts with the fields of
`calls.ingest.CALL_INPUT_FIELDS`, the same shape the REST API takes. From there one pipeline
(`calls.services.call_import_run`) validates, resolves names and upserts, so a CSV call and an
API call obey the same rules. `FIELD_COLUMNS` maps each item field back to the export's column,
so an error found by the shared validator still names the column the user sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ..models import CallStatus
from ..parsing import parse_bool, parse_money, parse_seconds

Row = dict[str, str]
Item = dict[str, Any]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "error": self.error}


class RowValueError(ValueError):
    """A value in a named column that the preset could not read."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


class Preset:
    """Base of the CSV presets. Subclasses set the class attributes and `to_item`."""

    name: ClassVar[str]
    source: ClassVar[str]
    # Column names in the file's header; None means the file has no header (Asterisk CDR).
    header: ClassVar[bool] = True
    required_columns: ClassVar[tuple[str, ...]] = ()
    # Item field -> the column it came from, for error messages.
    field_columns: ClassVar[dict[str, str]] = {}
    # For headerless files: the column names by position.
    positional_columns: ClassVar[tuple[str, ...]] = ()

    def missing_columns(self, header: list[str]) -> list[str]:
        """Required columns the file's header lacks (the import fails, naming them)."""
        return [column for column in self.required_columns if column not in header]

    def column_for(self, field: str) -> str:
        return self.field_columns.get(field, field)

    def to_item(self, row: Row) -> Item | None:
        """The call item of one row; None for a row that is not a call (it is skipped)."""
        raise NotImplementedError

    def items(self, rows: Iterable[tuple[int, Row]]) -> Iterator[tuple[int, Item | RowError]]:
        """(row number, item or error) per call; presets that merge rows override this."""
        for number, row in rows:
            try:
                item = self.to_item(row)
            except RowValueError as exc:
                yield number, RowError(number, exc.column, str(exc))
            else:
                if item is not None:
                    yield number, item


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


def routed_call_status(*, connected: bool, target: str) -> str:
    """Status of a call on a routing platform that reports "connected" and the target it chose.

    Connected -> answered. Not connected with a target -> missed (the target rang, nobody
    picked up). Not connected and no target -> no_buyer (no target was open, under cap or
    matching, so nothing rang).
    """
    if connected:
        return CallStatus.ANSWERED
    return CallStatus.MISSED if target else CallStatus.NO_BUYER
