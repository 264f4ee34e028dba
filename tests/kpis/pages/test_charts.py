"""The chart builders' figures are plain dicts that plotly's validation would leave as they
are, so the pages can skip validating them; and they draw in the div the page names."""

import json
import re

import plotly.graph_objects as go
import pytest

from kpis.metrics import DURATION_BUCKET_EDGES, duration_bucket_label
from kpis.pages import charts

DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
EDGES = list(DURATION_BUCKET_EDGES)
NAMES = ["Star", "Middling", "Weak", "Quiet"]
VERDICTS = ["scale", "watch", "cut", "cut"]

FIGURES = {
    "daily trend": lambda: charts.daily_trend_figure(
        days=DAYS,
        calls=[3, 0, 12],
        conversions=[1, 0, 4],
        revenue=[40.0, 0.0, 162.5],
        currency="EUR",
    ),
    "daily trend, no days": lambda: charts.daily_trend_figure(
        days=[], calls=[], conversions=[], revenue=[], currency="USD"
    ),
    "duration buckets": lambda: charts.duration_conversion_figure(
        labels=[duration_bucket_label(i) for i in range(len(EDGES))],
        edges=EDGES,
        conversion_rates=[None, 0.0, 2.5, 8.0, 12.25, 20.0, 31.0],
        answered=[0, 12, 40, 33, 20, 9, 4],
        qualifying_seconds=90,
        suggested_seconds=120,
    ),
    "duration buckets, nothing suggested": lambda: charts.duration_conversion_figure(
        labels=[duration_bucket_label(i) for i in range(len(EDGES))],
        edges=EDGES,
        conversion_rates=[None] * len(EDGES),
        answered=[0] * len(EDGES),
        qualifying_seconds=45,
        suggested_seconds=None,
    ),
    "missed heatmap": lambda: charts.missed_heatmap_figure(
        missed=[[(day * hour) % 5 for hour in range(24)] for day in range(7)],
        calls=[[(day + hour) % 9 for hour in range(24)] for day in range(7)],
        missed_rates=[[None if hour % 4 else 12.5 for hour in range(24)] for day in range(7)],
    ),
    "coverage": lambda: charts.coverage_figure(
        open_targets=[[(day + hour) % 3 for hour in range(24)] for day in range(7)],
        capacities=[[None if hour % 5 else 4 for hour in range(24)] for day in range(7)],
        calls=[[(day + hour) % 9 for hour in range(24)] for day in range(7)],
        missed=[[(day * hour) % 5 for hour in range(24)] for day in range(7)],
        flags=[["none" if (day + hour) % 3 == 0 else "" for hour in range(24)] for day in range(7)],
    ),
    "rpm trend with a floor": lambda: charts.rpm_trend_figure(
        days=DAYS, rpm=[1.25, None, 2.0], rpm_floor=1.5, currency="USD"
    ),
    "rpm trend without a floor": lambda: charts.rpm_trend_figure(
        days=DAYS, rpm=[None, None, 0.75], rpm_floor=None, currency="USD"
    ),
    "conversion intervals": lambda: charts.conversion_intervals_figure(
        names=NAMES,
        rates=[22.0, 9.5, 2.0, 0.0],
        lows=[18.0, 6.0, 0.5, 0.0],
        highs=[26.5, 13.0, 5.0, 20.0],
        calls=[400, 120, 300, 12],
        verdicts=VERDICTS,
    ),
    "quadrant": lambda: charts.quadrant_figure(
        names=NAMES,
        durations=[210.0, 140.0, 35.5, 60.0],
        rates=[22.0, 9.5, 2.0, 0.0],
        calls=[400, 120, 300, 12],
        verdicts=VERDICTS,
        duration_split=150.0,
        rate_split=10.0,
    ),
    "state tile map": lambda: charts.state_tile_map_figure(
        grid_rows=2,
        grid_columns=3,
        tiles=[(0, 0, "AK"), (1, 2, "FL"), (0, 2, "ME")],
        values=[12.0, None, 3.5],
        hovers=["Alaska: 12 calls", "Florida: no calls", "Maine: 3 calls"],
        metric_label="Calls",
    ),
    "quadrant without splits": lambda: charts.quadrant_figure(
        names=[],
        durations=[],
        rates=[],
        calls=[],
        verdicts=[],
        duration_split=None,
        rate_split=None,
    ),
}


@pytest.mark.parametrize("name", FIGURES)
def test_figures_are_already_in_the_form_plotly_validation_gives(name):
    figure = FIGURES[name]()
    # Plotly refuses an unknown or misspelt property here, and would rewrite any shorthand.
    assert go.Figure(figure).to_dict() == figure


def _figure_data(html: str, div_id: str) -> dict:
    """The JSON data block the page's charts.js draws into the div."""
    block = re.search(
        rf'<script id="{div_id}-figure" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(block.group(1))


def test_a_figure_is_drawn_in_the_div_the_page_names():
    figure = FIGURES["rpm trend with a floor"]()
    html = charts.figure_html(figure, "chart-rpm-trend")
    assert '<div id="chart-rpm-trend" class="plotly-graph-div" ' in html
    assert 'data-plotly-figure="chart-rpm-trend-figure"' in html
    # Its box is held at the figure's height until charts.js draws it (lazily).
    assert f'data-plotly-height="{figure["layout"]["height"]}"' in html
    # The text alternative is written into the page, not sent again as data.
    layout = {key: value for key, value in figure["layout"].items() if key != "meta"}
    assert _figure_data(html, "chart-rpm-trend") == {
        "data": figure["data"],
        "layout": layout,
        "config": charts.PLOT_CONFIG,
    }


def test_a_figure_is_data_and_never_a_script_that_runs():
    # The Content-Security-Policy allows no inline script: the page's charts.js draws it.
    html = str(charts.figure_html(FIGURES["daily trend"](), "chart-daily-trend"))
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script id="chart-daily-trend-figure" type="application/json">']


def test_no_name_in_a_figure_can_close_its_data_block():
    name = '</script><script>alert("x")</script>'
    figure = charts.daily_trend_figure(
        days=[name], calls=[1], conversions=[0], revenue=[0.0], currency="USD"
    )
    html = charts.figure_html(figure, "chart-daily-trend")
    assert html.count("</script>") == 1
    assert _figure_data(html, "chart-daily-trend")["data"][0]["x"] == [name]


def test_the_rpm_floor_is_a_line_labelled_with_its_amount():
    layout = FIGURES["rpm trend with a floor"]()["layout"]
    (line,) = layout["shapes"]
    assert (line["y0"], line["y1"], line["xref"]) == (1.5, 1.5, "x domain")
    assert layout["annotations"][0]["text"] == "floor $1.50"


def test_verdicts_are_traces_in_legend_order_and_absent_ones_left_out():
    for name in ("conversion intervals", "quadrant"):
        traces = FIGURES[name]()["data"]
        assert [trace["name"] for trace in traces] == ["scale", "watch", "cut"]
        cut = traces[2]
        assert cut["y" if name == "conversion intervals" else "text"] == ["Weak", "Quiet"]


def test_the_qualifying_thresholds_are_lines_up_the_plot_at_their_buckets():
    shapes = FIGURES["duration buckets"]()["layout"]["shapes"]
    assert [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in shapes] == [
        (2.5, 2.5, 0, 1),  # current 90 s: between 60-90 and 90-120
        (3.5, 3.5, 0, 1),  # suggested 120 s
    ]
    assert {s["yref"] for s in shapes} == {"y domain"}


# --- Text alternatives -------------------------------------------------------------------


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_has_a_summary_and_a_table_of_what_it_draws(name):
    figure = FIGURES[name]()
    text = figure["layout"]["meta"]
    assert text["summary"].endswith(".")
    assert all(column for column in text["columns"])  # no empty header cell
    assert all(len(row) == len(text["columns"]) for row in text["rows"])
    first = figure["data"][0] if figure["data"] else {}
    if name == "state tile map":  # a row per state tile, each tile a code annotation
        assert len(text["rows"]) == len(figure["layout"]["annotations"]) == 3
    elif first.get("type") == "heatmap":
        assert len(text["rows"]) == len(first["z"]) == 7
    elif first.get("orientation") == "h" or first.get("mode") == "markers+text":
        assert len(text["rows"]) == sum(len(trace["x"]) for trace in figure["data"])
    elif first:
        assert len(text["rows"]) == len(first["x"])


def test_the_daily_trend_says_its_totals_and_busiest_day():
    text = FIGURES["daily trend"]()["layout"]["meta"]
    assert text["summary"] == (
        "15 calls, 5 conversions and €202.50 revenue over 3 days (2026-11-01 to 2026-11-03); "
        "the busiest day was 2026-11-03 with 12 calls."
    )
    assert text["columns"] == ["Day", "Calls", "Conversions", "Revenue"]
    assert text["rows"][2] == ["2026-11-03", "12", "4", "€162.50"]


def test_the_talk_time_chart_names_its_thresholds_and_best_bucket():
    text = FIGURES["duration buckets"]()["layout"]["meta"]
    assert text["summary"] == (
        "Qualifying now at 90 s, 120 s suggested; calls of 300+ s convert best, "
        "at 31.0% of 4 answered."
    )
    assert text["rows"][0] == ["0-30", "-", "0"]  # no answered call: no rate, shown as "-"


def test_the_heatmap_names_its_worst_hour():
    text = FIGURES["missed heatmap"]()["layout"]["meta"]
    # missed = (day * hour) % 5: the first 4 is Monday-based day 1 at hour 4 (Tue 04:00).
    assert text["summary"].endswith("the most on Tue at 04:00 (4 missed).")
    assert text["columns"][:3] == ["Weekday", "00:00", "01:00"]


def test_the_rpm_trend_counts_the_days_under_the_floor():
    text = FIGURES["rpm trend with a floor"]()["layout"]["meta"]
    assert text["summary"] == (
        "RPM from $1.25 to $2.00 a talk minute over 2 days; 1 of them under the floor of $1.50."
    )
    assert text["rows"][1] == ["2026-11-02", "-"]


def test_the_publisher_charts_list_every_publisher_best_first_and_quadrant_winners():
    intervals = FIGURES["conversion intervals"]()["layout"]["meta"]
    assert [row[0] for row in intervals["rows"]] == ["Star", "Middling", "Weak", "Quiet"]
    assert intervals["rows"][0] == ["Star", "scale", "22.0%", "18.0-26.5%", "400"]
    quadrant = FIGURES["quadrant"]()["layout"]["meta"]
    assert quadrant["summary"] == (
        "4 publishers by average call duration and conversion rate; the dotted lines are the "
        "averages, 150 s and 10.0%; long calls that convert: Star."
    )


def test_the_chart_html_carries_its_summary_and_table_with_real_headers():
    html = str(charts.figure_html(FIGURES["rpm trend with a floor"](), "chart-rpm-trend"))
    summary = FIGURES["rpm trend with a floor"]()["layout"]["meta"]["summary"]
    assert '<figure class="chart-figure"><div id="chart-rpm-trend"' in html
    assert f'<p class="chart-summary">{summary}</p>' in html
    assert '<th scope="col">Day</th><th scope="col">RPM (USD / min)</th>' in html
    assert '<tr><th scope="row">2026-11-01</th><td>$1.25</td></tr>' in html
    assert "<th></th>" not in html


def test_quadrant_bubbles_carry_their_publishers_names():
    for trace in FIGURES["quadrant"]()["data"]:
        assert trace["mode"] == "markers+text"
        assert trace["text"]


def test_talk_time_labels_are_slanted_so_they_never_run_together():
    xaxis = FIGURES["duration buckets"]()["layout"]["xaxis"]
    assert xaxis["tickangle"] not in (0, None)


def test_the_state_map_names_its_highest_state_and_lists_every_tile():
    text = FIGURES["state tile map"]()["layout"]["meta"]
    assert text["summary"] == (
        "Calls by state: 2 of 3 states have a value; the highest is Alaska: 12 calls."
    )
    assert text["rows"] == [
        ["AK", "Alaska: 12 calls"],
        ["FL", "Florida: no calls"],
        ["ME", "Maine: 3 calls"],
    ]
