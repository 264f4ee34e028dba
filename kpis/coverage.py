"""Routing coverage beside the missed-calls heatmap: which targets were open in each local hour
of the week, against the calls that arrived and were missed then.

It lives in kpis, not routing, because it reads the hourly rollups, and kpis reads routing,
never the reverse (tests/test_layout.py): the rule (routing.coverage) is routing's and pure,
this module only feeds it the plan's targets and the rollups' counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from calls.models import Campaign
from ppc_dashboard.tenancy.models import Organization
from routing.coverage import (
    CellTraffic,
    CoverageCell,
    coverage_grid,
    flagged_cells,
    hour_of_week_instants,
)
from routing.rules import TargetRule

from .models import CallRollupHourlyCampaign
from .routing_targets import campaign_plan_rules
from .selectors import KpiFilter


@dataclass(frozen=True)
class CampaignCoverage:
    grid: list[list[CoverageCell]]  # [weekday 0=Monday][local hour]
    flagged: list[CoverageCell]  # costliest first
    targets: tuple[TargetRule, ...]
    plan_version: int | None  # None: no plan, every active buyer counted
    hold_seconds: float | None  # mean talk time of an answered call over the range
    revenue_per_answered: Decimal | None
    missed_in_flagged: int
    revenue_in_flagged: Decimal | None


@dataclass(frozen=True)
class HourlyTraffic:
    """A campaign's calls per hour-of-week cell over a range, and the rates priced from it."""

    cells: dict[tuple[int, int], CellTraffic]
    answered: int
    talk_seconds: int
    revenue: Decimal

    @property
    def hold_seconds(self) -> float | None:
        return self.talk_seconds / self.answered if self.answered else None

    @property
    def revenue_per_answered(self) -> Decimal | None:
        return self.revenue / self.answered if self.answered else None


def campaign_hourly_traffic(
    organization: Organization, campaign: Campaign, kpi_filter: KpiFilter
) -> HourlyTraffic:
    """Sums of the hourly campaign rollups over the filter's whole local days."""
    rows = (
        CallRollupHourlyCampaign.objects.filter(
            organization=organization,
            campaign_id=campaign.id,
            day__gte=kpi_filter.date_from,
            day__lte=kpi_filter.date_to,
        )
        .values("day", "hour")
        .annotate(
            n_calls=Sum("calls"),
            n_answered=Sum("answered"),
            n_talk=Sum("talk_seconds"),
            n_revenue=Sum("revenue"),
        )
    )
    calls: dict[tuple[int, int], list[int]] = {}
    answered = talk = 0
    revenue = Decimal(0)
    for row in rows:
        cell = (row["day"].weekday(), row["hour"])
        totals = calls.setdefault(cell, [0, 0, 0])  # calls, missed, peak
        totals[0] += row["n_calls"]
        totals[1] += row["n_calls"] - row["n_answered"]
        totals[2] = max(totals[2], row["n_calls"])
        answered += row["n_answered"]
        talk += row["n_talk"]
        revenue += row["n_revenue"] or Decimal(0)
    return HourlyTraffic(
        cells={
            cell: CellTraffic(calls=c, missed=m, peak_calls=p) for cell, (c, m, p) in calls.items()
        },
        answered=answered,
        talk_seconds=talk,
        revenue=revenue,
    )


def campaign_coverage(
    organization: Organization, campaign: Campaign, kpi_filter: KpiFilter
) -> CampaignCoverage:
    """Coverage of the campaign's current plan (every active buyer when it has none) in each
    local hour of the week over the filter's days, in the tenant's time zone."""
    plan, has_plan = campaign_plan_rules(organization, campaign)
    targets, plan_version = plan.targets, (plan.version if has_plan else None)
    traffic = campaign_hourly_traffic(organization, campaign, kpi_filter)
    grid = coverage_grid(
        targets,
        hour_of_week_instants(organization.timezone, kpi_filter.date_from, kpi_filter.date_to),
        traffic.cells,
        hold_seconds=traffic.hold_seconds,
        revenue_per_answered=traffic.revenue_per_answered,
    )
    flagged = flagged_cells(grid)
    rate = traffic.revenue_per_answered
    missed = sum(cell.missed for cell in flagged)
    return CampaignCoverage(
        grid=grid,
        flagged=flagged,
        targets=targets,
        plan_version=plan_version,
        hold_seconds=traffic.hold_seconds,
        revenue_per_answered=rate,
        missed_in_flagged=missed,
        revenue_in_flagged=None if rate is None else rate * missed,
    )
