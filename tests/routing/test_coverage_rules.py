"""routing.coverage: the pure rule behind the coverage grid, on hand-made targets and counts."""

import datetime as dt
from decimal import Decimal

from routing.coverage import (
    CellTraffic,
    CoverageFlag,
    coverage_grid,
    flagged_cells,
    hour_of_week_instants,
    peak_concurrent_demand,
)
from routing.rules import TargetRule

WEEKDAYS_9_TO_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def target(target_id, name, hours, cap=None, tz="America/New_York", **extra):
    return TargetRule(
        target_id=target_id,
        name=name,
        destination=f"+1212555000{target_id}",
        timezone=tz,
        hours=hours,
        tier=1,
        weight=1,
        concurrency_cap=cap,
        **extra,
    )


def grid_of(targets, traffic, *, hold=600.0, rate=Decimal("30")):
    instants = hour_of_week_instants("America/New_York", dt.date(2026, 11, 2), dt.date(2026, 11, 8))
    return coverage_grid(targets, instants, traffic, hold_seconds=hold, revenue_per_answered=rate)


def test_open_targets_capacity_and_flags_per_hour_of_week():
    day = target(1, "Day", WEEKDAYS_9_TO_17, cap=2)
    late = target(2, "Late", {"mon": [["09:00", "22:00"]]}, cap=3)
    traffic = {
        (0, 10): CellTraffic(calls=4, missed=0, peak_calls=4),
        (0, 19): CellTraffic(calls=3, missed=3, peak_calls=3),
        (1, 19): CellTraffic(calls=5, missed=5, peak_calls=5),
    }
    grid = grid_of([day, late], traffic)
    monday_10, monday_19, tuesday_19 = grid[0][10], grid[0][19], grid[1][19]
    assert monday_10.open_targets == ("Day", "Late")
    assert monday_10.capacity == 5
    assert monday_10.flag is None  # two targets, 5 lines for ceil(4 x 600 / 3600) = 1
    assert monday_19.open_targets == ("Late",)
    assert monday_19.flag is CoverageFlag.THIN
    assert monday_19.reason == "only Late open: no backup"
    assert tuesday_19.open_targets == ()
    assert tuesday_19.flag is CoverageFlag.NONE
    assert tuesday_19.missed_revenue == Decimal("150")  # 5 missed x 30 per answered call
    # An hour without calls is never flagged, however empty.
    assert grid[6][3].open_targets == () and grid[6][3].flag is None
    assert [c.label for c in flagged_cells(grid)] == ["Tue 19:00", "Mon 19:00"]


def test_capacity_below_the_estimated_peak_is_thin_and_unlimited_never_is():
    capped = [target(1, "A", {}, cap=1), target(2, "B", {}, cap=1)]
    traffic = {(2, 14): CellTraffic(calls=30, missed=4, peak_calls=30)}
    cell = grid_of(capped, traffic, hold=360.0)[2][14]
    assert peak_concurrent_demand(30, 360.0) == 3  # 30 calls x 6 min over 60 min
    assert cell.capacity == 2
    assert cell.flag is CoverageFlag.THIN
    assert cell.reason == "capacity 2 below the estimated peak of 3 calls at once"
    unlimited = [target(1, "A", {}, cap=1), target(2, "B", {}, cap=None)]
    cell = grid_of(unlimited, traffic, hold=360.0)[2][14]
    assert cell.capacity is None and cell.flag is None


def test_inactive_or_numberless_targets_do_not_cover():
    targets = [
        target(1, "Off", {}, active=False),
        TargetRule(
            target_id=2,
            name="No number",
            destination="",
            timezone="UTC",
            hours={},
            tier=1,
            weight=1,
        ),
    ]
    cell = grid_of(targets, {(0, 0): CellTraffic(calls=1, missed=1, peak_calls=1)})[0][0]
    assert cell.open_targets == () and cell.flag is CoverageFlag.NONE


def test_a_target_in_another_zone_is_read_in_its_own_hours():
    # 09:00-17:00 in Los Angeles is 12:00-20:00 in New York.
    west = target(1, "West", WEEKDAYS_9_TO_17, tz="America/Los_Angeles")
    grid = grid_of([west], {})
    assert [h for h in range(24) if grid[0][h].open_targets] == list(range(12, 20))


def test_dst_skipped_hour_is_left_out_and_partial_days_do_not_count_as_open():
    # 2026-03-08: New York skips 02:00-03:00.
    instants = hour_of_week_instants("America/New_York", dt.date(2026, 3, 1), dt.date(2026, 3, 14))
    assert len(instants[(6, 2)]) == 1  # the Sunday before only
    assert len(instants[(6, 3)]) == 2
    # London changes on 2026-03-29: a London buyer open on Sundays 09:00-17:00 is open at
    # 05:00-13:00 New York time on the 22nd and 04:00-12:00 on the 29th. Only the hours open
    # on both Sundays count as covered.
    london = target(1, "London", {"sun": [["09:00", "17:00"]]}, tz="Europe/London")
    instants = hour_of_week_instants("America/New_York", dt.date(2026, 3, 22), dt.date(2026, 4, 4))
    grid = coverage_grid([london], instants, {}, hold_seconds=None, revenue_per_answered=None)
    assert [h for h in range(24) if grid[6][h].open_targets] == list(range(5, 12))
