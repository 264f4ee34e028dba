"""The Geography page (tile-grid map of states and a sortable table), the Tags page, the
region and tag filters of every page's filter bar, and the report tags settings screen."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from kpis.models import ReportTag
from kpis.pages.us_states import STATE_NAMES, STATE_TILES, state_code
from kpis.rollups import rollups_rebuild
from kpis.selectors import report_tag_keys
from ppc_dashboard.tenancy.models import Role
from tests.factories import CallFactory, CampaignFactory, PublisherFactory
from tests.kpis.pages.traffic import DAY, WEEK, page

pytestmark = pytest.mark.django_db


def _calls(org, *, region, count, converted=0, missed=0, tags=None, seconds=120):
    campaign = CampaignFactory(organization=org) if not hasattr(org, "_campaign") else None
    if campaign is not None:
        org._campaign = campaign
        org._publisher = PublisherFactory(organization=org, name=f"Pub {org.slug}")
    for n in range(count):
        is_missed = n < missed
        is_converted = not is_missed and n < missed + converted
        CallFactory(
            organization=org,
            campaign=org._campaign,
            publisher=org._publisher,
            started_at=DAY + dt.timedelta(minutes=n),
            status="missed" if is_missed else "answered",
            duration_seconds=0 if is_missed else seconds,
            converted=is_converted,
            revenue=Decimal("60") if is_converted else Decimal("0"),
            caller_region=region,
            tags=tags or {},
        )


@pytest.fixture
def states(org):
    ReportTag.objects.create(organization=org, key="source")
    # Illinois as a code and as a name: one state. 4 calls, 1 missed, 1 converted at $60.
    _calls(org, region="IL", count=3, converted=1, missed=1, tags={"source": "google"})
    _calls(org, region="Illinois", count=1, tags={"source": "bing"})
    _calls(org, region="TX", count=2, tags={"source": "google"})
    _calls(org, region="Ontario", count=1)
    rollups_rebuild(org)
    return org


def _figure(html: str, div_id: str) -> dict:
    block = re.search(
        rf'<script id="{div_id}-figure" type="application/json">(.*?)</script>', html, re.S
    )
    assert block, f"no figure data for {div_id}"
    return json.loads(block.group(1))


def test_every_state_has_one_tile_and_names_resolve():
    assert set(STATE_TILES) == set(STATE_NAMES)
    assert len(set(STATE_TILES.values())) == len(STATE_TILES)
    assert state_code("il") == "IL" == state_code("Illinois") == state_code("US-IL")
    assert state_code("Ontario") is None and state_code("") is None


def test_geography_page_map_and_table_sum_spellings_of_a_state(member_client, states):
    html = page(member_client, "/geography/", **WEEK)
    figure = _figure(html, "chart-state-map")
    row, column = STATE_TILES["IL"]
    values = figure["data"][1]["z"]
    assert values[row][column] == 4  # "IL" and "Illinois"
    assert values[STATE_TILES["TX"][0]][STATE_TILES["TX"][1]] == 2
    assert values[STATE_TILES["CA"][0]][STATE_TILES["CA"][1]] is None  # no calls: grey
    codes = {a["text"] for a in figure["layout"]["annotations"]}
    assert codes == set(STATE_NAMES)
    table = html[html.index('id="state-table"') :]
    il = table[
        table.index('data-state="IL"') : table.index("</tr>", table.index('data-state="IL"'))
    ]
    # 4 calls, 1 of 4 converted, 1 of 4 missed, $60 over 3 answered x 120 s = 6 minutes.
    assert ">4</td>" in il and "25.0%" in il and "$10.00" in il
    assert "Ontario" in html[html.index('id="region-table"') :]


def test_geography_map_colours_by_the_metric_asked(member_client, states):
    html = page(member_client, "/geography/", metric="missed_rate", **WEEK)
    values = _figure(html, "chart-state-map")["data"][1]["z"]
    row, column = STATE_TILES["IL"]
    assert values[row][column] == 25.0
    assert 'name="metric" value="missed_rate"' in html  # the filter bar keeps it


def test_geography_is_linked_from_the_navigation(member_client, states):
    html = page(member_client, "/", **WEEK)
    assert 'href="/geography/?' in html and 'href="/tags/?' in html


def test_geography_and_tags_pages_show_only_the_tenants_calls(
    make_member_client, other_org, states
):
    _calls(other_org, region="NV", count=5, tags={"source": "rival"})
    ReportTag.objects.create(organization=other_org, key="source")
    rollups_rebuild(other_org)
    client = make_member_client(other_org, Role.VIEWER)
    html = page(client, "/geography/", **WEEK)
    values = _figure(html, "chart-state-map")["data"][1]["z"]
    assert values[STATE_TILES["NV"][0]][STATE_TILES["NV"][1]] == 5
    assert values[STATE_TILES["IL"][0]][STATE_TILES["IL"][1]] is None
    assert "Ontario" not in html
    tags = page(client, "/tags/", **WEEK)
    assert "rival" in tags and "google" not in tags


def test_region_filter_narrows_the_overview(member_client, states):
    html = page(member_client, "/", region="TX", **WEEK)
    assert 'data-kpi="calls" data-value="2"' in html
    assert 'name="region" value="TX"' in html


def test_tag_filter_narrows_every_page(member_client, states):
    for url in (
        "/",
        "/campaigns/",
        "/publishers/",
        "/geography/",
        f"/campaigns/{states._campaign.pk}/",
    ):
        html = page(member_client, url, tag="source:google", **WEEK)
        assert 'name="tag" value="source:google"' in html, url
    html = page(member_client, "/", tag="source:google", **WEEK)
    assert 'data-kpi="calls" data-value="5"' in html


def test_a_tag_filter_on_no_report_tag_is_named_and_dropped(member_client, states):
    html = page(member_client, "/", tag="keyword:roof", **WEEK)
    assert "is not a report tag" in html
    assert 'data-kpi="calls" data-value="7"' in html


def test_tags_page_lists_the_values_of_a_report_tag(member_client, states):
    html = page(member_client, "/tags/", **WEEK)
    table = html[html.index('id="tag-table"') :]
    assert table.index("google") < table.index("bing") < table.index("No source tag")
    assert "tag=source%3Agoogle" in table  # each value links to the pages narrowed to it


def test_tags_page_without_report_tags_points_to_the_setting(member_client, org):
    _calls(org, region="IL", count=1)
    rollups_rebuild(org)
    html = page(member_client, "/tags/", **WEEK)
    assert "/settings/report-tags/" in html


# --- the settings screen ------------------------------------------------------------------


def test_report_tags_screen_saves_keys_in_order(member_client, org):
    response = member_client.post("/settings/report-tags/", {"keys": "source\nkeyword\n\n"})
    assert response.status_code == 302
    assert report_tag_keys(org) == ["source", "keyword"]
    assert "source" in page(member_client, "/settings/report-tags/")


def test_report_tags_screen_names_the_bad_line_and_saves_nothing(member_client, org):
    response = member_client.post("/settings/report-tags/", {"keys": "source\nutm:campaign"})
    assert response.status_code == 200
    assert "Line 2" in response.content.decode()
    response = member_client.post("/settings/report-tags/", {"keys": "a\nb\nc\nd\ne\nf"})
    assert "At most 5 report tags" in response.content.decode()
    assert report_tag_keys(org) == []


def test_viewers_read_the_report_tags_but_cannot_change_them(viewer_client, org):
    ReportTag.objects.create(organization=org, key="source")
    assert "source" in page(viewer_client, "/settings/report-tags/")
    response = viewer_client.post("/settings/report-tags/", {"keys": "keyword"})
    assert response.status_code == 403
    assert report_tag_keys(org) == ["source"]


def test_report_tags_screen_changes_only_the_members_tenant(member_client, org, other_org):
    ReportTag.objects.create(organization=other_org, key="rival-key")
    html = page(member_client, "/settings/report-tags/")
    assert "rival-key" not in html
    member_client.post("/settings/report-tags/", {"keys": "source"})
    assert report_tag_keys(other_org) == ["rival-key"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "I\x00L"}, "region"),
        ({"tag": "source:go\x00"}, "tag"),
        ({"region": "x" * 65}, "region"),
    ],
)
def test_bad_region_and_tag_filters_are_named_not_a_server_error(
    member_client, states, params, field
):
    html = page(member_client, "/", **params, **WEEK)
    assert f"<strong>{field}</strong>" in html


def test_publisher_page_links_the_call_log_with_the_tag_filter(member_client, states):
    html = page(member_client, f"/publishers/{states._publisher.pk}/", tag="source:google", **WEEK)
    assert "tag=source%3Agoogle" in html[html.index("/calls/?") :][:300]
