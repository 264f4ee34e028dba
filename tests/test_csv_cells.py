"""Formula-safe CSV text cells (ppc_dashboard/csv_cells.py): pure, no database."""

import pytest

from ppc_dashboard.csv_cells import csv_text


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-21-21",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "+1\n=1+1",
        "-٣",  # not an ASCII digit
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Star Media", "", "a=b", "+13125550100", "-12.50", "5"])
def test_names_and_plain_numbers_stay_as_they_are(text):
    assert csv_text(text) == text
