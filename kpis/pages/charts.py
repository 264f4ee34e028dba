"""Plain series -> Plotly figures for the analysis pages.

No ORM and no models here: callers (kpis.pages.page_data) read the selectors and pass lists of
labels and numbers, with None where a KPI has an empty denominator (drawn as a gap, shown as
"-" in hovers). `figure_html` renders a figure for a template as data: the page loads plotly.js
and `static/js/charts.js` from our static files, which draw it (no inline script, so the
Content-Security-Policy allows scripts from our own files only).

Figures are plain dicts already in the form plotly.py's validation gives (named colorscales
spelt out, `marker_color` as `marker.color`, the spans of add_hline / add_vline as their
shapes), and are rendered without validating again: a go.Figure costs 2-5 ms a figure in
validation alone, a page draws up to four. Tests hold every builder to
`go.Figure(figure).to_dict() == figure`, so plotly would neither refuse nor change them.

Every figure carries its text alternative in `layout.meta` (`chart_text`): a summary sentence
and the table of the numbers it draws, built by the same builder from the same series.
`figure_html` writes them under the chart (a sentence, and the table in a <details>) and
leaves them out of the JSON the browser draws from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import SafeString
from plotly.colors import sequential
from plotly.utils import PlotlyJSONEncoder

from kpis.formatting import format_kpi
from kpis.selectors import WEEKDAYS

Figure = dict[str, Any]

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
# static/js/charts.js hides Plotly's toolbar below this width: on a phone it covered legends
# and the threshold labels.
PHONE_MAX_WIDTH = 640
VERDICT_COLORS = {"scale": "#1e8449", "watch": "#8a94a6", "fix": "#d68910", "cut": "#c0392b"}
VERDICT_ORDER = ("scale", "watch", "fix", "cut")
ACCENT = "#1f6feb"
SECOND = "#1e8449"
THIRD = "#d68910"
MUTED = "#5b6577"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
GRID = "#eef0f4"
AXIS_LINES = {"gridcolor": GRID, "linecolor": "#dfe3ea", "zerolinecolor": "#dfe3ea"}
# A small template of our own: the built-in "plotly_white" is large and would be written
# into every figure.
TEMPLATE = {
    "layout": {
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "colorway": [ACCENT, SECOND, THIRD, "#8e44ad", "#c0392b", MUTED],
        "xaxis": AXIS_LINES,
        "yaxis": AXIS_LINES,
    }
}
# "Reds" as validation spells it out: evenly spaced stops.
REDS = [[index / (len(sequential.Reds) - 1), color] for index, color in enumerate(sequential.Reds)]
BLUES = [
    [index / (len(sequential.Blues) - 1), color] for index, color in enumerate(sequential.Blues)
]


def _layout(**overrides) -> dict:
    layout = {
        "template": TEMPLATE,
        "height": 320,
        "margin": {"l": 56, "r": 24, "t": 16, "b": 40},
        "font": {"family": FONT, "size": 12, "color": "#1d2430"},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": {"family": FONT}},
    }
    layout.update(overrides)
    return layout


def _horizontal_line(y: float, line: dict) -> dict:
    """What go.Figure.add_hline draws: across the plot at data height `y`."""
    return {
        "type": "line",
        "line": line,
        "x0": 0,
        "x1": 1,
        "xref": "x domain",
        "y0": y,
        "y1": y,
        "yref": "y",
    }


def _vertical_line(x: float, line: dict) -> dict:
    """What go.Figure.add_vline draws: up the plot at data position `x`."""
    return {
        "type": "line",
        "line": line,
        "x0": x,
        "x1": x,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
    }


def _rows_by_verdict(verdicts: Sequence[str]) -> list[tuple[str, list[int]]]:
    """The row indices of each verdict, in legend order; verdicts no row has are left out."""
    rows = {
        verdict: [i for i, v in enumerate(verdicts) if v == verdict] for verdict in VERDICT_ORDER
    }
    return [(verdict, indices) for verdict, indices in rows.items() if indices]


def chart_text(summary: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict:
    """A figure's text alternative, for `layout.meta`: the summary sentence, and the table of
    its numbers as people read them (cells already formatted; the first column names the
    row)."""
    return {
        "summary": summary,
        "columns": list(columns),
        "rows": [[str(cell) for cell in row] for row in rows],
    }


def figure_html(figure: Figure, div_id: str) -> SafeString:
    """The figure's <div>, its data as a JSON <script> block that static/js/charts.js draws
    into the div (a data block is never executed, so the CSP needs no nonce for it), and its
    text alternative: the summary (the <figure>'s caption, so its accessible name) and the
    data table. The div carries the figure's height: charts.js draws a chart only when it
    comes near the viewport and holds its box until then, so nothing below moves."""
    layout = {key: value for key, value in figure["layout"].items() if key != "meta"}
    text = figure["layout"]["meta"]
    spec = {"data": figure["data"], "layout": layout, "config": PLOT_CONFIG}
    data_id = f"{div_id}-figure"
    header = format_html_join("", '<th scope="col">{}</th>', ((c,) for c in text["columns"]))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html(
                    '<th scope="row">{}</th>{}',
                    row[0],
                    format_html_join("", "<td>{}</td>", ((cell,) for cell in row[1:])),
                ),
            )
            for row in text["rows"]
        ),
    )
    return format_html(
        '<figure class="chart-figure">'
        '<div id="{}" class="plotly-graph-div" data-plotly-figure="{}" data-plotly-height="{}">'
        "</div>{}"
        '<figcaption><p class="chart-summary">{}</p>'
        '<details class="chart-data"><summary>The numbers behind this chart</summary>'
        '<div class="table-wrap">'
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>"
        "</details></figcaption></figure>",
        div_id,
        data_id,
        layout["height"],
        # json_script escapes <, > and &, so no label can close the block.
        json_script(spec, data_id, encoder=PlotlyJSONEncoder),
        text["summary"],
        header,
        body,
    )


def daily_trend_figure(
    *,
    days: Sequence[str],
    calls: Sequence[int],
    conversions: Sequence[int],
    revenue: Sequence[float],
    currency: str,
) -> Figure:
    """Calls (bars) and conversions per local day, revenue on a second axis."""
    days = list(days)
    money = [format_kpi(value, "money", currency) for value in revenue]
    if days:
        busiest = max(range(len(days)), key=lambda i: (calls[i], -i))
        summary = (
            f"{format_kpi(sum(calls), 'count')} calls, "
            f"{format_kpi(sum(conversions), 'count')} conversions and "
            f"{format_kpi(sum(revenue), 'money', currency)} revenue over {len(days)} days "
            f"({days[0]} to {days[-1]}); the busiest day was {days[busiest]} with "
            f"{format_kpi(calls[busiest], 'count')} calls."
        )
    else:
        summary = "No days to show."
    text = chart_text(
        summary,
        ["Day", "Calls", "Conversions", "Revenue"],
        [
            [day, format_kpi(n, "count"), format_kpi(c, "count"), m]
            for day, n, c, m in zip(days, calls, conversions, money, strict=True)
        ],
    )
    return {
        "data": [
            {
                "type": "bar",
                "x": days,
                "y": list(calls),
                "name": "Calls",
                "marker": {"color": "#b6cdf5"},
            },
            {
                "type": "scatter",
                "x": days,
                "y": list(conversions),
                "name": "Conversions",
                "mode": "lines",
                "line": {"color": ACCENT},
            },
            {
                "type": "scatter",
                "x": days,
                "y": list(revenue),
                "name": "Revenue",
                "mode": "lines",
                "line": {"color": SECOND, "dash": "dot"},
                "yaxis": "y2",
                "text": money,
                "hovertemplate": "%{text}<extra>Revenue</extra>",
            },
        ],
        "layout": _layout(
            meta=text,
            hovermode="x unified",
            xaxis={"type": "date"},
            yaxis={"title": {"text": "Calls, conversions"}, "rangemode": "tozero"},
            yaxis2={
                "title": {"text": f"Revenue ({currency})"},
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "showgrid": False,
            },
            margin={"l": 56, "r": 64, "t": 16, "b": 40},
        ),
    }


def bucket_position(seconds: float, edges: Sequence[int]) -> float:
    """Where `seconds` falls on a category axis of duration buckets starting at `edges`.

    Bucket i is centred on i; its low edge is at i - 0.5. Inside a bucket the position is
    linear, so a 75 s threshold sits halfway through the 60-90 bucket. The open last bucket
    is read as spanning as long as the one before it.
    """
    for index, low in enumerate(edges):
        high = edges[index + 1] if index + 1 < len(edges) else low + (low - edges[index - 1])
        if seconds < high or index == len(edges) - 1:
            return index - 0.5 + min(1.0, max(0.0, (seconds - low) / (high - low)))
    return len(edges) - 0.5


def duration_conversion_figure(
    *,
    labels: Sequence[str],
    edges: Sequence[int],
    conversion_rates: Sequence[float | None],
    answered: Sequence[int],
    qualifying_seconds: int,
    suggested_seconds: int | None,
) -> Figure:
    """Conversion rate per talk-time bucket, with the current and suggested thresholds."""
    hover = [
        f"{format_kpi(rate, 'percent')} of {format_kpi(count, 'count')} answered"
        for rate, count in zip(conversion_rates, answered, strict=True)
    ]
    rated = [i for i, rate in enumerate(conversion_rates) if rate is not None]
    summary = f"Qualifying now at {qualifying_seconds} s"
    summary += f", {suggested_seconds} s suggested" if suggested_seconds is not None else ""
    if rated:
        best = max(rated, key=lambda i: (conversion_rates[i], -i))
        summary += (
            f"; calls of {labels[best]} s convert best, at "
            f"{format_kpi(conversion_rates[best], 'percent')} of "
            f"{format_kpi(answered[best], 'count')} answered."
        )
    else:
        summary += "; no answered calls to show a conversion rate by talk time."
    alt = chart_text(
        summary,
        ["Talk time (s)", "Conversion rate", "Answered calls"],
        [
            [label, format_kpi(rate, "percent"), format_kpi(count, "count")]
            for label, rate, count in zip(labels, conversion_rates, answered, strict=True)
        ],
    )
    markers = [(qualifying_seconds, f"current {qualifying_seconds} s", MUTED, "dot")]
    if suggested_seconds is not None:
        markers.append((suggested_seconds, f"suggested {suggested_seconds} s", THIRD, "dash"))
    shapes, annotations = [], []
    for index, (seconds, text, color, dash) in enumerate(markers):
        x = bucket_position(seconds, edges)
        shapes.append(_vertical_line(x, {"color": color, "dash": dash}))
        annotations.append(
            {
                "x": x,
                "y": 1.0 + 0.09 * index,
                "yref": "paper",
                "text": text,
                "showarrow": False,
                "xanchor": "left",
                "font": {"color": color},
                "yanchor": "bottom",
            }
        )
    return {
        "data": [
            {
                "type": "bar",
                "x": list(labels),
                "y": list(conversion_rates),
                "marker": {"color": ACCENT},
                "text": [
                    format_kpi(rate, "percent") if rate is not None else ""
                    for rate in conversion_rates
                ],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": hover,
                "hovertemplate": "%{x} s: %{customdata}<extra></extra>",
                "showlegend": False,
            }
        ],
        "layout": _layout(
            meta=alt,
            yaxis={"title": {"text": "Conversion rate (%)"}, "rangemode": "tozero"},
            # Slanted: level, "90-120", "120-180" and "180-300" ran together on a phone.
            xaxis={"title": {"text": "Talk time (s)"}, "type": "category", "tickangle": -35},
            margin={"l": 56, "r": 24, "t": 40, "b": 64},
            shapes=shapes,
            annotations=annotations,
        ),
    }


def missed_heatmap_figure(
    *,
    missed: Sequence[Sequence[int]],
    calls: Sequence[Sequence[int]],
    missed_rates: Sequence[Sequence[float | None]],
) -> Figure:
    """Missed calls per local weekday (rows, Monday first) and hour of day (columns)."""
    total_missed = sum(sum(row) for row in missed)
    total_calls = sum(sum(row) for row in calls)
    summary = (
        f"{format_kpi(total_missed, 'count')} missed of {format_kpi(total_calls, 'count')} calls"
    )
    if total_missed:
        day, hour = max(
            ((d, h) for d in range(7) for h in range(24)), key=lambda cell: missed[cell[0]][cell[1]]
        )
        summary += (
            f"; the most on {WEEKDAYS[day]} at {hour:02d}:00 "
            f"({format_kpi(missed[day][hour], 'count')} missed)."
        )
    else:
        summary += "."
    text = chart_text(
        summary,
        ["Weekday", *(f"{hour:02d}:00" for hour in range(24))],
        [[WEEKDAYS[d], *(format_kpi(n, "count") for n in missed[d])] for d in range(7)],
    )
    customdata = [
        [
            [format_kpi(calls[day][hour], "count"), format_kpi(missed_rates[day][hour], "percent")]
            for hour in range(24)
        ]
        for day in range(7)
    ]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": [list(row) for row in missed],
                "x": [f"{hour:02d}" for hour in range(24)],
                "y": list(WEEKDAYS),
                "customdata": customdata,
                "colorscale": REDS,
                "colorbar": {"title": {"text": "Missed"}, "thickness": 12},
                "hovertemplate": (
                    "%{y} %{x}:00<br>%{z} missed of %{customdata[0]} calls "
                    "(%{customdata[1]})<extra></extra>"
                ),
                "xgap": 1,
                "ygap": 1,
            }
        ],
        "layout": _layout(
            meta=text,
            height=300,
            xaxis={"title": {"text": "Hour of day"}, "type": "category", "dtick": 2},
            yaxis={"autorange": "reversed", "type": "category"},
        ),
    }


def coverage_figure(
    *,
    open_targets: Sequence[Sequence[int]],
    capacities: Sequence[Sequence[int | None]],
    calls: Sequence[Sequence[int]],
    missed: Sequence[Sequence[int]],
    flags: Sequence[Sequence[str]],
) -> Figure:
    """Buyer targets open per local weekday (rows) and hour (columns), beside the missed-calls
    heatmap; hours with traffic and no or thin coverage are marked ("none", "thin")."""
    marks = {"none": "✕", "thin": "!"}
    flagged = [(d, h) for d in range(7) for h in range(24) if flags[d][h]]
    none = sum(1 for d, h in flagged if flags[d][h] == "none")
    summary = (
        f"{len(flagged)} hours of the week with traffic and thin or no coverage "
        f"({none} with no target open), holding "
        f"{format_kpi(sum(missed[d][h] for d, h in flagged), 'count')} missed calls."
    )

    def cell_text(day: int, hour: int) -> str:
        capacity = capacities[day][hour]
        shown = "unlimited" if capacity is None else format_kpi(capacity, "count")
        text = f"{open_targets[day][hour]} open, capacity {shown}"
        return f"{text} ({flags[day][hour]})" if flags[day][hour] else text

    text = chart_text(
        summary,
        ["Weekday", *(f"{hour:02d}:00" for hour in range(24))],
        [[WEEKDAYS[d], *(cell_text(d, h) for h in range(24))] for d in range(7)],
    )
    customdata = [
        [
            [
                "unlimited" if capacities[d][h] is None else format_kpi(capacities[d][h], "count"),
                format_kpi(calls[d][h], "count"),
                format_kpi(missed[d][h], "count"),
                {"none": "no coverage", "thin": "thin coverage"}.get(flags[d][h], "covered"),
            ]
            for h in range(24)
        ]
        for d in range(7)
    ]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": [list(row) for row in open_targets],
                "x": [f"{hour:02d}" for hour in range(24)],
                "y": list(WEEKDAYS),
                "customdata": customdata,
                "text": [[marks.get(flags[d][h], "") for h in range(24)] for d in range(7)],
                "texttemplate": "%{text}",
                "colorscale": BLUES,
                "colorbar": {"title": {"text": "Open"}, "thickness": 12},
                "hovertemplate": (
                    "%{y} %{x}:00<br>%{z} targets open, capacity %{customdata[0]}<br>"
                    "%{customdata[1]} calls, %{customdata[2]} missed: %{customdata[3]}"
                    "<extra></extra>"
                ),
                "xgap": 1,
                "ygap": 1,
            }
        ],
        "layout": _layout(
            meta=text,
            height=300,
            xaxis={"title": {"text": "Hour of day"}, "type": "category", "dtick": 2},
            yaxis={"autorange": "reversed", "type": "category"},
        ),
    }


def rpm_trend_figure(
    *,
    days: Sequence[str],
    rpm: Sequence[float | None],
    rpm_floor: float | None,
    currency: str,
) -> Figure:
    """Revenue per talk minute per local day (gaps on days without talk time) and the floor."""
    money = [format_kpi(value, "money", currency) for value in rpm]
    known = [value for value in rpm if value is not None]
    if known:
        summary = (
            f"RPM from {format_kpi(min(known), 'money', currency)} to "
            f"{format_kpi(max(known), 'money', currency)} a talk minute over {len(known)} days"
        )
        if rpm_floor is not None:
            under = sum(1 for value in known if value < rpm_floor)
            summary += (
                f"; {under} of them under the floor of {format_kpi(rpm_floor, 'money', currency)}"
            )
        summary += "."
    else:
        summary = "No talk time over this period, so no RPM."
    layout = _layout(
        meta=chart_text(
            summary,
            ["Day", f"RPM ({currency} / min)"],
            [list(row) for row in zip(days, money, strict=True)],
        ),
        showlegend=False,
        xaxis={"type": "date"},
        yaxis={"title": {"text": f"RPM ({currency} / min)"}, "rangemode": "tozero"},
    )
    if rpm_floor is not None:
        floor_color = "#c0392b"
        layout["shapes"] = [_horizontal_line(rpm_floor, {"color": floor_color, "dash": "dash"})]
        # add_hline's annotation_position="top left": at the line's left end, above it.
        layout["annotations"] = [
            {
                "text": f"floor {format_kpi(rpm_floor, 'money', currency)}",
                "font": {"color": floor_color},
                "showarrow": False,
                "x": 0,
                "xanchor": "left",
                "xref": "x domain",
                "y": rpm_floor,
                "yanchor": "bottom",
                "yref": "y",
            }
        ]
    return {
        "data": [
            {
                "type": "scatter",
                "x": list(days),
                "y": list(rpm),
                "mode": "lines+markers",
                "name": "RPM",
                "line": {"color": ACCENT},
                "connectgaps": False,
                "text": money,
                "hovertemplate": "%{x}: %{text} per minute<extra></extra>",
            }
        ],
        "layout": layout,
    }


def conversion_intervals_figure(
    *,
    names: Sequence[str],
    rates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    calls: Sequence[int],
    verdicts: Sequence[str],
) -> Figure:
    """Conversion rate per publisher (bars, best on top) with its 95% Wilson interval."""
    traces = []
    for verdict, rows in _rows_by_verdict(verdicts):
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": verdict,
                "y": [names[i] for i in rows],
                "x": [rates[i] for i in rows],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [highs[i] - rates[i] for i in rows],
                    "arrayminus": [rates[i] - lows[i] for i in rows],
                    "color": "#1d2430",
                    "thickness": 1.2,
                },
                "marker": {"color": VERDICT_COLORS[verdict]},
                "customdata": [
                    [
                        format_kpi((lows[i], highs[i]), "interval"),
                        format_kpi(calls[i], "count"),
                    ]
                    for i in rows
                ],
                "hovertemplate": (
                    "%{y}: %{x:.1f}% (95% CI %{customdata[0]}) over %{customdata[1]} calls"
                    f"<extra>{verdict}</extra>"
                ),
            }
        )
    # Best on top: a horizontal category axis draws its first category at the bottom.
    order = sorted(range(len(names)), key=lambda i: rates[i])
    if names:
        best, worst = order[-1], order[0]
        summary = (
            f"Conversion rate of {len(names)} publishers, from {names[best]} at "
            f"{format_kpi(rates[best], 'percent')} down to {names[worst]} at "
            f"{format_kpi(rates[worst], 'percent')}."
        )
    else:
        summary = "No publisher has calls to rate."
    text = chart_text(
        summary,
        ["Publisher", "Verdict", "Conversion rate", "95% interval", "Calls"],
        [
            [
                names[i],
                verdicts[i],
                format_kpi(rates[i], "percent"),
                format_kpi((lows[i], highs[i]), "interval"),
                format_kpi(calls[i], "count"),
            ]
            for i in reversed(order)
        ],
    )
    return {
        "data": traces,
        "layout": _layout(
            meta=text,
            height=max(240, 26 * len(names) + 90),
            barmode="overlay",
            xaxis={"title": {"text": "Conversion rate (%), 95% interval"}, "rangemode": "tozero"},
            yaxis={
                "type": "category",
                "categoryorder": "array",
                "categoryarray": [names[i] for i in order],
                "automargin": True,
            },
        ),
    }


def quadrant_figure(
    *,
    names: Sequence[str],
    durations: Sequence[float],
    rates: Sequence[float],
    calls: Sequence[int],
    verdicts: Sequence[str],
    duration_split: float | None,
    rate_split: float | None,
) -> Figure:
    """Average duration (x) vs conversion rate (y), bubble area = calls, color = verdict.

    The quadrant lines are the tenant's overall average duration and conversion rate over
    the same filter, so "top right" means better than the portfolio on both.
    """
    largest = max(calls, default=1) or 1
    traces = []
    for verdict, rows in _rows_by_verdict(verdicts):
        traces.append(
            {
                "type": "scatter",
                # Each bubble is labelled with its publisher, on the plot as in the hover.
                "mode": "markers+text",
                "textposition": "top center",
                "textfont": {"size": 11, "color": "#1d2430"},
                "cliponaxis": False,
                "name": verdict,
                "x": [durations[i] for i in rows],
                "y": [rates[i] for i in rows],
                "text": [names[i] for i in rows],
                "customdata": [format_kpi(calls[i], "count") for i in rows],
                "marker": {
                    "size": [calls[i] for i in rows],
                    "sizemode": "area",
                    "sizeref": 2.0 * largest / (44**2),
                    "sizemin": 5,
                    "color": VERDICT_COLORS[verdict],
                    "opacity": 0.75,
                    "line": {"color": "#fff", "width": 1},
                },
                "hovertemplate": (
                    "%{text}<br>avg %{x:.0f} s, conversion %{y:.1f}%<br>%{customdata} calls"
                    f"<extra>{verdict}</extra>"
                ),
            }
        )
    split_line = {"color": MUTED, "dash": "dot", "width": 1}
    shapes = []
    if duration_split is not None:
        shapes.append(_vertical_line(duration_split, split_line))
    if rate_split is not None:
        shapes.append(_horizontal_line(rate_split, split_line))
    annotations = [
        {
            "x": x,
            "y": y,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "right" if x else "left",
            "yanchor": "top" if y else "bottom",
            "text": text,
            "showarrow": False,
            "font": {"color": MUTED, "size": 11},
        }
        for x, y, text in (
            (1, 1, "long calls, converting"),
            (0, 1, "short calls, converting"),
            (1, 0, "long calls, not converting"),
            (0, 0, "short calls, not converting"),
        )
    ]
    summary = f"{len(names)} publishers by average call duration and conversion rate"
    if duration_split is not None and rate_split is not None:
        summary += (
            f"; the dotted lines are the averages, {format_kpi(duration_split, 'seconds')} and "
            f"{format_kpi(rate_split, 'percent')}"
        )
        top = [
            names[i]
            for i in range(len(names))
            if durations[i] >= duration_split and rates[i] >= rate_split
        ]
        if top:
            summary += f"; long calls that convert: {', '.join(top)}"
    text = chart_text(
        summary + ".",
        ["Publisher", "Verdict", "Avg duration", "Conversion rate", "Calls"],
        [
            [
                names[i],
                verdicts[i],
                format_kpi(durations[i], "seconds"),
                format_kpi(rates[i], "percent"),
                format_kpi(calls[i], "count"),
            ]
            for i in range(len(names))
        ],
    )
    layout = _layout(
        meta=text,
        height=380,
        xaxis={"title": {"text": "Average call duration (s)"}, "rangemode": "tozero"},
        yaxis={"title": {"text": "Conversion rate (%)"}, "rangemode": "tozero"},
        annotations=annotations,
    )
    if shapes:
        layout["shapes"] = shapes
    return {"data": traces, "layout": layout}


TILE_EMPTY = "#e9ecf1"
TILE_SCALE = [[0.0, "#dbe7fb"], [1.0, "#1f4fa8"]]


def state_tile_map_figure(
    *,
    grid_rows: int,
    grid_columns: int,
    tiles: Sequence[tuple[int, int, str]],
    values: Sequence[float | None],
    hovers: Sequence[str],
    metric_label: str,
) -> Figure:
    """A tile-grid map: one square per state at (row, column, code), coloured by its value.

    Drawn from data alone (no map shapes or tiles fetched), so it works offline. A state
    without a value (no calls, or an empty denominator) is a grey tile with its code.
    """
    background: list[list[int | None]] = [[None] * grid_columns for _ in range(grid_rows)]
    z: list[list[float | None]] = [[None] * grid_columns for _ in range(grid_rows)]
    hover: list[list[str]] = [[""] * grid_columns for _ in range(grid_rows)]
    annotations = []
    # The scale starts at 0 (26 and 27 calls are about alike, not the two ends of it); codes
    # on the darker tiles are white to stay readable.
    highest = max((value for value in values if value is not None), default=0.0) or 1.0
    valued = [i for i, value in enumerate(values) if value is not None]
    summary = f"{metric_label} by state: {len(valued)} of {len(tiles)} states have a value"
    if valued:
        top = max(valued, key=lambda i: (values[i], -i))
        summary += f"; the highest is {hovers[top]}"
    # The hover of each tile already says its state and value as people read them.
    alt = chart_text(
        summary + ".",
        ["State", metric_label],
        [[code, text] for (_, _, code), text in zip(tiles, hovers, strict=True)],
    )
    for (row, column, code), value, text in zip(tiles, values, hovers, strict=True):
        background[row][column] = 0
        z[row][column] = value
        hover[row][column] = text
        annotations.append(
            {
                "text": code,
                "x": column,
                "y": row,
                "xref": "x",
                "yref": "y",
                "showarrow": False,
                "font": {
                    "size": 11,
                    "color": "#fff" if value is not None and value > 0.55 * highest else "#1d2430",
                },
            }
        )
    return {
        "data": [
            {
                "type": "heatmap",
                "z": background,
                "colorscale": [[0.0, TILE_EMPTY], [1.0, TILE_EMPTY]],
                "showscale": False,
                "hoverinfo": "skip",
                "xgap": 3,
                "ygap": 3,
            },
            {
                "type": "heatmap",
                "z": z,
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
                "hoverongaps": False,
                "colorscale": TILE_SCALE,
                "zmin": 0,
                "zmax": highest,
                "colorbar": {"title": {"text": metric_label}, "thickness": 12},
                "xgap": 3,
                "ygap": 3,
            },
        ],
        "layout": _layout(
            meta=alt,
            height=360,
            margin={"l": 8, "r": 8, "t": 8, "b": 8},
            xaxis={"visible": False, "constrain": "domain"},
            yaxis={
                "visible": False,
                "autorange": "reversed",
                "scaleanchor": "x",
                "constrain": "domain",
            },
            annotations=annotations,
        ),
    }
