"""Page assembly for the analysis pages: selector reads -> tiles, tables and rendered charts.

Reads KPIs only through kpis.selectors and kpis.decisions (rollups, never the calls table);
kpis.pages.charts turns the plain series built here into figures. One function per page, so the
views stay a parse-read-render sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from calls.models import Campaign
from calls.selectors import FilterChoices
from kpis.coverage import CampaignCoverage, campaign_coverage
from kpis.decisions import (
    CampaignReallocation,
    EntityVerdict,
    ThresholdSuggestion,
    reallocation_report,
    threshold_suggestions,
    verdicts_report,
)
from kpis.formatting import format_kpi
from kpis.metrics import (
    DURATION_BUCKET_EDGES,
    BaseCounts,
    Kpis,
    duration_bucket_label,
    kpis_from_counts,
)
from kpis.selectors import (
    AD_SPEND_NOT_ATTRIBUTED,
    GroupBy,
    KpiFilter,
    KpiQueryError,
    KpiReport,
    kpis_as_dict,
    kpis_report,
    report_tag_keys,
)
from kpis.verdicts import Verdict
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher

from . import charts
from .page_filters import PageFilters
from .us_states import GRID_COLUMNS, GRID_ROWS, STATE_NAMES, STATE_TILES, state_code

# --- KPI tiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TileSpec:
    key: str  # a Kpis field
    label: str
    kind: str  # a kpi_format kind
    better: str | None  # "up", "down", or None when a change is neither good nor bad


TILES = (
    TileSpec("calls", "Calls", "count", "up"),
    TileSpec("answered", "Answered", "count", "up"),
    TileSpec("missed_rate", "Missed-call rate", "percent", "down"),
    TileSpec("average_duration", "Avg duration", "seconds", "up"),
    TileSpec("conversion_rate", "Conversion rate", "percent", "up"),
    TileSpec("cost_per_call", "Cost per call", "money", "down"),
    TileSpec("cpa", "CPA", "money", "down"),
    TileSpec("rpm", "RPM", "money", "up"),
    TileSpec("revenue", "Revenue", "money", "up"),
    # More spend is neither good nor bad by itself: it is scaling or waste, which the
    # CPA, RPM and profit tiles tell apart.
    TileSpec("spend", "Spend", "money", None),
    TileSpec("profit", "Profit", "money", "up"),
    TileSpec("roi", "ROI", "percent", "up"),
    TileSpec("repeat_rate", "Repeat rate", "percent", "down"),
    TileSpec("short_call_rate", "Short-call rate", "percent", "down"),
    # Follow-ups (README "Follow-ups"): callers won back by calling them.
    TileSpec("recovery_rate", "Recovery rate", "percent", "up"),
    TileSpec("recovered_revenue", "Recovered revenue", "money", "up"),
)
OVERVIEW_TILES = (
    "calls",
    "answered",
    "missed_rate",
    "average_duration",
    "conversion_rate",
    "cost_per_call",
    "cpa",
    "rpm",
    "revenue",
    "spend",
    "profit",
)
PUBLISHER_TILES = (
    "calls",
    "conversion_rate",
    "missed_rate",
    "average_duration",
    "rpm",
    "cpa",
    "revenue",
    "spend",
    "profit",
    "roi",
    "repeat_rate",
    "short_call_rate",
    "recovery_rate",
    "recovered_revenue",
)
CAMPAIGN_TILES = (
    "calls",
    "missed_rate",
    "average_duration",
    "conversion_rate",
    "cpa",
    "rpm",
    "spend",
    "profit",
    "recovery_rate",
    "recovered_revenue",
)


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    kind: str
    value: Any
    api_value: Any  # the value as the KPI API writes it (data-value, for browser checks)
    previous: Any
    change_pct: float | None  # relative change vs the previous period, %
    direction: str | None  # "up", "down", "flat"; None when either side is null
    tone: str  # "good", "bad", "neutral"

    @property
    def change_magnitude(self) -> float | None:
        # The arrow carries the sign.
        return None if self.change_pct is None else abs(self.change_pct)


def kpi_change(current: Any, previous: Any) -> float | None:
    """Relative change in % (against |previous|, so a loss shrinking reads as up)."""
    if current is None or previous is None or previous == 0:
        return None
    return float((current - previous) * 100 / abs(previous))


def _tile(spec: TileSpec, current: Kpis, previous: Kpis, api_values: dict[str, Any]) -> Tile:
    value, before = getattr(current, spec.key), getattr(previous, spec.key)
    direction = None
    if value is not None and before is not None:
        direction = "up" if value > before else "down" if value < before else "flat"
    if spec.better is None or direction in (None, "flat"):
        tone = "neutral"
    else:
        tone = "good" if direction == spec.better else "bad"
    return Tile(
        key=spec.key,
        label=spec.label,
        kind=spec.kind,
        value=value,
        api_value=api_values[spec.key],
        previous=before,
        change_pct=kpi_change(value, before),
        direction=direction,
        tone=tone,
    )


def kpi_tiles(current: Kpis, previous: Kpis, keys: Iterable[str]) -> list[Tile]:
    """Tiles of these KPIs, in the order of TILES."""
    wanted = set(keys)
    api_values = kpis_as_dict(current)  # once for all tiles, not once a tile
    return [_tile(spec, current, previous, api_values) for spec in TILES if spec.key in wanted]


# --- Series ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailySeries:
    days: list[str]
    calls: list[int]
    conversions: list[int]
    revenue: list[float]
    rpm: list[float | None]


def _as_float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def daily_series(report: KpiReport) -> DailySeries:
    """Every local day of the filter, days without calls as 0 (and no RPM)."""
    rows = {row.key: row.kpis for row in report.rows}
    days = report.filters.local_days()
    by_day = [rows.get(day) for day in days]
    return DailySeries(
        days=[day.isoformat() for day in days],
        calls=[k.calls if k else 0 for k in by_day],
        conversions=[k.conversions if k else 0 for k in by_day],
        revenue=[float(k.revenue) if k else 0.0 for k in by_day],
        rpm=[_as_float(k.rpm) if k else None for k in by_day],
    )


def _daily_trend_chart(series: DailySeries, currency: str) -> str:
    figure = charts.daily_trend_figure(
        days=series.days,
        calls=series.calls,
        conversions=series.conversions,
        revenue=series.revenue,
        currency=currency,
    )
    return charts.figure_html(figure, "chart-daily-trend")


# --- Verdicts ----------------------------------------------------------------------------

VERDICT_LABELS = ("scale", "fix", "cut", "watch")
VERDICT_TITLES = {
    "scale": "Scale",
    "fix": "Fix (routing or the deal)",
    "cut": "Cut",
    "watch": "Watch",
}


@dataclass(frozen=True)
class VerdictGroup:
    label: str
    title: str
    campaigns: list[EntityVerdict]
    publishers: list[EntityVerdict]

    @property
    def count(self) -> int:
        return len(self.campaigns) + len(self.publishers)


def _by_calls(entities: Iterable[EntityVerdict]) -> list[EntityVerdict]:
    return sorted(entities, key=lambda e: (-e.kpis.calls, e.name))


def verdict_groups(
    campaigns: Sequence[EntityVerdict], publishers: Sequence[EntityVerdict]
) -> list[VerdictGroup]:
    """Scale, fix, cut, watch: who is in each, the busiest first."""
    return [
        VerdictGroup(
            label=label,
            title=VERDICT_TITLES[label],
            campaigns=_by_calls(c for c in campaigns if c.verdict.label == label),
            publishers=_by_calls(p for p in publishers if p.verdict.label == label),
        )
        for label in VERDICT_LABELS
    ]


# --- Overview ----------------------------------------------------------------------------


@dataclass
class OverviewPage:
    previous_filter: KpiFilter
    tiles: list[Tile]
    verdict_groups: list[VerdictGroup]
    charts: dict[str, str]


def overview_page(organization: Organization, kpi_filter: KpiFilter) -> OverviewPage:
    report = kpis_report(organization, kpi_filter, GroupBy.DAY)
    previous_filter = kpi_filter.previous_period()
    previous = kpis_report(organization, previous_filter).totals.kpis
    verdicts = verdicts_report(organization, kpi_filter)
    return OverviewPage(
        previous_filter=previous_filter,
        tiles=kpi_tiles(report.totals.kpis, previous, OVERVIEW_TILES),
        verdict_groups=verdict_groups(verdicts.campaigns, verdicts.publishers),
        charts={"daily_trend": _daily_trend_chart(daily_series(report), organization.currency)},
    )


# --- Campaigns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignListRow:
    campaign: Campaign
    kpis: Kpis | None  # None: no calls in the filter
    verdict: Verdict | None


def campaign_list_page(
    organization: Organization, kpi_filter: KpiFilter, campaigns: Iterable[Campaign]
) -> list[CampaignListRow]:
    """Every campaign the filter allows, busiest first, with its KPIs and verdict."""
    verdicts = verdicts_report(organization, kpi_filter, overall_publishers=False)
    judged = {v.id: v for v in verdicts.campaigns}
    rows = [
        CampaignListRow(
            campaign=campaign,
            kpis=judged[campaign.id].kpis if campaign.id in judged else None,
            verdict=judged[campaign.id].verdict if campaign.id in judged else None,
        )
        for campaign in campaigns
        if kpi_filter.campaign_id in (None, campaign.id)
        and kpi_filter.vertical in (None, campaign.vertical)
    ]
    return sorted(rows, key=lambda row: (-(row.kpis.calls if row.kpis else 0), row.campaign.name))


@dataclass(frozen=True)
class HourOfWeekGrid:
    """[weekday 0=Monday][local hour] cells."""

    missed: list[list[int]]
    calls: list[list[int]]
    missed_rates: list[list[float | None]]


def hour_of_week_grid(report: KpiReport) -> HourOfWeekGrid:
    cells = {row.key: row.kpis for row in report.rows}
    grid = [[cells.get((day, hour)) for hour in range(24)] for day in range(7)]
    return HourOfWeekGrid(
        missed=[[k.missed if k else 0 for k in row] for row in grid],
        calls=[[k.calls if k else 0 for k in row] for row in grid],
        missed_rates=[[k.missed_rate if k else None for k in row] for row in grid],
    )


@dataclass
class CampaignPage:
    campaign: Campaign
    verdict: EntityVerdict | None
    tiles: list[Tile]
    leaderboard: list[EntityVerdict]
    qualifying_seconds: int
    threshold: ThresholdSuggestion | None  # the finder's suggestion, or why there is none
    heatmap_error: str
    coverage: CampaignCoverage | None = None  # None: the filter cannot be read hourly
    charts: dict[str, str] = field(default_factory=dict)


def _duration_chart(
    organization: Organization, kpi_filter: KpiFilter, campaign: Campaign
) -> tuple[str, ThresholdSuggestion | None]:
    try:
        suggestions = threshold_suggestions(organization, kpi_filter)
    except KpiQueryError:
        return "", None  # talk-time buckets carry no region or tag: the page says so
    suggestion = next((s for s in suggestions if s.campaign_id == campaign.id), None)
    edges = list(DURATION_BUCKET_EDGES)
    buckets = suggestion.buckets if suggestion else []
    figure = charts.duration_conversion_figure(
        labels=[duration_bucket_label(i) for i in range(len(edges))],
        edges=edges,
        conversion_rates=[b.conversion_rate for b in buckets] or [None] * len(edges),
        answered=[b.answered for b in buckets] or [0] * len(edges),
        qualifying_seconds=campaign.qualifying_seconds,
        suggested_seconds=suggestion.suggested_seconds if suggestion else None,
    )
    return charts.figure_html(figure, "chart-duration-buckets"), suggestion


def _heatmap_chart(organization: Organization, kpi_filter: KpiFilter) -> tuple[str, str]:
    try:
        report = kpis_report(organization, kpi_filter, GroupBy.HOUR_OF_WEEK)
    except KpiQueryError:
        # Hourly rollups carry no buyer, region or tag: say so rather than draw the unfiltered
        # heatmap.
        named = [
            name
            for name, value in (
                ("buyer", kpi_filter.buyer_id),
                ("region", kpi_filter.region),
                ("tag", kpi_filter.tag),
            )
            if value is not None
        ]
        what = " or ".join(named) or "this filter"
        return "", f"The hour-of-week heatmap cannot be filtered by {what}; clear that filter."
    grid = hour_of_week_grid(report)
    figure = charts.missed_heatmap_figure(
        missed=grid.missed, calls=grid.calls, missed_rates=grid.missed_rates
    )
    return charts.figure_html(figure, "chart-missed-heatmap"), ""


def _coverage_chart(coverage: CampaignCoverage) -> str:
    grid = coverage.grid
    figure = charts.coverage_figure(
        open_targets=[[len(cell.open_targets) for cell in row] for row in grid],
        capacities=[[cell.capacity for cell in row] for row in grid],
        calls=[[cell.calls for cell in row] for row in grid],
        missed=[[cell.missed for cell in row] for row in grid],
        flags=[[cell.flag.value if cell.flag else "" for cell in row] for row in grid],
    )
    return charts.figure_html(figure, "chart-coverage")


def campaign_page(
    organization: Organization, campaign: Campaign, kpi_filter: KpiFilter
) -> CampaignPage:
    """One campaign over the filter (the campaign in the path wins over ?campaign=)."""
    kpi_filter = replace(kpi_filter, campaign_id=campaign.id)
    report = kpis_report(organization, kpi_filter, GroupBy.DAY)
    previous = kpis_report(organization, kpi_filter.previous_period()).totals.kpis
    verdicts = verdicts_report(organization, kpi_filter, overall_publishers=False)
    duration_html, threshold = _duration_chart(organization, kpi_filter, campaign)
    heatmap_html, heatmap_error = _heatmap_chart(organization, kpi_filter)
    # Coverage reads the campaign's hourly rollups, as the heatmap does: not per buyer, region
    # or tag (the heatmap says so), nor per publisher (the page says it counts them all).
    coverage = None if heatmap_error else campaign_coverage(organization, campaign, kpi_filter)
    series = daily_series(report)
    rpm_figure = charts.rpm_trend_figure(
        days=series.days,
        rpm=series.rpm,
        rpm_floor=_as_float(campaign.rpm_floor),
        currency=organization.currency,
    )
    return CampaignPage(
        campaign=campaign,
        verdict=next((v for v in verdicts.campaigns if v.id == campaign.id), None),
        tiles=kpi_tiles(report.totals.kpis, previous, CAMPAIGN_TILES),
        leaderboard=_by_calls(verdicts.publishers_by_campaign.get(campaign.id, [])),
        qualifying_seconds=campaign.qualifying_seconds,
        threshold=threshold,
        heatmap_error=heatmap_error,
        coverage=coverage,
        charts={
            "duration_buckets": duration_html,
            "missed_heatmap": heatmap_html,
            "coverage": _coverage_chart(coverage) if coverage else "",
            "rpm_trend": charts.figure_html(rpm_figure, "chart-rpm-trend"),
        },
    )


# --- Publishers --------------------------------------------------------------------------


@dataclass
class PublishersPage:
    totals: Kpis
    publishers: list[EntityVerdict]  # best conversion first
    reallocations: list[CampaignReallocation]
    freed_spend: Decimal
    charts: dict[str, str]


def _publisher_charts(publishers: Sequence[EntityVerdict], totals: Kpis) -> dict[str, str]:
    rated = [p for p in publishers if p.kpis.conversion_rate_ci is not None]
    intervals = charts.conversion_intervals_figure(
        names=[p.name for p in rated],
        rates=[p.kpis.conversion_rate or 0.0 for p in rated],
        lows=[p.kpis.conversion_rate_ci[0] for p in rated if p.kpis.conversion_rate_ci],
        highs=[p.kpis.conversion_rate_ci[1] for p in rated if p.kpis.conversion_rate_ci],
        calls=[p.kpis.calls for p in rated],
        verdicts=[p.verdict.label for p in rated],
    )
    # A publisher without answered calls has no duration: it cannot be placed.
    placed = [p for p in rated if p.kpis.average_duration is not None]
    quadrant = charts.quadrant_figure(
        names=[p.name for p in placed],
        durations=[p.kpis.average_duration or 0.0 for p in placed],
        rates=[p.kpis.conversion_rate or 0.0 for p in placed],
        calls=[p.kpis.calls for p in placed],
        verdicts=[p.verdict.label for p in placed],
        duration_split=totals.average_duration,
        rate_split=totals.conversion_rate,
    )
    return {
        "conversion_intervals": charts.figure_html(intervals, "chart-conversion-intervals"),
        "quadrant": charts.figure_html(quadrant, "chart-quadrant"),
    }


def publishers_page(organization: Organization, kpi_filter: KpiFilter) -> PublishersPage:
    totals = kpis_report(organization, kpi_filter).totals.kpis
    verdicts = verdicts_report(organization, kpi_filter)
    publishers = sorted(
        verdicts.publishers,
        key=lambda p: (p.kpis.conversion_rate is None, -(p.kpis.conversion_rate or 0), p.name),
    )
    reallocations = reallocation_report(organization, kpi_filter, verdicts)
    return PublishersPage(
        totals=totals,
        publishers=publishers,
        reallocations=reallocations,
        freed_spend=sum((r.reallocation.freed_spend for r in reallocations), Decimal("0")),
        charts=_publisher_charts(publishers, totals),
    )


@dataclass
class PublisherCampaign:
    """One campaign a publisher sends calls to: its verdict there and what it is judged by."""

    campaign: Campaign
    judged: EntityVerdict


@dataclass
class PublisherPage:
    publisher: Publisher
    tiles: list[Tile]
    verdict: EntityVerdict | None  # overall, across campaigns; None without calls
    campaigns: list[PublisherCampaign]  # busiest first
    call_log_query: str  # the call log's filters for this publisher and range
    charts: dict[str, str] = field(default_factory=dict)


def publisher_page(
    organization: Organization, publisher: Publisher, kpi_filter: KpiFilter
) -> PublisherPage:
    """One publisher over the filter (the publisher in the path wins over ?publisher=): its
    KPIs, trend, verdict overall and per campaign, and the calls it sent."""
    kpi_filter = replace(kpi_filter, publisher_id=publisher.id)
    report = kpis_report(organization, kpi_filter, GroupBy.DAY)
    previous = kpis_report(organization, kpi_filter.previous_period()).totals.kpis
    verdicts = verdicts_report(organization, kpi_filter)
    campaigns = {c.id: c for c in Campaign.objects.for_organization(organization)}
    per_campaign = [
        PublisherCampaign(campaign=campaigns[campaign_id], judged=judged)
        for campaign_id, judged_list in verdicts.publishers_by_campaign.items()
        for judged in judged_list
        if judged.id == publisher.id and campaign_id in campaigns
    ]
    per_campaign.sort(key=lambda c: (-c.judged.kpis.calls, c.campaign.name))
    call_log = {
        "publisher": publisher.id,
        "date_from": kpi_filter.date_from.isoformat(),
        "date_to": kpi_filter.date_to.isoformat(),
    }
    if kpi_filter.campaign_id is not None:
        call_log["campaign"] = kpi_filter.campaign_id
    if kpi_filter.buyer_id is not None:
        call_log["buyer"] = kpi_filter.buyer_id
    if kpi_filter.tag is not None:
        call_log["tag"] = ":".join(kpi_filter.tag)  # the call log filters by any tag
    return PublisherPage(
        publisher=publisher,
        tiles=kpi_tiles(report.totals.kpis, previous, PUBLISHER_TILES),
        verdict=next((v for v in verdicts.publishers if v.id == publisher.id), None),
        campaigns=per_campaign,
        call_log_query=urlencode(call_log),
        charts={"daily_trend": _daily_trend_chart(daily_series(report), organization.currency)},
    )


# --- Filter bar --------------------------------------------------------------------------


def page_filters_checked(page_filters: PageFilters, choices: FilterChoices) -> PageFilters:
    """Ids the tenant does not have are errors and fall back to "all", like other bad values.

    (The selectors would only answer zeros for them; saying so is kinder than a page of "-".)
    """
    kpi_filter, errors = page_filters.kpi_filter, dict(page_filters.errors)
    for name, field_name, known in (
        ("campaign", "campaign_id", choices.campaigns),
        ("publisher", "publisher_id", choices.publishers),
        ("buyer", "buyer_id", choices.buyers),
    ):
        value = getattr(kpi_filter, field_name)
        if value is not None and value not in {id_ for id_, _ in known}:
            errors[name] = f"There is no {name} #{value}."
            kpi_filter = replace(kpi_filter, **{field_name: None})
    return replace(page_filters, kpi_filter=kpi_filter, errors=errors)


# --- Geography ---------------------------------------------------------------------------

GEO_METRICS = {
    "calls": ("Calls", "count"),
    "conversion_rate": ("Conversion rate", "percent"),
    "missed_rate": ("Missed-call rate", "percent"),
    "rpm": ("RPM", "money"),
}
DEFAULT_GEO_METRIC = "calls"


@dataclass(frozen=True)
class DimensionRow:
    """A row of a region or tag table: its KPIs, and the filter that narrows pages to it."""

    label: str
    kpis: Kpis
    filter_query: str  # "region=IL", "tag=source:google"; "" when no filter names the row
    code: str | None = None  # the US state of a region row


def _region_row(label: str, region: str | None, kpis: Kpis, code: str | None) -> DimensionRow:
    query = urlencode({"region": region}) if region else ""
    return DimensionRow(label=label, kpis=kpis, filter_query=query, code=code)


@dataclass
class GeographyPage:
    metric: str
    metric_label: str
    states: list[DimensionRow]  # US states with calls, busiest first
    other_regions: list[DimensionRow]  # regions that are no US state, then "No region"
    unattributed_spend: Decimal  # ad spend: it names no region
    error: str = ""
    charts: dict[str, str] = field(default_factory=dict)


def _region_rows(report: KpiReport) -> tuple[list[DimensionRow], list[DimensionRow], Decimal]:
    """The region rows by US state (spellings of one state summed: "IL", "Illinois"), the
    other regions as they are, and the ad spend no region holds."""
    by_state: dict[str, BaseCounts] = {}
    spelled: dict[str, str] = {}
    others: list[DimensionRow] = []
    spend = Decimal(0)
    for row in report.rows:
        if row.key == AD_SPEND_NOT_ATTRIBUTED:
            spend += row.counts.ad_spend
            continue
        code = state_code(row.key)
        if code is None:
            others.append(_region_row(row.label, row.key, row.kpis, None))
            continue
        by_state[code] = by_state[code] + row.counts if code in by_state else row.counts
        # The filter link names the spelling with the most calls.
        if code not in spelled or row.counts.calls > by_state[code].calls - row.counts.calls:
            spelled[code] = row.key
    states = [
        _region_row(STATE_NAMES[code], spelled[code], kpis_from_counts(counts), code)
        for code, counts in by_state.items()
    ]
    states.sort(key=lambda r: (-r.kpis.calls, r.label))
    others.sort(key=lambda r: (not r.filter_query, -r.kpis.calls, r.label))
    return states, others, spend


def _state_hover(row: DimensionRow | None, code: str, currency: str) -> str:
    name = f"{STATE_NAMES[code]} ({code})"
    if row is None:
        return f"{name}: no calls"
    k = row.kpis
    return (
        f"{name}: {format_kpi(k.calls, 'count')} calls<br>"
        f"conversion {format_kpi(k.conversion_rate, 'percent')} · "
        f"missed {format_kpi(k.missed_rate, 'percent')} · "
        f"RPM {format_kpi(k.rpm, 'money', currency)}"
    )


def geography_page(
    organization: Organization, kpi_filter: KpiFilter, metric: str = DEFAULT_GEO_METRIC
) -> GeographyPage:
    """Calls, conversion, missed rate and RPM per caller state: a tile-grid map and a table."""
    metric = metric if metric in GEO_METRICS else DEFAULT_GEO_METRIC
    label, _kind = GEO_METRICS[metric]
    page = GeographyPage(
        metric=metric,
        metric_label=label,
        states=[],
        other_regions=[],
        unattributed_spend=Decimal(0),
    )
    try:
        report = kpis_report(organization, kpi_filter, GroupBy.REGION)
    except KpiQueryError as exc:
        page.error = f"The geography cannot be shown for these filters: {exc}."
        return page
    page.states, page.other_regions, page.unattributed_spend = _region_rows(report)
    rows = {row.code: row for row in page.states}
    codes = list(STATE_TILES)
    values = []
    for code in codes:
        value = getattr(rows[code].kpis, metric) if code in rows else None
        values.append(None if value is None else float(value))
    figure = charts.state_tile_map_figure(
        grid_rows=GRID_ROWS,
        grid_columns=GRID_COLUMNS,
        tiles=[(*STATE_TILES[code], code) for code in codes],
        values=values,
        hovers=[_state_hover(rows.get(code), code, organization.currency) for code in codes],
        metric_label=label,
    )
    page.charts["state_map"] = charts.figure_html(figure, "chart-state-map")
    return page


# --- Report tags -------------------------------------------------------------------------


@dataclass
class TagsPage:
    keys: list[str]  # the tenant's report tag keys
    key: str | None  # the one shown
    rows: list[DimensionRow]  # one per value, the busiest first; "no tag" and ad spend last
    error: str = ""


def tags_page(organization: Organization, kpi_filter: KpiFilter, key: str | None) -> TagsPage:
    """KPIs per value of one report tag (the first unless `key` names another)."""
    keys = report_tag_keys(organization)
    page = TagsPage(keys=keys, key=None, rows=[])
    if not keys:
        return page
    if key is not None and key not in keys:
        page.error = f"'{key}' is not a report tag: showing {keys[0]}."
    page.key = key if key in keys else keys[0]
    try:
        report = kpis_report(organization, kpi_filter, GroupBy.TAG, tag_key=page.key)
    except KpiQueryError as exc:
        page.error = f"Tags cannot be shown for these filters: {exc}."
        return page
    rows = sorted(
        report.rows,
        key=lambda row: (
            row.key == AD_SPEND_NOT_ATTRIBUTED,
            row.key is None,
            -row.kpis.calls,
            row.label,
        ),
    )
    page.rows = [
        DimensionRow(
            label=row.label,
            kpis=row.kpis,
            filter_query=(
                ""
                if row.key is None or row.key == AD_SPEND_NOT_ATTRIBUTED
                else urlencode({"tag": f"{page.key}:{row.key}"})
            ),
        )
        for row in rows
    ]
    return page
