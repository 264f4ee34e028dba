"""Routing coverage per hour of the week, as pure functions: which targets were open in each
local weekday x hour of a date range, with what capacity, against the traffic that arrived.

No Django and no database: the caller (kpis.coverage) reads the plan's targets and the hourly
rollups and passes them in. The counts come from the KPI engine's rollups, which live above
routing (kpis reads routing, never the reverse), so this module takes them as plain numbers.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .business_hours import is_open
from .rules import TargetRule

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Cell = tuple[int, int]  # (local weekday 0=Monday, local hour 0-23)


class CoverageFlag(enum.StrEnum):
    NONE = "none"  # traffic arrived and no target was open
    THIN = "thin"  # a single target, or less capacity than the estimated peak demand


@dataclass(frozen=True, slots=True)
class CellTraffic:
    """The calls of one hour-of-week cell over the range."""

    calls: int = 0
    missed: int = 0  # KPIS.md: calls - answered
    # The most calls that arrived in one local day's instance of this hour: the busiest
    # Tuesday 18:00 of the range, say. Peak demand is estimated from it.
    peak_calls: int = 0


@dataclass(frozen=True, slots=True)
class CoverageCell:
    weekday: int
    hour: int
    open_targets: tuple[str, ...]  # names of the targets open at this hour on every such day
    capacity: int | None  # sum of their concurrency caps; None: at least one is unlimited
    calls: int
    missed: int
    peak_demand: int | None  # estimated concurrent calls at the busiest instance; None: unknown
    flag: CoverageFlag | None
    reason: str  # why the cell is flagged, for a person; "" when it is not
    missed_revenue: Decimal | None  # missed x revenue per answered call; None: no such rate

    @property
    def label(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.hour:02d}:00"


def hour_of_week_instants(
    timezone: str, date_from: dt.date, date_to: dt.date
) -> dict[Cell, list[dt.datetime]]:
    """Every local day-hour of the range as the aware instant of its middle (hh:30), grouped
    by hour-of-week cell. A local hour that DST skips is left out; a repeated one counts once
    (its first occurrence), as the hourly rollups key rows by local day and hour."""
    zone = zoneinfo.ZoneInfo(timezone)
    cells: dict[Cell, list[dt.datetime]] = {}
    day = date_from
    while day <= date_to:
        for hour in range(24):
            local = dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone)
            # A wall time that does not exist comes back different after a round trip.
            if local.astimezone(dt.UTC).astimezone(zone) != local:
                continue
            cells.setdefault((day.weekday(), hour), []).append(local)
        day += dt.timedelta(days=1)
    return cells


def can_take_calls(target: TargetRule, at: dt.datetime) -> bool:
    """Whether a target could be sent a call at `at` by its settings alone (not its live
    counts): active, with a number to dial, and open in its own time zone."""
    return (
        target.active
        and bool(target.destination)
        and is_open(dict(target.hours), target.timezone, at)
    )


def peak_concurrent_demand(peak_calls: int, hold_seconds: float | None) -> int | None:
    """Calls in progress at once in the busiest instance of an hour, estimated as its arrivals
    times the mean time a call holds a line, over the hour (the offered load in Erlangs),
    rounded up. None when the hold time is unknown (no answered calls)."""
    if hold_seconds is None:
        return None
    if peak_calls == 0:
        return 0
    return math.ceil(peak_calls * hold_seconds / 3600)


def coverage_grid(
    targets: Sequence[TargetRule],
    instants: Mapping[Cell, Sequence[dt.datetime]],
    traffic: Mapping[Cell, CellTraffic],
    *,
    hold_seconds: float | None,
    revenue_per_answered: Decimal | None,
) -> list[list[CoverageCell]]:
    """[weekday][hour] cells. A target counts as open in a cell when it can take calls at the
    middle of that hour on every day of the range that has it: a target open on some of them
    only (a DST change between its zone and the tenant's) is not counted on, which is what
    flagging thin coverage needs."""
    grid: list[list[CoverageCell]] = []
    for weekday in range(7):
        row = []
        for hour in range(24):
            cell = (weekday, hour)
            times = instants.get(cell, ())
            open_now = [t for t in targets if times and all(can_take_calls(t, at) for at in times)]
            caps = [t.concurrency_cap for t in open_now]
            capacity = None if any(cap is None for cap in caps) else sum(caps)  # type: ignore[arg-type]
            counts = traffic.get(cell, CellTraffic())
            demand = peak_concurrent_demand(counts.peak_calls, hold_seconds)
            flag, reason = _flag(open_now, capacity, demand, counts)
            row.append(
                CoverageCell(
                    weekday=weekday,
                    hour=hour,
                    open_targets=tuple(t.name for t in open_now),
                    capacity=capacity,
                    calls=counts.calls,
                    missed=counts.missed,
                    peak_demand=demand,
                    flag=flag,
                    reason=reason,
                    missed_revenue=(
                        None
                        if revenue_per_answered is None
                        else revenue_per_answered * counts.missed
                    ),
                )
            )
        grid.append(row)
    return grid


def _flag(
    open_now: Sequence[TargetRule],
    capacity: int | None,
    demand: int | None,
    counts: CellTraffic,
) -> tuple[CoverageFlag | None, str]:
    if counts.calls == 0:
        return None, ""  # nothing arrived: a gap in coverage cost nothing here
    if not open_now:
        return CoverageFlag.NONE, "no target open"
    if capacity is not None and demand is not None and capacity < demand:
        return (
            CoverageFlag.THIN,
            f"capacity {capacity} below the estimated peak of {demand} calls at once",
        )
    if len(open_now) == 1:
        return CoverageFlag.THIN, f"only {open_now[0].name} open: no backup"
    return None, ""


def flagged_cells(grid: Sequence[Sequence[CoverageCell]]) -> list[CoverageCell]:
    """Flagged cells, the costliest (most missed calls) first."""
    cells = [cell for row in grid for cell in row if cell.flag is not None]
    return sorted(cells, key=lambda c: (-c.missed, c.weekday, c.hour))
