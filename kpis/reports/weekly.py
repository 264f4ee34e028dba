"""The weekly report for any filter: one build from the KPI selector, three renderings.

`weekly_report_data(organization, kpi_filter)` reads everything through `kpis_report` and
`verdicts_report` (never the calls table): the totals with the previous period of the same
length, one breakdown per campaign, publisher, buyer and day, and the verdicts. The same
`WeeklyReport` is then rendered as

- CSV (`report_csv`): one flat table, one header row, every row self-describing. Columns:
  `section` (`total`, `previous_period`, `campaign`, `publisher`, `buyer`, `day`), `key` (the
  campaign / publisher / buyer id or the ISO day; empty for the totals, the "No publisher"
  style rows and "Ad spend not attributed"), `name`, `date_from` and `date_to` (the period
  the row covers),
  `verdict`, `reasons` and `notes` (campaign and publisher rows), then the KPI columns named
  as in the KPI API. Cell values are the API's: money as decimal strings with 4 places in the
  tenant's currency, rates as percentages (14.2857 means 14.2857%) rounded to 4 places, null
  KPIs as empty cells. A single table sorts, filters and loads (pandas, SQL) without parsing
  sections. A name starting with = + - @ gets a leading ' (spreadsheet formula injection).
- XLSX (`report_xlsx`): a Summary sheet (KPI, this period, previous period, change; then the
  organization, periods and filters) and one sheet per breakdown (Campaigns, Publishers,
  Buyers, Days), header row and name column frozen, columns sized to their content. Money
  cells hold the Decimal in the tenant's currency format, rates are fractions in a percentage
  format (Excel's convention: 0.142857 shown as 14.3%), counts are integers, null KPIs are
  empty cells, names are always text (never formulas). The change vs the previous period is
  relative, as on the overview tiles. The Summary sheet carries two native Excel charts drawn
  from the breakdown sheets' cells (so they follow an edit there): the daily trend (calls,
  answered, conversions of the Days sheet) and the conversion rate of the busiest
  `CHART_PUBLISHERS` publishers (the Publishers sheet's first rows).
- HTML (`report_summary_lines`, `report_tables`): display strings for the print page.

Breakdown rows of campaigns, publishers and buyers are ordered by calls, busiest first; the
Days breakdown lists every day of the range, a day without calls included (all counts 0).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.http import QueryDict
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from calls.models import Campaign, Vertical
from kpis.decisions import VerdictsReport, verdicts_report
from kpis.formatting import CURRENCY_SYMBOLS, format_kpi
from kpis.metrics import BaseCounts, Kpis
from kpis.pages.page_data import kpi_change
from kpis.pages.page_filters import PageFilters, page_filters_from_query
from kpis.selectors import (
    AD_SPEND_NOT_ATTRIBUTED,
    MONEY_PLACES,
    GroupBy,
    KpiFilter,
    KpiRow,
    kpi_row,
    kpi_view_error,
    kpis_as_dict,
    kpis_report,
    report_tag_keys,
)
from kpis.verdicts import Verdict
from ppc_dashboard.csv_cells import csv_text
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer


class Kind(StrEnum):
    """How a KPI is stored and shown."""

    COUNT = "count"
    MONEY = "money"  # Decimal in the tenant's currency
    PERCENT = "percent"  # a percentage: 14.0 means 14%
    SECONDS = "seconds"


@dataclass(frozen=True)
class Measure:
    name: str  # the KPI API field name, used as the CSV column
    header: str
    kind: Kind
    value: Callable[[Kpis], int | float | Decimal | None]


def _ci_low(kpis: Kpis) -> float | None:
    return kpis.conversion_rate_ci[0] if kpis.conversion_rate_ci else None


def _ci_high(kpis: Kpis) -> float | None:
    return kpis.conversion_rate_ci[1] if kpis.conversion_rate_ci else None


def _measure(name: str, header: str, kind: Kind) -> Measure:
    return Measure(name, header, kind, lambda kpis: getattr(kpis, name))


CALLS = _measure("calls", "Calls", Kind.COUNT)
ANSWERED = _measure("answered", "Answered", Kind.COUNT)
MISSED = _measure("missed", "Missed", Kind.COUNT)
MISSED_RATE = _measure("missed_rate", "Missed-call rate", Kind.PERCENT)
AVERAGE_DURATION = _measure("average_duration", "Avg duration (s)", Kind.SECONDS)
QUALIFIED = _measure("qualified", "Qualified", Kind.COUNT)
QUALIFIED_RATE = _measure("qualified_rate", "Qualified rate", Kind.PERCENT)
CONVERSIONS = _measure("conversions", "Conversions", Kind.COUNT)
CONVERSION_RATE = _measure("conversion_rate", "Conversion rate", Kind.PERCENT)
CONVERSION_CI_LOW = Measure("conversion_rate_ci_low", "Conv. 95% CI low", Kind.PERCENT, _ci_low)
CONVERSION_CI_HIGH = Measure("conversion_rate_ci_high", "Conv. 95% CI high", Kind.PERCENT, _ci_high)
REVENUE = _measure("revenue", "Revenue", Kind.MONEY)
SPEND = _measure("spend", "Spend", Kind.MONEY)
PROFIT = _measure("profit", "Profit", Kind.MONEY)
ROI = _measure("roi", "ROI", Kind.PERCENT)
COST_PER_CALL = _measure("cost_per_call", "Cost per call", Kind.MONEY)
CPA = _measure("cpa", "CPA", Kind.MONEY)
RPM = _measure("rpm", "RPM", Kind.MONEY)
REPEAT_RATE = _measure("repeat_rate", "Repeat rate", Kind.PERCENT)
SHORT_CALL_RATE = _measure("short_call_rate", "Short-call rate", Kind.PERCENT)

BREAKDOWN_MEASURES = (
    CALLS,
    ANSWERED,
    MISSED,
    MISSED_RATE,
    AVERAGE_DURATION,
    QUALIFIED,
    QUALIFIED_RATE,
    CONVERSIONS,
    CONVERSION_RATE,
    CONVERSION_CI_LOW,
    CONVERSION_CI_HIGH,
    REVENUE,
    SPEND,
    PROFIT,
    ROI,
    COST_PER_CALL,
    CPA,
    RPM,
    REPEAT_RATE,
    SHORT_CALL_RATE,
)
# The Summary sheet, the print page's summary and the mail: every breakdown column but the
# interval bounds and the call-quality rates.
SUMMARY_MEASURES = tuple(
    m
    for m in BREAKDOWN_MEASURES
    if m not in (CONVERSION_CI_LOW, CONVERSION_CI_HIGH, REPEAT_RATE, SHORT_CALL_RATE)
)
# The print page has a page's width: the columns a manager reads first.
PRINT_MEASURES = (
    CALLS,
    MISSED_RATE,
    AVERAGE_DURATION,
    CONVERSION_RATE,
    REVENUE,
    SPEND,
    PROFIT,
    COST_PER_CALL,
    CPA,
    RPM,
)


# --- Building the report -------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    group_by: GroupBy
    title: str  # the sheet name
    label_header: str
    rows: list[KpiRow]
    # Verdicts by row key (campaigns and publishers only).
    verdicts: dict[Any, Verdict] = field(default_factory=dict)
    tag_key: str | None = None  # the report tag of a GroupBy.TAG breakdown

    @property
    def has_verdicts(self) -> bool:
        return self.group_by in (GroupBy.CAMPAIGN, GroupBy.PUBLISHER)

    @property
    def has_ids(self) -> bool:
        """Rows are campaigns, publishers or buyers, with ids."""
        return self.group_by in (GroupBy.CAMPAIGN, GroupBy.PUBLISHER, GroupBy.BUYER)

    @property
    def section(self) -> str:
        """The CSV's section name: the grouping as the KPI API spells it (tag:<key>)."""
        return f"tag:{self.tag_key}" if self.group_by is GroupBy.TAG else self.group_by.value


# Characters a sheet name cannot hold; its length is at most 31.
_SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def tag_sheet_title(key: str) -> str:
    return f"Tag {key}".translate(_SHEET_NAME_FORBIDDEN)[:31]


@dataclass(frozen=True)
class WeeklyReport:
    organization: Organization
    filters: KpiFilter
    previous_filters: KpiFilter
    totals: Kpis
    previous: Kpis
    breakdowns: list[Breakdown]
    verdicts: VerdictsReport
    # The filter as people read it: [("Campaign", "Auto insurance"), ...].
    filter_labels: list[tuple[str, str]]


_BREAKDOWNS = (
    (GroupBy.CAMPAIGN, "Campaigns", "Campaign"),
    (GroupBy.PUBLISHER, "Publishers", "Publisher"),
    (GroupBy.BUYER, "Buyers", "Buyer"),
    (GroupBy.DAY, "Days", "Day"),
)


def _every_day(filters: KpiFilter, rows: list[KpiRow]) -> list[KpiRow]:
    by_day = {row.key: row for row in rows}
    return [
        by_day.get(day) or kpi_row(day, day.isoformat(), BaseCounts())
        for day in filters.local_days()
    ]


def _filter_labels(organization: Organization, filters: KpiFilter) -> list[tuple[str, str]]:
    # Names are looked up within the tenant: another tenant's id shows as "#id", never a name.
    labels = []
    for title, model, object_id in (
        ("Campaign", Campaign, filters.campaign_id),
        ("Publisher", Publisher, filters.publisher_id),
        ("Buyer", Buyer, filters.buyer_id),
    ):
        if object_id is not None:
            name = (
                model.objects.for_organization(organization)
                .filter(id=object_id)
                .values_list("name", flat=True)
                .first()
            )
            labels.append((title, name or f"#{object_id}"))
    if filters.vertical:
        labels.append(("Vertical", str(Vertical(filters.vertical).label)))
    if filters.region is not None:
        labels.append(("Region", filters.region))
    if filters.tag is not None:
        labels.append(("Tag", ":".join(filters.tag)))
    return labels


def weekly_report_data(organization: Organization, kpi_filter: KpiFilter) -> WeeklyReport:
    """The report over `kpi_filter` (any range; "weekly" is the default range and the mail)."""
    previous_filters = kpi_filter.previous_period()
    verdicts = verdicts_report(organization, kpi_filter)
    verdicts_by_group = {
        GroupBy.CAMPAIGN: {entity.id: entity.verdict for entity in verdicts.campaigns},
        GroupBy.PUBLISHER: {entity.id: entity.verdict for entity in verdicts.publishers},
    }
    breakdowns = []
    # One breakdown per report tag, after the others (a sheet each in the XLSX).
    every_breakdown: list[tuple[GroupBy, str, str, str | None]] = [
        (group_by, title, label_header, None) for group_by, title, label_header in _BREAKDOWNS
    ] + [(GroupBy.TAG, tag_sheet_title(key), key, key) for key in report_tag_keys(organization)]
    for group_by, title, label_header, tag_key in every_breakdown:
        if kpi_view_error(kpi_filter, group_by, tag_key):
            # A region or tag filter: buyers (and other tags) are not rolled up with it.
            continue
        grouped = kpis_report(organization, kpi_filter, group_by, tag_key)
        rows = grouped.rows
        if group_by is GroupBy.DAY:
            rows = _every_day(kpi_filter, rows)
        else:
            rows = sorted(rows, key=lambda row: (-row.kpis.calls, row.key is None, row.label))
        breakdowns.append(
            Breakdown(
                group_by=group_by,
                title=title,
                label_header=label_header,
                rows=rows,
                verdicts=verdicts_by_group.get(group_by, {}),
                tag_key=tag_key,
            )
        )
    return WeeklyReport(
        organization=organization,
        filters=kpi_filter,
        previous_filters=previous_filters,
        totals=kpis_report(organization, kpi_filter).totals.kpis,
        previous=kpis_report(organization, previous_filters).totals.kpis,
        breakdowns=breakdowns,
        verdicts=verdicts,
        filter_labels=_filter_labels(organization, kpi_filter),
    )


def last_full_week(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the last week that has fully passed by `today`."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return monday, monday + dt.timedelta(days=6)


def report_filters_from_query(
    query: QueryDict, organization: Organization, *, today: dt.date
) -> PageFilters:
    """The page filters of a report: as on every page, except that a query naming no `range`
    covers the last full week (`today` is the tenant's local date)."""
    if not query.get("range"):
        monday, sunday = last_full_week(today)
        query = query.copy()
        query["range"] = "custom"
        query["date_from"] = query.get("date_from") or monday.isoformat()
        query["date_to"] = query.get("date_to") or sunday.isoformat()
    return page_filters_from_query(query, organization)


def report_filename(report: WeeklyReport, extension: str) -> str:
    filters = report.filters
    return (
        f"report-{report.organization.slug}-{filters.date_from.isoformat()}"
        f"-to-{filters.date_to.isoformat()}.{extension}"
    )


# --- Values and their formats ---------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def money_number_format(currency: str) -> str:
    """An Excel number format showing amounts as the pages do ("$1,234.50", "1,234.50 ZAR")."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f'"{symbol}"#,##0.00'
    return f'#,##0.00 "{currency}"'


def _summary_comparisons(report: WeeklyReport) -> Iterator[tuple[Measure, Any, Any, float | None]]:
    """Each summary KPI: this period, the previous period, and the relative change in %."""
    for measure in SUMMARY_MEASURES:
        current, previous = measure.value(report.totals), measure.value(report.previous)
        yield measure, current, previous, kpi_change(current, previous)


def change_text(change: float | None) -> str:
    """A relative change for people: "+12.5%", "-3.0%"; "-" when there is none."""
    return "-" if change is None else f"{change:+.1f}%"


# --- CSV ----------------------------------------------------------------------------------

_CSV_LEADING = ["section", "key", "name", "date_from", "date_to", "verdict", "reasons", "notes"]


def _csv_values(kpis: Kpis) -> list[str]:
    # The KPI API's own serialization, so a CSV cell and the API agree to the last digit.
    values = kpis_as_dict(kpis)
    ci = values.pop("conversion_rate_ci") or (None, None)
    values["conversion_rate_ci_low"], values["conversion_rate_ci_high"] = ci
    return ["" if values[m.name] is None else str(values[m.name]) for m in BREAKDOWN_MEASURES]


def _csv_row(
    section: str,
    key: Any,
    name: str,
    period: tuple[dt.date, dt.date],
    kpis: Kpis,
    verdict: Verdict | None = None,
) -> list[str]:
    if isinstance(key, dt.date):
        key = key.isoformat()
    return [
        section,
        "" if key in (None, AD_SPEND_NOT_ATTRIBUTED) else str(key),
        csv_text(name),
        period[0].isoformat(),
        period[1].isoformat(),
        verdict.label if verdict else "",
        csv_text(" | ".join(verdict.reasons)) if verdict else "",
        csv_text(" | ".join(verdict.notes)) if verdict else "",
        *_csv_values(kpis),
    ]


def report_csv(report: WeeklyReport) -> str:
    """The report as one flat CSV table (layout in the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_LEADING + [m.name for m in BREAKDOWN_MEASURES])
    current = (report.filters.date_from, report.filters.date_to)
    previous = (report.previous_filters.date_from, report.previous_filters.date_to)
    writer.writerow(_csv_row("total", None, "Total", current, report.totals))
    writer.writerow(_csv_row("previous_period", None, "Previous period", previous, report.previous))
    for breakdown in report.breakdowns:
        for row in breakdown.rows:
            period = (row.key, row.key) if breakdown.group_by is GroupBy.DAY else current
            writer.writerow(
                _csv_row(
                    breakdown.section,
                    row.key,
                    row.label,
                    period,
                    row.kpis,
                    breakdown.verdicts.get(row.key),
                )
            )
    return out.getvalue()


# --- XLSX ---------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8ECF2")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="9AA4B2"))
_NUMBER_FORMATS = {
    Kind.COUNT: "#,##0",
    Kind.PERCENT: "0.0%",
    Kind.SECONDS: "#,##0.0",
}
_CHANGE_FORMAT = "+0.0%;-0.0%;0.0%"
_DATE_FORMAT = "yyyy-mm-dd"
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _xlsx_value(kind: Kind, value: Any) -> Any:
    """A cell value: Decimal money (openpyxl writes it exactly), rates as fractions."""
    if value is None:
        return None
    if kind is Kind.MONEY:
        return value.quantize(MONEY_PLACES)
    if kind is Kind.PERCENT:
        return value / 100
    return value


def _number_format(kind: Kind, currency: str) -> str:
    return money_number_format(currency) if kind is Kind.MONEY else _NUMBER_FORMATS[kind]


# (value, number format or None, the text it shows as: for the column width)
_Cell = tuple[Any, str | None, str]


def _kpi_cell(kind: Kind, value: Any, currency: str) -> _Cell:
    return (
        _xlsx_value(kind, value),
        _number_format(kind, currency),
        format_kpi(value, kind.value, currency),
    )


def _text_cell(text: str | None) -> _Cell:
    return (text, None, text or "")


class _SheetWriter:
    """Appends rows to a sheet and remembers each column's widest text for the widths."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.widths: dict[int, int] = {}

    def header(self, titles: list[str]) -> None:
        self.sheet.append(titles)
        for column, title in enumerate(titles, start=1):
            cell = self.sheet.cell(row=self.sheet.max_row, column=column)
            cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_BORDER
            self._fit(column, title)
        self.sheet.freeze_panes = "B2"  # the header row and the name column stay in view

    def row(self, cells: list[_Cell]) -> None:
        self.sheet.append([value for value, _, _ in cells])
        for column, (value, number_format, text) in enumerate(cells, start=1):
            cell = self.sheet.cell(row=self.sheet.max_row, column=column)
            if isinstance(value, str):
                # openpyxl stores "=..." as a formula: a tenant's publisher named
                # "=HYPERLINK(...)" must stay text in the manager's spreadsheet.
                cell.data_type = "s"
            if number_format:
                cell.number_format = number_format
            self._fit(column, text)

    def _fit(self, column: int, text: str) -> None:
        self.widths[column] = max(self.widths.get(column, 0), len(text))

    def finish(self) -> None:
        for column, width in self.widths.items():
            letter = get_column_letter(column)
            self.sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)


def _write_summary(sheet: Worksheet, report: WeeklyReport) -> None:
    currency = report.organization.currency
    writer = _SheetWriter(sheet)
    writer.header(["KPI", "This period", "Previous period", "Change"])
    for measure, current, previous, change in _summary_comparisons(report):
        writer.row(
            [
                _text_cell(measure.header),
                _kpi_cell(measure.kind, current, currency),
                _kpi_cell(measure.kind, previous, currency),
                (None if change is None else change / 100, _CHANGE_FORMAT, change_text(change)),
            ]
        )
    sheet.append([])
    organization = report.organization
    facts = [
        ("Organization", organization.name),
        ("Period", period_text(report.filters)),
        ("Previous period", period_text(report.previous_filters)),
        ("Filters", filters_text(report)),
        ("Currency", organization.currency),
        ("Time zone", organization.timezone),
    ]
    for label, text in facts:
        writer.row([_text_cell(label), _text_cell(text)])
        sheet.cell(row=sheet.max_row, column=1).font = _HEADER_FONT
    writer.finish()


def _leading_headers(breakdown: Breakdown) -> list[str]:
    """The columns before the measures: the name, its id, its verdict."""
    leading = [breakdown.label_header] + (["ID"] if breakdown.has_ids else [])
    return leading + (["Verdict"] if breakdown.has_verdicts else [])


def measure_column(breakdown: Breakdown, measure: Measure) -> int:
    """The 1-based column of a measure in the breakdown's sheet."""
    return len(_leading_headers(breakdown)) + BREAKDOWN_MEASURES.index(measure) + 1


def _write_breakdown(sheet: Worksheet, breakdown: Breakdown, currency: str) -> None:
    writer = _SheetWriter(sheet)
    is_day = breakdown.group_by is GroupBy.DAY
    leading = _leading_headers(breakdown)
    trailing = ["Reasons", "Notes"] if breakdown.has_verdicts else []
    writer.header(leading + [m.header for m in BREAKDOWN_MEASURES] + trailing)
    for row in breakdown.rows:
        if is_day:
            cells: list[_Cell] = [(row.key, _DATE_FORMAT, row.label)]
        elif breakdown.has_ids:
            entity_id = None if row.key == AD_SPEND_NOT_ATTRIBUTED else row.key
            cells = [_text_cell(row.label), (entity_id, "0", str(entity_id or ""))]
        else:
            cells = [_text_cell(row.label)]
        verdict = breakdown.verdicts.get(row.key)
        if breakdown.has_verdicts:
            cells.append(_text_cell(verdict.label if verdict else None))
        cells += [_kpi_cell(m.kind, m.value(row.kpis), currency) for m in BREAKDOWN_MEASURES]
        if breakdown.has_verdicts:
            cells.append(_text_cell("; ".join(verdict.reasons) if verdict else None))
            cells.append(_text_cell("; ".join(verdict.notes) if verdict else None))
        writer.row(cells)
    if breakdown.rows:
        sheet.auto_filter.ref = sheet.dimensions
    writer.finish()


# The conversion chart's bars: more would not be readable, and the sheet has them all.
CHART_PUBLISHERS = 20
TREND_MEASURES = (CALLS, ANSWERED, CONVERSIONS)  # counts, so one axis reads them all


def _shown_axes(chart: LineChart | BarChart) -> None:
    # openpyxl 3.1 writes axes as deleted unless told otherwise: Excel then draws none.
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _trend_chart(sheet: Worksheet, days: Breakdown) -> LineChart:
    last_row = len(days.rows) + 1
    chart = LineChart()
    chart.title = "Daily trend"
    chart.y_axis.title = "Calls"
    chart.y_axis.number_format = "#,##0"
    chart.x_axis.number_format = _DATE_FORMAT
    for measure in TREND_MEASURES:
        column = measure_column(days, measure)
        # From the header row: the series takes its name from it.
        data = Reference(sheet, min_col=column, min_row=1, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last_row))
    chart.width, chart.height = 18, 8
    _shown_axes(chart)
    return chart


def _publisher_conversion_chart(sheet: Worksheet, publishers: Breakdown) -> BarChart:
    shown = min(len(publishers.rows), CHART_PUBLISHERS)
    chart = BarChart()
    chart.type = "bar"  # horizontal: publisher names read along the axis
    chart.title = f"Conversion rate, the {shown} busiest publishers"
    chart.y_axis.number_format = "0%"
    chart.x_axis.scaling.orientation = "maxMin"  # the busiest on top, as in the sheet
    chart.legend = None
    column = measure_column(publishers, CONVERSION_RATE)
    chart.add_data(
        Reference(sheet, min_col=column, min_row=1, max_row=shown + 1), titles_from_data=True
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=shown + 1))
    chart.width, chart.height = 18, max(6, 0.6 * shown + 2)
    _shown_axes(chart)
    return chart


def _add_charts(summary: Worksheet, sheets: dict[GroupBy, tuple[Worksheet, Breakdown]]) -> None:
    anchor_row = 2
    if GroupBy.DAY in sheets and sheets[GroupBy.DAY][1].rows:
        summary.add_chart(_trend_chart(*sheets[GroupBy.DAY]), f"F{anchor_row}")
        anchor_row += 18
    if GroupBy.PUBLISHER in sheets and sheets[GroupBy.PUBLISHER][1].rows:
        summary.add_chart(_publisher_conversion_chart(*sheets[GroupBy.PUBLISHER]), f"F{anchor_row}")


def report_xlsx(report: WeeklyReport) -> bytes:
    """The report as an Excel workbook (layout in the module docstring)."""
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = "Summary"
    _write_summary(summary, report)
    sheets: dict[GroupBy, tuple[Worksheet, Breakdown]] = {}
    for breakdown in report.breakdowns:
        sheet = workbook.create_sheet(breakdown.title)
        _write_breakdown(sheet, breakdown, report.organization.currency)
        if breakdown.group_by is not GroupBy.TAG:
            sheets[breakdown.group_by] = (sheet, breakdown)
    _add_charts(summary, sheets)
    workbook.properties.title = f"{report.organization.name}: {period_text(report.filters)}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Text for the print page and the mail ---------------------------------------------------


def period_text(filters: KpiFilter) -> str:
    """ "2026-11-02 to 2026-11-08" (one date for a single day)."""
    if filters.date_from == filters.date_to:
        return filters.date_from.isoformat()
    return f"{filters.date_from.isoformat()} to {filters.date_to.isoformat()}"


def filters_text(report: WeeklyReport) -> str:
    return ", ".join(f"{title}: {name}" for title, name in report.filter_labels) or "None"


@dataclass(frozen=True)
class SummaryLine:
    header: str
    current: str
    previous: str
    change: str


def report_summary_lines(report: WeeklyReport) -> list[SummaryLine]:
    """The Summary sheet as display strings."""
    currency = report.organization.currency
    return [
        SummaryLine(
            header=measure.header,
            current=format_kpi(current, measure.kind.value, currency),
            previous=format_kpi(previous, measure.kind.value, currency),
            change=change_text(change),
        )
        for measure, current, previous, change in _summary_comparisons(report)
    ]


@dataclass(frozen=True)
class DisplayRow:
    label: str
    verdict: str | None
    cells: list[str]


@dataclass(frozen=True)
class DisplayTable:
    title: str
    label_header: str
    has_verdicts: bool
    headers: list[str]
    rows: list[DisplayRow]


def report_tables(report: WeeklyReport) -> list[DisplayTable]:
    """The breakdowns as display strings, with the print page's columns."""
    currency = report.organization.currency
    return [
        DisplayTable(
            title=breakdown.title,
            label_header=breakdown.label_header,
            has_verdicts=breakdown.has_verdicts,
            headers=[m.header for m in PRINT_MEASURES],
            rows=[
                DisplayRow(
                    label=row.label,
                    verdict=(
                        verdict.label if (verdict := breakdown.verdicts.get(row.key)) else None
                    ),
                    cells=[
                        format_kpi(m.value(row.kpis), m.kind.value, currency)
                        for m in PRINT_MEASURES
                    ],
                )
                for row in breakdown.rows
            ],
        )
        for breakdown in report.breakdowns
    ]
