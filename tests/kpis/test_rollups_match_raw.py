"""Property: KPIs read from the rollups equal KPIs computed directly from the raw calls,
for every group_by, after random posts, re-posts, conversion updates and deletes."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.ingest import ConversionUpdate, call_conversion_record, call_ingest_batch
from calls.models import AdSpend, Call
from calls.services import calls_delete
from kpis.models import DirtyDay, ReportTag
from kpis.rollups import rollups_rebuild, rollups_rebuild_full, rollups_refresh
from kpis.selectors import GroupBy, KpiFilter, kpis_report
from tests.factories import (
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    PublisherFactory,
)
from tests.kpis.reference import reference_counts

# Around the end of daylight saving time in New York (2026-11-01), so local days have 25 hours.
WINDOW_START = dt.datetime(2026, 10, 29, 0, 0, tzinfo=dt.UTC)
STATUSES = ["answered", "answered", "answered", "missed", "no_buyer", "abandoned", "failed"]
CALLERS = ["+13125550100", "+13125550101", "+13125550102", "", "+17185550199"]
REGIONS = ["IL", "NY", "", "Texas"]
# Tag values as posted: 5 and "5", true and "true" are one value each in the tag rollup.
TAG_VALUES = ["google", "bing", 5, "5", True, "true", None]  # None: no such tag
REPORT_TAGS = ["source", "score"]

call_strategy = st.fixed_dictionaries(
    {
        "n": st.integers(0, 40),
        "campaign": st.integers(0, 1),
        "publisher": st.integers(0, 3),  # 3 = no publisher
        "buyer": st.integers(0, 2),  # 2 = no buyer
        "minute": st.integers(0, 8 * 24 * 60),
        "duration": st.sampled_from([0, 5, 19, 20, 30, 59, 60, 89, 90, 119, 120, 181, 400]),
        "status": st.sampled_from(STATUSES),
        "converted": st.booleans(),
        "revenue_cents": st.integers(0, 20000),
        "cost_cents": st.integers(0, 5000),
        "caller": st.sampled_from(CALLERS),
        "region": st.sampled_from(REGIONS),
        "source": st.sampled_from(TAG_VALUES),
        "score": st.sampled_from(TAG_VALUES),
        "other_tag": st.booleans(),  # a tag that is not a report tag: never rolled up
    }
)
operation = st.one_of(
    st.tuples(st.just("post"), st.lists(call_strategy, min_size=1, max_size=15)),
    st.tuples(st.just("convert"), st.integers(0, 40), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 40)),
    st.tuples(st.just("refresh")),
)


@pytest.fixture
def world(db):
    org = OrganizationFactory(slug="prop", timezone="America/New_York")
    for position, key in enumerate(REPORT_TAGS):
        ReportTag.objects.create(organization=org, key=key, position=position)
    campaigns = [
        CampaignFactory(organization=org, name="Short", qualifying_seconds=60, vertical="legal"),
        CampaignFactory(
            organization=org, name="Long", qualifying_seconds=120, duplicate_window_days=2
        ),
    ]
    publishers = [PublisherFactory(organization=org, name=f"P{i}") for i in range(3)]
    buyers = [BuyerFactory(organization=org, name=f"B{i}") for i in range(2)]
    AdSpend.objects.create(
        organization=org,
        campaign=campaigns[0],
        publisher=None,
        day=dt.date(2026, 11, 1),
        amount=Decimal("100.5"),
    )
    AdSpend.objects.create(
        organization=org,
        campaign=campaigns[1],
        publisher=publishers[0],
        day=dt.date(2026, 11, 2),
        amount=Decimal("40"),
    )
    # Another tenant's calls on the same days must never show up.
    other = OrganizationFactory(slug="prop-other")
    CallFactory(organization=other, started_at=WINDOW_START + dt.timedelta(days=2))
    return org, campaigns, publishers, buyers


def _item(spec, campaigns, publishers, buyers) -> dict:
    item = {
        "external_id": f"c{spec['n']}",
        "campaign_name": campaigns[spec["campaign"]].name,
        "started_at": (WINDOW_START + dt.timedelta(minutes=spec["minute"])).isoformat(),
        "duration_seconds": spec["duration"],
        "status": spec["status"],
        "converted": spec["converted"],
        "revenue": str(Decimal(spec["revenue_cents"]) / 100),
        "cost": str(Decimal(spec["cost_cents"]) / 100),
        "caller_number": spec["caller"],
        "caller_region": spec["region"],
        "tags": {key: spec[key] for key in ("source", "score") if spec[key] is not None}
        | ({"keyword": "roof"} if spec["other_tag"] else {}),
    }
    if spec["publisher"] < 3:
        item["publisher_name"] = publishers[spec["publisher"]].name
    if spec["buyer"] < 2:
        item["buyer_name"] = buyers[spec["buyer"]].name
    return item


def _assert_rollups_match(org, campaigns, publishers, buyers):
    filters = [
        KpiFilter(dt.date(2026, 10, 28), dt.date(2026, 11, 8)),
        KpiFilter(dt.date(2026, 10, 31), dt.date(2026, 11, 2), campaign_id=campaigns[1].id),
        KpiFilter(dt.date(2026, 10, 29), dt.date(2026, 11, 5), publisher_id=publishers[0].id),
        KpiFilter(dt.date(2026, 10, 29), dt.date(2026, 11, 5), buyer_id=buyers[1].id),
        KpiFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 1), vertical="legal"),
        # Ranges that end "today": their last day cut at a local hour (KPIS.md "Periods").
        KpiFilter(dt.date(2026, 10, 30), dt.date(2026, 11, 2), until_hour=13),
        KpiFilter(dt.date(2026, 11, 2), dt.date(2026, 11, 2), until_hour=1),
        # The night DST ends: the repeated 1 AM is one wall-clock hour, before 2 AM twice.
        KpiFilter(dt.date(2026, 10, 31), dt.date(2026, 11, 1), until_hour=2),
        KpiFilter(
            dt.date(2026, 10, 30),
            dt.date(2026, 11, 3),
            publisher_id=publishers[1].id,
            until_hour=20,
        ),
        KpiFilter(dt.date(2026, 10, 29), dt.date(2026, 11, 2), buyer_id=buyers[0].id, until_hour=9),
        # Region and report tag filters read their own daily rollups.
        KpiFilter(dt.date(2026, 10, 28), dt.date(2026, 11, 8), region="IL"),
        KpiFilter(
            dt.date(2026, 10, 31), dt.date(2026, 11, 3), campaign_id=campaigns[0].id, region=""
        ),
        KpiFilter(dt.date(2026, 10, 29), dt.date(2026, 11, 5), tag=("source", "5")),
        KpiFilter(
            dt.date(2026, 10, 30),
            dt.date(2026, 11, 2),
            publisher_id=publishers[2].id,
            tag=("score", "true"),
            until_hour=13,
        ),
    ]
    for kpi_filter in filters:
        for group_by in GroupBy:
            for tag_key in REPORT_TAGS if group_by is GroupBy.TAG else [None]:
                if not _answerable(kpi_filter, group_by, tag_key):
                    continue
                report = kpis_report(org, kpi_filter, group_by, tag_key)
                expected_totals, expected_rows = reference_counts(
                    org, kpi_filter, group_by, tag_key
                )
                assert report.totals.counts == expected_totals, (kpi_filter, group_by, tag_key)
                if group_by is not GroupBy.NONE:
                    got = {row.key: row.counts for row in report.rows}
                    assert got == expected_rows, (kpi_filter, group_by, tag_key)


def _answerable(kpi_filter: KpiFilter, group_by: GroupBy, tag_key: str | None) -> bool:
    """The combinations the rollups hold (the others are a KpiQueryError, tested apart)."""
    region = kpi_filter.region is not None or group_by is GroupBy.REGION
    tag = kpi_filter.tag is not None or group_by is GroupBy.TAG
    buyer = kpi_filter.buyer_id is not None or group_by is GroupBy.BUYER
    if group_by is GroupBy.HOUR_OF_WEEK and (buyer or region or tag):
        return False
    if ((region or tag) and buyer) or (region and tag):
        return False
    return not (kpi_filter.tag is not None and tag_key and kpi_filter.tag[0] != tag_key)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=8))
def test_rollup_kpis_equal_raw_kpis_after_random_changes(world, operations):
    org, campaigns, publishers, buyers = world
    Call.objects.filter(organization=org).delete()
    rollups_rebuild(org)
    for op in operations:
        if op[0] == "post":
            items = [_item(spec, campaigns, publishers, buyers) for spec in op[1]]
            result = call_ingest_batch(organization=org, items=items)
            assert result.ok, result.errors
        elif op[0] == "convert":
            call_conversion_record(
                organization=org,
                external_id=f"c{op[1]}",
                update=ConversionUpdate(converted=op[2], revenue=Decimal("12.34")),
            )
        elif op[0] == "delete":
            calls_delete(organization=org, external_ids=[f"c{op[1]}"])
        else:
            rollups_refresh(org.pk)
    rollups_refresh(org.pk)
    assert not DirtyDay.objects.filter(organization=org).exists()
    _assert_rollups_match(org, campaigns, publishers, buyers)
    # A full rebuild gives the same rows as the incremental refreshes.
    rollups_rebuild(org)
    _assert_rollups_match(org, campaigns, publishers, buyers)
    # So does the chunked full rebuild, its repeat flags derived in two shards of callers.
    rollups_rebuild_full(org, workers=2)
    assert not DirtyDay.objects.filter(organization=org).exists()
    _assert_rollups_match(org, campaigns, publishers, buyers)
