"""The weekly grid's conversion to and from the stored hours, and their one-line summary:
pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from routing.business_hours import (
    BusinessHoursError,
    grid_from_hours,
    hours_from_grid,
    hours_summary,
    validate_business_hours,
)


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def test_a_grid_with_two_windows_and_closed_days_becomes_every_weekday():
    grid = {
        "mon": [(t("09:00"), t("12:00")), (t("13:00"), t("17:00"))],
        "sat": [(t("10:00"), t("14:00")), (None, None)],
    }
    hours = hours_from_grid(grid)
    assert hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [["10:00", "14:00"]],
        "sun": [],
    }
    validate_business_hours(hours)


def test_a_window_closing_at_midnight_is_stored_as_24_00_and_shown_as_00_00():
    hours = hours_from_grid({"fri": [(t("18:00"), t("00:00"))]})
    assert hours["fri"] == [["18:00", "24:00"]]
    assert grid_from_hours(hours)["fri"] == [("18:00", "00:00")]


def test_half_a_window_names_its_day_and_window():
    with pytest.raises(BusinessHoursError, match="tue: window 2 needs both"):
        hours_from_grid({"tue": [(t("09:00"), t("12:00")), (t("13:00"), None)]})


def test_grid_from_hours_round_trips():
    hours = {"mon": [["09:00", "17:00"]], "wed": [["08:00", "10:00"], ["11:00", "24:00"]]}
    grid = grid_from_hours(hours)
    assert grid["tue"] == [] and grid["wed"] == [("08:00", "10:00"), ("11:00", "00:00")]
    back = hours_from_grid(
        {day: [(t(o), t(c)) for o, c in windows] for day, windows in grid.items()}
    )
    assert {day: windows for day, windows in back.items() if windows} == hours


@pytest.mark.parametrize(
    "hours, summary",
    [
        ({}, "Around the clock"),
        (
            {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "Mon-Fri 09:00-17:00 · Sat-Sun closed",
        ),
        (
            {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sun": [["10:00", "14:00"]]},
            "Mon 09:00-12:00, 13:00-17:00 · Tue-Sat closed · Sun 10:00-14:00",
        ),
    ],
)
def test_hours_summary_reads_as_a_person_would_say_it(hours, summary):
    assert hours_summary(hours) == summary
