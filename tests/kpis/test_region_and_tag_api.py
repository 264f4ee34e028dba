"""Issue 11, "Geography and tags": `group_by=region`, `group_by=tag:<key>`, the `region` and
`tag` filters of /api/v1/kpis/, read from their rollups, and the report tag setting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kpis.models import CallRollupDailyTag, DirtyDay, ReportTag
from kpis.rollups import rollups_rebuild, rollups_refresh
from kpis.selectors import GroupBy, KpiFilter, KpiQueryError, kpis_report
from kpis.services import report_tags_errors, report_tags_set
from tests.factories import CallFactory, CampaignFactory, PublisherFactory

DAY = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York
QUERY = {"date_from": "2026-11-01", "date_to": "2026-11-07"}


def _call(org, campaign, publisher, *, region, tags, status="answered", seconds=60, revenue="0"):
    return CallFactory(
        organization=org,
        campaign=campaign,
        publisher=publisher,
        started_at=DAY,
        status=status,
        duration_seconds=seconds if status == "answered" else 0,
        converted=revenue != "0",
        revenue=Decimal(revenue),
        cost=Decimal("2"),
        caller_region=region,
        tags=tags,
    )


@pytest.fixture
def geo(org):
    """IL: 3 calls (answered 120 s converted at $30, answered 60 s, missed); NY: 1 answered
    60 s; and 1 missed call without a region. Tags: source google x2 (one posted as the
    number 5 under score), source bing, and calls without a source."""
    ReportTag.objects.create(organization=org, key="source", position=0)
    ReportTag.objects.create(organization=org, key="score", position=1)
    campaign = CampaignFactory(organization=org, name="Auto")
    publisher = PublisherFactory(organization=org, name="Star")
    _call(
        org,
        campaign,
        publisher,
        region="IL",
        tags={"source": "google", "score": 5},
        seconds=120,
        revenue="30",
    )
    _call(org, campaign, publisher, region="IL", tags={"source": "google", "score": "5"})
    _call(org, campaign, publisher, region="IL", tags={"source": "bing"}, status="missed")
    _call(org, campaign, publisher, region="NY", tags={})
    _call(org, campaign, publisher, region="", tags={"keyword": "roof"}, status="missed")
    rollups_rebuild(org)
    return campaign


def _rows(response):
    assert response.status_code == 200, response.json()
    return {row["key"]: row for row in response.json()["rows"]}


def test_group_by_region_has_hand_computed_kpis_per_region(api_client, geo):
    rows = _rows(api_client.get("/api/v1/kpis/", {**QUERY, "group_by": "region"}))
    assert set(rows) == {"IL", "NY", None}
    il = rows["IL"]
    assert (il["calls"], il["answered"], il["conversions"]) == (3, 2, 1)
    assert il["conversion_rate"] == pytest.approx(33.3333)
    assert il["missed_rate"] == pytest.approx(33.3333)
    assert il["rpm"] == "10.0000"  # $30 over 180 talk seconds = 3 minutes
    assert rows[None]["label"] == "No region" and rows[None]["calls"] == 1
    assert rows["NY"]["missed_rate"] == 0.0


def test_region_filter_narrows_every_grouping(api_client, geo):
    body = api_client.get("/api/v1/kpis/", {**QUERY, "region": "IL", "group_by": "campaign"})
    rows = _rows(body)
    assert rows[geo.pk]["calls"] == 3
    assert body.json()["totals"]["calls"] == 3


def test_group_by_tag_counts_every_call_once_under_its_value(api_client, geo):
    rows = _rows(api_client.get("/api/v1/kpis/", {**QUERY, "group_by": "tag:source"}))
    assert {key: row["calls"] for key, row in rows.items()} == {"google": 2, "bing": 1, None: 2}
    assert rows[None]["label"] == "No source tag"
    # 5 and "5" are one value, as the call log's tag filter reads them.
    rows = _rows(api_client.get("/api/v1/kpis/", {**QUERY, "group_by": "tag:score"}))
    assert rows["5"]["calls"] == 2


def test_tag_filter_reads_the_tag_rollup(api_client, geo):
    body = api_client.get("/api/v1/kpis/", {**QUERY, "tag": "source:google"}).json()
    assert body["totals"]["calls"] == 2
    assert body["totals"]["revenue"] == "30.0000"
    body = api_client.get("/api/v1/kpis/", {**QUERY, "tag": "score:5", "group_by": "publisher"})
    assert body.json()["totals"]["calls"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "tag:keyword"}, "group_by"),  # a tag, but no report tag
        ({"group_by": "tag:"}, "group_by"),
        ({"group_by": "regions"}, "group_by"),
        ({"tag": "keyword:roof"}, "tag"),
        ({"tag": "source"}, "tag"),  # no colon
        ({"group_by": "region", "buyer": 1}, "group_by"),
        ({"group_by": "hour_of_week", "region": "IL"}, "group_by"),
        ({"region": "IL", "tag": "source:google"}, "region"),
        ({"group_by": "tag:score", "tag": "source:google"}, "group_by"),
    ],
)
def test_region_and_tag_queries_the_rollups_cannot_answer_are_400(api_client, geo, params, field):
    response = api_client.get("/api/v1/kpis/", {**QUERY, **params})
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_threshold_finder_refuses_a_region_filter_instead_of_ignoring_it(api_client, geo):
    response = api_client.get("/api/v1/qualifying-thresholds/", {**QUERY, "region": "IL"})
    assert response.status_code == 400 and "region" in response.json()["errors"]


def test_region_and_tag_groupings_never_show_another_tenant(other_api_client, other_org, geo):
    ReportTag.objects.create(organization=other_org, key="source")
    rival = CampaignFactory(organization=other_org, name="Rival")
    _call(
        other_org,
        rival,
        PublisherFactory(organization=other_org),
        region="TX",
        tags={"source": "yahoo"},
    )
    rollups_rebuild(other_org)
    rows = _rows(other_api_client.get("/api/v1/kpis/", {**QUERY, "group_by": "region"}))
    assert set(rows) == {"TX"}
    rows = _rows(other_api_client.get("/api/v1/kpis/", {**QUERY, "group_by": "tag:source"}))
    assert set(rows) == {"yahoo"}
    body = other_api_client.get("/api/v1/kpis/", {**QUERY, "region": "IL"}).json()
    assert body["totals"]["calls"] == 0
    # Another tenant's report tag is no report tag here.
    response = other_api_client.get("/api/v1/kpis/", {**QUERY, "group_by": "tag:score"})
    assert response.status_code == 400


def test_ad_spend_is_a_row_of_its_own_by_region_and_left_out_of_a_region_filter(org, geo):
    from calls.models import AdSpend

    AdSpend.objects.create(organization=org, campaign=geo, day=dt.date(2026, 11, 2), amount=50)
    week = KpiFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    by_region = kpis_report(org, week, GroupBy.REGION)
    unattributed = [row for row in by_region.rows if row.key == "ad_spend"]
    assert unattributed[0].label == "Ad spend not attributed"
    assert unattributed[0].counts.calls == 0 and unattributed[0].counts.ad_spend == 50
    assert by_region.totals.counts.ad_spend == 50
    filtered = kpis_report(org, KpiFilter(week.date_from, week.date_to, region="IL"))
    assert filtered.totals.counts.ad_spend == 0


def test_a_tag_grouping_needs_a_tag_key(org, geo):
    with pytest.raises(KpiQueryError):
        kpis_report(org, KpiFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 7)), GroupBy.TAG)


# --- the report tag setting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["a", "b", "c", "d", "e", "f"], "At most 5 report tags"),
        (["source", "source"], "named twice"),
        (["utm:source"], "not a tag key"),
        ([" source"], "not a tag key"),
        ([""], "blank"),
        (["x" * 65], "longer than 64"),
    ],
)
def test_report_tags_are_at_most_five_well_formed_keys(keys, message):
    assert any(message in error for error in report_tags_errors(keys))


def test_report_tags_accept_the_keys_imports_write():
    assert report_tags_errors(["source", "Roof Repair", "utm_campaign", "first-call", "v1.2"]) == []


def test_adding_a_report_tag_marks_the_days_with_calls_and_the_refresh_rolls_it_up(org, geo):
    assert not DirtyDay.objects.filter(organization=org).exists()
    assert report_tags_set(organization=org, keys=["source", "score", "keyword"])
    assert list(DirtyDay.objects.filter(organization=org).values_list("day", flat=True)) == [
        dt.date(2026, 11, 2)
    ]
    week = KpiFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    rollups_refresh(org.pk)
    rows = {r.key: r.counts.calls for r in kpis_report(org, week, GroupBy.TAG, "keyword").rows}
    assert rows == {"roof": 1, None: 4}


def test_removing_a_report_tag_deletes_its_rows_without_a_recompute(org, geo):
    assert report_tags_set(organization=org, keys=["source"])
    assert not DirtyDay.objects.filter(organization=org).exists()
    keys = set(
        CallRollupDailyTag.objects.filter(organization=org).values_list("tag_key", flat=True)
    )
    assert keys == {"source"}
    assert not report_tags_set(organization=org, keys=["source"])  # unchanged


def test_report_tags_set_refuses_bad_keys_and_changes_nothing(org, geo):
    with pytest.raises(ValueError, match="At most 5"):
        report_tags_set(organization=org, keys=["a", "b", "c", "d", "e", "f"])
    assert list(ReportTag.objects.filter(organization=org).values_list("key", flat=True)) == [
        "source",
        "score",
    ]


def test_schema_describes_region_and_tag_groupings_and_filters(client, db):
    document = client.get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/kpis/"]["get"]["parameters"]}
    assert "region" in parameters["group_by"]["schema"]["pattern"]
    assert "tag:" in parameters["group_by"]["schema"]["pattern"]
    assert "tag:<key>" in parameters["group_by"]["description"]
    assert "caller_region" in parameters["region"]["description"]
    assert "key:value" in parameters["tag"]["description"]
