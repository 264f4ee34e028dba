"""CSV files as people save them: which encoding and which delimiter, found, never guessed.

Exports reach us from Excel (UTF-8 with a BOM, or Windows-1252 on a Western Windows), from
"Unicode text" saves (UTF-16 with a BOM, tab-separated), from European spreadsheets
(semicolons, since the comma is their decimal point) and from platforms (Invoca's pipe- and
tab-separated reports). Every CSV upload reads its file through `csv_file_shape` and
`csv_rows`, so a file is read the same way everywhere and what was detected can be shown.

Nothing is decoded with `errors="replace"`: a file that is neither UTF-8 (with or without
BOM), UTF-16 (with BOM) nor Windows-1252 is refused with the offset of its first bad byte,
instead of being imported with replacement characters.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

# Codec name -> how the report names it.
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
}
DELIMITER_LABELS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Enough for the header and dozens of rows of any export.
SAMPLE_BYTES = 64 * 1024
SAMPLE_ROWS = 50
BLOCK_BYTES = 1024 * 1024

csv.field_size_limit(1024 * 1024)


class CsvFileError(ValueError):
    """A file that cannot be read as text in any encoding we accept."""


@dataclass(frozen=True)
class CsvShape:
    """How one file is read: its text encoding (a Python codec) and its delimiter."""

    encoding: str = "utf-8"
    delimiter: str = ","

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_LABELS.get(self.delimiter, repr(self.delimiter))

    def __str__(self) -> str:
        return f"{self.encoding_label}, {self.delimiter_label}-separated"


def csv_file_shape(binary: IO[bytes]) -> CsvShape:
    """Detect the encoding and delimiter of a file open in binary mode (rewound after).

    Encoding: a BOM says UTF-8 or UTF-16; otherwise UTF-8 when every byte of the file
    decodes as UTF-8, else Windows-1252 when every byte does, else CsvFileError. Delimiter:
    the one of comma, semicolon, tab and pipe that splits the first rows into the same
    number of columns most often (and into the most columns on a tie); comma when none
    splits the first row.
    """
    binary.seek(0)
    head = binary.read(4)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    bad_at = _first_undecodable_byte(binary, encoding)
    if bad_at is not None and encoding == "utf-8":
        encoding = "cp1252"
        bad_at = _first_undecodable_byte(binary, encoding)
    if bad_at is not None:
        raise CsvFileError(
            f"The file is not text in UTF-8, UTF-16 or Windows-1252: the byte at offset "
            f"{bad_at} cannot be read as {ENCODING_LABELS[encoding]}. Save it as CSV UTF-8."
        )
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    sample = decoder.decode(binary.read(SAMPLE_BYTES), final=False)
    binary.seek(0)
    return CsvShape(encoding=encoding, delimiter=csv_delimiter_of(sample))


def _first_undecodable_byte(binary: IO[bytes], encoding: str) -> int | None:
    """The offset of the first byte that `encoding` cannot decode, or None (whole file)."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    while True:
        block = binary.read(BLOCK_BYTES)
        # The decoder may hold back the start of a sequence from the previous block.
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            return max(offset - pending + exc.start, 0)
        if not block:
            return None
        offset += len(block)


def csv_delimiter_of(sample: str) -> str:
    """The delimiter of a text sample: see `csv_file_shape`."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample cut the last line
    text = "".join(lines[: SAMPLE_ROWS * 4])
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITER_LABELS:
        try:
            rows = [
                row
                for row in csv.reader(io.StringIO(text), delimiter=delimiter)
                if any(cell.strip() for cell in row)
            ][:SAMPLE_ROWS]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(1 for row in rows if len(row) == width) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_rows(binary: IO[bytes], shape: CsvShape) -> Iterator[list[str]]:
    """The file's rows (lists of cells), read from the start with its encoding and delimiter.

    A byte the encoding cannot decode raises UnicodeDecodeError, never becomes a '?'. The
    binary file stays open for the caller (it is rewound for another pass).
    """
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding=shape.encoding, errors="strict", newline="")  # type: ignore[arg-type]
    try:
        yield from csv.reader(text, delimiter=shape.delimiter)
    finally:
        if not binary.closed:  # a reader left unfinished may outlive the file
            text.detach()  # closing the wrapper would close the caller's file
