"""The analysis pages (overview, campaigns, publishers): rendered for a member from the
rollups, numbers equal to the KPI selector's, filters carried by the URL, tenants apart."""

from decimal import Decimal

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from calls.views import CallListView
from kpis import decisions
from kpis.decisions import reallocation_report
from kpis.formatting import format_kpi
from kpis.metrics import DURATION_BUCKET_EDGES, BaseCounts, kpis_from_counts
from kpis.pages.charts import bucket_position
from kpis.pages.page_data import (
    CAMPAIGN_TILES,
    OVERVIEW_TILES,
    kpi_change,
    kpi_tiles,
)
from kpis.pages.views import OverviewView
from kpis.rollups import rollups_rebuild
from kpis.selectors import KpiFilter, kpis_report
from ppc_dashboard.static_files import PLOTLY_JS
from tests.factories import (
    CampaignFactory,
    PublisherFactory,
)
from tests.kpis.pages.traffic import (
    PAGES,
    WEEK,
    WEEK_FILTER,
    _calls,
    expected_tiles,
    page,
    tiles,
)

# --- Overview ----------------------------------------------------------------------------


def test_home_is_the_overview_and_the_call_log_stays_at_calls():
    assert reverse("home") == "/"
    assert resolve("/").func.view_class is OverviewView
    assert resolve("/calls/").func.view_class is CallListView


def test_overview_tiles_equal_the_kpi_selector(member_client, org, traffic):
    html = page(member_client, "/", **WEEK)
    shown = tiles(html)
    assert shown == expected_tiles(org, WEEK_FILTER)
    assert shown["calls"][0] == "100"
    assert shown["revenue"][0] == "$520.00"  # 13 conversions x 40


def test_overview_tiles_compare_with_the_previous_period(member_client, traffic):
    html = page(member_client, "/", **WEEK)
    calls_tile = html[html.index('data-kpi="calls"') :]
    change = calls_tile[calls_tile.index("tile-change") :][:400]
    assert change.startswith('tile-change good"')
    assert "400.0%" in change  # 100 calls vs 20 the week before
    assert "vs 20" in change


def test_overview_draws_the_daily_trend(member_client, traffic):
    html = page(member_client, "/", **WEEK)
    assert 'id="chart-daily-trend"' in html
    assert f"/static/{PLOTLY_JS}" in html
    assert "cdn.plot.ly" not in html


def test_overview_says_what_to_scale_and_cut_with_reasons(member_client, traffic):
    html = page(member_client, "/", **WEEK)
    scale = html[html.index('data-verdict="scale"') : html.index('data-verdict="fix"')]
    cut = html[html.index('data-verdict="cut"') :]
    assert "Star" in scale and "is above 15%" in scale
    assert "Weak" in cut and "is below 5%" in cut


def test_overview_numbers_leave_out_other_tenants(member_client, org, other_org, traffic):
    rival = CampaignFactory(organization=other_org, name="Rival campaign")
    rival_publisher = PublisherFactory(organization=other_org, name="Rival publisher")
    _calls(other_org, rival, rival_publisher, None, count=50, converted=20, missed=0)
    rollups_rebuild(other_org)
    html = page(member_client, "/", **WEEK)
    assert tiles(html)["calls"][0] == "100"
    assert "Rival publisher" not in html and "Rival campaign" not in html


# --- Filters -----------------------------------------------------------------------------


def test_publisher_filter_in_the_url_changes_the_numbers(member_client, org, traffic):
    html = page(member_client, "/", **WEEK, publisher=traffic["star"].pk)
    star_filter = KpiFilter(
        date_from=WEEK_FILTER.date_from,
        date_to=WEEK_FILTER.date_to,
        publisher_id=traffic["star"].pk,
    )
    assert tiles(html) == expected_tiles(org, star_filter)
    assert tiles(html)["calls"][0] == "40"
    assert f'<option value="{traffic["star"].pk}" selected>Star</option>' in html


def test_date_range_in_the_url_changes_the_numbers(member_client, traffic):
    html = page(member_client, "/", range="custom", date_from="2026-11-04", date_to="2026-11-06")
    assert tiles(html)["calls"][0] == "0"
    assert tiles(html)["conversion_rate"][0] == "-"  # an empty denominator is "-", not 0


@pytest.mark.parametrize("url", PAGES)
def test_bad_filter_values_are_reported_not_a_500(url, member_client, traffic):
    html = page(
        member_client,
        url,
        range="fortnight",
        campaign="abc",
        publisher="-1",
        vertical="space",
    )
    assert "&#x27;fortnight&#x27; is not a date range." in html
    assert "&#x27;abc&#x27; is not an id." in html
    assert "&#x27;space&#x27; is not a vertical." in html


def test_bad_custom_dates_are_reported(member_client, traffic):
    html = page(member_client, "/", range="custom", date_from="2026-13-45", date_to="2026-11-07")
    assert "is not a date (YYYY-MM-DD)." in html
    assert 'id="chart-daily-trend"' in html


def test_another_tenants_campaign_in_the_filter_is_an_error(member_client, other_org, traffic):
    rival = CampaignFactory(organization=other_org, name="Rival campaign")
    html = page(member_client, "/", **WEEK, campaign=rival.pk)
    assert f"There is no campaign #{rival.pk}." in html
    assert tiles(html)["calls"][0] == "100"  # fell back to every campaign


# --- Campaigns ---------------------------------------------------------------------------


def test_campaign_list_links_each_campaign_with_its_verdict(member_client, org, traffic):
    CampaignFactory(organization=org, name="Quiet")
    html = page(member_client, "/campaigns/", **WEEK)
    assert f'href="/campaigns/{traffic["campaign"].pk}/?' in html
    # The table, not the filter bar, which names every campaign anyway.
    table = html[html.index('id="campaign-table"') :]
    assert "Quiet" in table  # listed without calls, its KPIs "-"
    (judged,) = decisions.verdicts_report(org, WEEK_FILTER).campaigns
    auto = table[: table.index("Quiet")]
    assert f'class="badge {judged.verdict.label}"' in auto
    quiet = table[table.index("Quiet") :]
    assert '<td class="num" data-sort="0">0</td>' in quiet
    assert '<td class="num" data-sort="">-</td>' in quiet


def test_campaign_page_shows_the_leaderboard_and_charts(member_client, org, traffic):
    campaign = traffic["campaign"]
    html = page(member_client, f"/campaigns/{campaign.pk}/", **WEEK)
    for chart in ("chart-duration-buckets", "chart-missed-heatmap", "chart-rpm-trend"):
        assert f'id="{chart}"' in html
    board = html[html.index('id="leaderboard"') :]
    star = board[board.index(f'data-publisher="{traffic["star"].pk}"') :][:2000]
    weak = board[board.index(f'data-publisher="{traffic["weak"].pk}"') :][:2000]
    assert 'class="badge scale"' in star and "30.0%" in star
    assert 'class="badge cut"' in weak and "1.7%" in weak
    campaign_filter = KpiFilter(
        date_from=WEEK_FILTER.date_from, date_to=WEEK_FILTER.date_to, campaign_id=campaign.pk
    )
    shown = tiles(html)
    assert set(shown) == set(CAMPAIGN_TILES)  # else the comparison below could be of nothing
    assert shown == expected_tiles(org, campaign_filter, keys=shown)
    assert "current 90 s" in html  # the qualifying threshold in force, marked on the chart


@pytest.mark.parametrize("url", ["/campaigns/", "campaign"])
def test_campaign_pages_skip_the_publisher_spike_pass(
    url, member_client, org, traffic, monkeypatch
):
    """They show campaigns and each campaign's own publishers, never the overall publisher
    verdicts the velocity spikes are for (the costliest read of the overview)."""
    (judged,) = decisions.verdicts_report(org, WEEK_FILTER).campaigns

    def no_spikes(*args):
        raise AssertionError("the spike pass ran")

    monkeypatch.setattr(decisions, "_spikes_by_publisher", no_spikes)
    if url == "campaign":
        url = f"/campaigns/{traffic['campaign'].pk}/"
    assert f'class="badge {judged.verdict.label}"' in page(member_client, url, **WEEK)


def test_campaign_page_of_another_tenant_is_404(member_client, other_org, traffic):
    rival = CampaignFactory(organization=other_org, name="Rival campaign")
    assert member_client.get(f"/campaigns/{rival.pk}/").status_code == 404
    assert member_client.get("/campaigns/999999/").status_code == 404


def test_campaign_heatmap_explains_it_cannot_filter_by_buyer(member_client, traffic):
    url = f"/campaigns/{traffic['campaign'].pk}/"
    html = page(member_client, url, **WEEK, buyer=traffic["buyer"].pk)
    assert "cannot be filtered by buyer" in html
    assert "talk-time buckets are not kept per buyer" in html
    assert 'id="chart-missed-heatmap"' not in html
    assert 'id="chart-rpm-trend"' in html


# --- Publishers --------------------------------------------------------------------------


def test_publishers_page_draws_intervals_and_quadrant(member_client, org, traffic):
    html = page(member_client, "/publishers/", **WEEK)
    assert 'id="chart-conversion-intervals"' in html
    assert 'id="chart-quadrant"' in html
    table = html[html.index('id="publisher-table"') :]
    assert table.index("Star") < table.index("Weak")  # best conversion first
    star = KpiFilter(
        date_from=WEEK_FILTER.date_from,
        date_to=WEEK_FILTER.date_to,
        publisher_id=traffic["star"].pk,
    )
    interval = kpis_report(org, star).totals.kpis.conversion_rate_ci
    assert format_kpi(interval, "interval") in table


def test_publishers_page_states_the_spend_a_cut_frees(member_client, org, traffic):
    html = page(member_client, "/publishers/", **WEEK)
    freed = sum(r.reallocation.freed_spend for r in reallocation_report(org, WEEK_FILTER))
    assert freed == Decimal("300.0000")  # Weak: 60 calls x 5.00
    assert '<strong class="freed">$300.00</strong>' in html


# --- Queries -----------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        page(client, url, **WEEK)
    return len(queries)


@pytest.mark.parametrize("url", [*PAGES, "campaign"])
def test_a_page_reads_a_fixed_number_of_queries_however_many_campaigns(
    url, member_client, org, traffic
):
    if url == "campaign":
        url = f"/campaigns/{traffic['campaign'].pk}/"
    before = _queries(member_client, url)
    for n in range(3):
        campaign = CampaignFactory(organization=org, name=f"More {n}")
        for m in range(2):
            publisher = PublisherFactory(organization=org, name=f"More {n}.{m}")
            _calls(org, campaign, publisher, traffic["buyer"], count=4, converted=1, missed=1)
    rollups_rebuild(org)
    assert _queries(member_client, url) == before


# --- Access and empty states ------------------------------------------------------------


@pytest.mark.parametrize("url", [*PAGES, "/campaigns/1/"])
def test_anonymous_visitors_are_sent_to_login(url, client, db):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_a_viewer_reads_the_pages(url, viewer_client, traffic):
    assert viewer_client.get(url, WEEK).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_a_tenant_without_calls_is_told_how_to_get_them_in(url, member_client):
    html = page(member_client, url)
    assert "No calls yet" in html
    assert "POST /api/v1/calls/" in html
    assert PLOTLY_JS not in html


def test_nav_carries_the_filters_between_pages(member_client, traffic):
    html = page(member_client, "/", **WEEK)
    assert (
        'href="/publishers/?range=custom&amp;date_from=2026-11-01&amp;date_to=2026-11-07"' in html
    )


# --- Pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "currency", "shown"),
    [
        (None, "money", "USD", "-"),
        (None, "percent", "USD", "-"),
        (Decimal("1234.565"), "money", "USD", "$1,234.57"),
        (Decimal("-3.5"), "money", "EUR", "-€3.50"),
        (Decimal("12"), "money", "CHF", "12.00 CHF"),
        (14.28571, "percent", "", "14.3%"),
        (143.9, "seconds", "", "143 s"),
        (1234567, "count", "", "1,234,567"),
        ((1.72, 5.34), "interval", "", "1.7-5.3%"),
    ],
)
def test_kpi_values_print_one_way(value, kind, currency, shown):
    assert format_kpi(value, kind, currency) == shown


def test_a_change_is_good_or_bad_by_what_the_kpi_means():
    before = kpis_from_counts(BaseCounts(calls=100, answered=95, conversions=10))
    after = kpis_from_counts(BaseCounts(calls=120, answered=96, conversions=10))
    by_key = {tile.key: tile for tile in kpi_tiles(after, before, OVERVIEW_TILES)}
    assert (by_key["calls"].direction, by_key["calls"].tone) == ("up", "good")
    assert by_key["calls"].change_pct == pytest.approx(20.0)
    assert (by_key["missed_rate"].direction, by_key["missed_rate"].tone) == ("up", "bad")
    assert by_key["spend"].tone == "neutral"
    assert by_key["cpa"].tone == "neutral"  # 0 spend before and after: flat
    assert by_key["rpm"].direction is None  # no talk time: null on both sides
    assert kpi_change(Decimal("-50"), Decimal("-100")) == pytest.approx(50.0)
    assert kpi_change(5, 0) is None


def test_thresholds_sit_inside_their_duration_bucket():
    assert bucket_position(0, DURATION_BUCKET_EDGES) == -0.5
    assert bucket_position(90, DURATION_BUCKET_EDGES) == 2.5  # between 60-90 and 90-120
    assert bucket_position(75, DURATION_BUCKET_EDGES) == 2.0  # middle of 60-90
    assert bucket_position(1000, DURATION_BUCKET_EDGES) == 6.5


def test_a_kpi_cell_sorts_by_the_raw_number_and_shows_the_printed_one():
    cells = Template(
        "{% load kpi_format %}"
        '{% kpi_cell rpm "money" %}{% kpi_cell ci "interval" muted=True %}'
        '{% kpi_cell none "percent" %}{% kpi_cell missing.rate "percent" %}'
    ).render(
        Context(
            {
                "current_organization": type("Org", (), {"currency": "USD"}),
                "rpm": Decimal("1234.5000"),
                "ci": (1.72, 5.34),
                "none": None,
            }
        )
    )
    assert cells == (
        '<td class="num" data-sort="1234.5000">$1,234.50</td>'
        '<td class="num muted" data-sort="1.72">1.7-5.3%</td>'
        '<td class="num" data-sort="">-</td>'
        '<td class="num" data-sort="">-</td>'
    )
