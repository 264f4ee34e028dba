"""How a CSV file is read (calls/csv_reading.py): encodings and delimiters as people save
them. Pure: no database."""

from __future__ import annotations

import codecs
import csv
import io

import pytest

from calls.csv_reading import CsvFileError, CsvShape, csv_delimiter_of, csv_file_shape, csv_rows

ROWS = [["name", "amount", "note"], ["Café Lumière", "12,50", "a; b"], ["Zoë", "3", "x|y"]]


def saved(rows, delimiter: str, encoding: str, bom: bytes = b"") -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return io.BytesIO(bom + text.getvalue().encode(encoding))


@pytest.mark.parametrize(
    ("binary", "shape"),
    [
        (saved(ROWS, ",", "utf-8"), CsvShape("utf-8", ",")),
        (saved(ROWS, ";", "utf-8", codecs.BOM_UTF8), CsvShape("utf-8-sig", ";")),
        (saved(ROWS, "\t", "utf-16"), CsvShape("utf-16", "\t")),
        (saved(ROWS, "\t", "utf-16-be", codecs.BOM_UTF16_BE), CsvShape("utf-16", "\t")),
        (saved(ROWS, "|", "cp1252"), CsvShape("cp1252", "|")),
        (saved(ROWS, ";", "cp1252"), CsvShape("cp1252", ";")),
    ],
    ids=["utf8-comma", "utf8bom-semicolon", "utf16le-tab", "utf16be-tab", "cp1252-pipe", "cp1252"],
)
def test_file_shape_is_detected_and_rows_read_intact(binary, shape):
    assert csv_file_shape(binary) == shape
    assert list(csv_rows(binary, shape)) == ROWS
    assert not binary.closed  # the caller's file stays open for another pass


def test_shape_names_what_it_detected():
    assert str(CsvShape("utf-8-sig", ";")) == "UTF-8 with BOM, semicolon-separated"
    assert str(CsvShape("cp1252", "\t")) == "Windows-1252, tab-separated"


def test_utf8_file_with_one_latin1_byte_far_down_is_read_as_cp1252_not_replaced():
    # The sample alone looks like UTF-8; the whole file is checked.
    body = b"name,amount\r\n" + b"plain,1\r\n" * 20000 + "Bogotá,2\r\n".encode("cp1252")
    binary = io.BytesIO(body)
    shape = csv_file_shape(binary)
    assert shape.encoding == "cp1252"
    assert list(csv_rows(binary, shape))[-1] == ["Bogotá", "2"]


def test_file_in_no_accepted_encoding_is_refused_with_the_offset():
    binary = io.BytesIO(b"name,amount\r\nab\x81\xff,1\r\n")
    with pytest.raises(CsvFileError, match="offset 15"):
        csv_file_shape(binary)


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2,25;3\n", ";"),  # decimal commas do not make it comma-separated
        ("a\tb\n1\t2\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('a,b\n"x;y;z",2\n', ","),  # a quoted delimiter-like cell
        ("single\nvalue\n", ","),
        ("a,b,c\n1,2,3\n4,5,6\n7,8", ","),  # a sample cut mid-line
    ],
)
def test_delimiter_is_the_one_that_splits_rows_alike(sample, delimiter):
    assert csv_delimiter_of(sample) == delimiter
