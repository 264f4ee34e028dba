"""routing.business_hours.next_open_moment: when a buyer next takes calls, across DST changes.

US changes in 2026: 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC), 2026-11-01 02:00 EDT ->
01:00 EST (06:00 UTC). Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST.
"""

import datetime as dt

from routing.business_hours import WEEKDAYS, is_open, next_open_moment

NY = "America/New_York"
WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}
EVERY_DAY_9_TO_5 = {day: [["09:00", "17:00"]] for day in WEEKDAYS}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_open_now_is_now():
    at = utc(2026, 11, 3, 15, 0)  # Tuesday 10:00 EST
    assert next_open_moment(WEEKDAYS_9_TO_5, NY, at) == at


def test_around_the_clock_is_now():
    at = utc(2026, 11, 3, 4, 0)
    assert next_open_moment({}, NY, at) == at


def test_evening_waits_for_next_morning():
    # Tuesday 18:30 EST -> Wednesday 09:00 EST = 14:00 UTC.
    assert next_open_moment(WEEKDAYS_9_TO_5, NY, utc(2026, 11, 3, 23, 30)) == utc(
        2026, 11, 4, 14, 0
    )


def test_friday_evening_waits_for_monday():
    # Friday 2026-11-06 17:00 EST is closed (the window ends before 17:00) -> Monday 09:00.
    assert next_open_moment(WEEKDAYS_9_TO_5, NY, utc(2026, 11, 6, 22, 0)) == utc(2026, 11, 9, 14, 0)


def test_spring_change_opens_at_the_new_offset():
    # Saturday 2026-03-07 20:00 EST; Sunday 09:00 is EDT (UTC-4): 13:00 UTC, not 14:00.
    assert next_open_moment(EVERY_DAY_9_TO_5, NY, utc(2026, 3, 8, 1, 0)) == utc(2026, 3, 8, 13, 0)


def test_autumn_change_opens_at_the_new_offset():
    # Saturday 2026-10-31 20:00 EDT; Sunday 09:00 is EST (UTC-5): 14:00 UTC, not 13:00.
    assert next_open_moment(EVERY_DAY_9_TO_5, NY, utc(2026, 11, 1, 0, 0)) == utc(2026, 11, 1, 14, 0)


def test_window_opening_in_the_skipped_hour_opens_at_the_change():
    # 02:30 does not exist on 2026-03-08: open from 03:00 EDT (07:00 UTC), the change itself.
    hours = {"sun": [["02:30", "06:00"]]}
    moment = next_open_moment(hours, NY, utc(2026, 3, 8, 5, 0))  # 00:00 EST
    assert moment == utc(2026, 3, 8, 7, 0)
    assert is_open(hours, NY, moment)
    assert not is_open(hours, NY, moment - dt.timedelta(seconds=1))


def test_window_opening_in_the_repeated_hour_opens_at_its_first_occurrence():
    # 01:30 happens twice on 2026-11-01: first at 01:30 EDT = 05:30 UTC.
    hours = {"sun": [["01:30", "03:00"]]}
    assert next_open_moment(hours, NY, utc(2026, 11, 1, 4, 0)) == utc(2026, 11, 1, 5, 30)


def test_repeated_hour_reenters_a_window_that_closed():
    # Open 00:00-01:15 on Sunday. At 01:20 EDT (05:20 UTC) it has closed, but the clock goes
    # back to 01:00 at 06:00 UTC, inside the window again.
    hours = {"sun": [["00:00", "01:15"]]}
    assert next_open_moment(hours, NY, utc(2026, 11, 1, 5, 20)) == utc(2026, 11, 1, 6, 0)


def test_other_zone_change_london():
    # Saturday 2026-03-28 22:00 GMT; Sunday 09:00 is BST (UTC+1): 08:00 UTC.
    hours = {"sun": [["09:00", "12:00"]]}
    assert next_open_moment(hours, "Europe/London", utc(2026, 3, 28, 22, 0)) == utc(
        2026, 3, 29, 8, 0
    )


def test_midnight_close_and_next_day():
    hours = {"mon": [["22:00", "24:00"]], "tue": [["00:00", "02:00"]]}
    # Monday 2026-11-02 21:00 EST -> 22:00 EST = 03:00 UTC Tuesday.
    assert next_open_moment(hours, NY, utc(2026, 11, 3, 2, 0)) == utc(2026, 11, 3, 3, 0)


def test_never_open_is_none():
    assert next_open_moment({day: [] for day in WEEKDAYS}, NY, utc(2026, 11, 3, 2, 0)) is None


def test_result_is_in_utc():
    at = dt.datetime(2026, 11, 3, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    moment = next_open_moment(WEEKDAYS_9_TO_5, NY, at)
    assert moment is not None and moment.tzinfo is dt.UTC
    assert moment == utc(2026, 11, 4, 14, 0)
