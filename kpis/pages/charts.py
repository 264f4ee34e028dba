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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from plotly.colors import sequential
from plotly.utils import PlotlyJSONEncoder

from kpis.formatting import format_kpi
from kpis.selectors import WEEKDAYS

Figure = dict[str, Any]

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
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


def figure_html(figure: Figure, div_id: str) -> SafeString:
    """The figure's <div> and its data, a JSON <script> block that static/js/charts.js draws
    into the div (a data block is never executed, so the CSP needs no nonce for it)."""
    spec = {"data": figure["data"], "layout": figure["layout"], "config": PLOT_CONFIG}
    data_id = f"{div_id}-figure"
    return format_html(
        '<div id="{}" class="plotly-graph-div" data-plotly-figure="{}"></div>{}',
        div_id,
        data_id,
        # json_script escapes <, > and &, so no label can close the block.
        json_script(spec, data_id, encoder=PlotlyJSONEncoder),
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
                "text": [format_kpi(value, "money", currency) for value in revenue],
                "hovertemplate": "%{text}<extra>Revenue</extra>",
            },
        ],
        "layout": _layout(
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
            yaxis={"title": {"text": "Conversion rate (%)"}, "rangemode": "tozero"},
            xaxis={"title": {"text": "Talk time (s)"}, "type": "category", "tickangle": 0},
            margin={"l": 56, "r": 24, "t": 40, "b": 48},
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
    layout = _layout(
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
                "text": [format_kpi(value, "money", currency) for value in rpm],
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
    return {
        "data": traces,
        "layout": _layout(
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
                "mode": "markers",
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
    layout = _layout(
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
