"""Verdicts read from the rollups in a few grouped queries answer exactly what judging the KPI
selector's reports one by one answers; the velocity spikes they read are the pure rule's."""

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import asdict, replace
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from kpis import decisions
from kpis.decisions import (
    kpi_counts_by_campaign_and_publisher,
    verdicts_report,
)
from kpis.models import CallRollupHourly
from kpis.rollups import rollups_rebuild
from kpis.selectors import AD_SPEND_NOT_ATTRIBUTED, GroupBy, KpiFilter, kpis_report
from kpis.spikes import spikes_rejudge
from kpis.verdicts import VerdictThresholds, velocity_spikes, verdict_for
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    PublisherFactory,
)

START = dt.datetime(2026, 10, 26, 12, 0, tzinfo=dt.UTC)  # a week around the end of DST
WEEK = KpiFilter(date_from=dt.date(2026, 10, 26), date_to=dt.date(2026, 11, 1))
STATUSES = ["answered", "answered", "answered", "answered", "missed", "no_buyer", "failed"]


@pytest.fixture
def tenant(db):
    """Three campaigns in two verticals (one with its own thresholds and an RPM floor), five
    publishers (one on two campaigns, one with too few calls), calls without a publisher or
    a campaign, ad spend with and without a publisher, and another tenant's calls."""
    org = OrganizationFactory(slug="dec", verdict_thresholds={"min_calls": 20})
    auto = CampaignFactory(organization=org, name="Auto", vertical="insurance")
    legal = CampaignFactory(
        organization=org,
        name="Legal",
        vertical="legal",
        rpm_floor=Decimal("1.50"),
        verdict_thresholds={"strong_conversion_pct": 10},
    )
    home = CampaignFactory(organization=org, name="Home", vertical="home_services")
    publishers = [PublisherFactory(organization=org, name=f"P{n}") for n in range(5)]
    buyers = [BuyerFactory(organization=org, name=f"B{n}") for n in range(2)]
    routes = [
        (auto, publishers[0], 70, 0.30),
        (auto, publishers[1], 60, 0.02),
        (legal, publishers[1], 40, 0.20),
        (legal, publishers[2], 50, 0.10),
        (home, publishers[3], 45, 0.05),
        (home, publishers[4], 5, 0.50),
        (home, None, 8, 0.10),
        (None, publishers[0], 6, 0.10),
    ]
    rng = random.Random(7)
    for campaign, publisher, count, close_rate in routes:
        for _ in range(count):
            status = rng.choice(STATUSES)
            answered = status == "answered"
            converted = answered and rng.random() < close_rate
            CallFactory(
                organization=org,
                campaign=campaign,
                publisher=publisher,
                buyer=rng.choice(buyers) if status != "no_buyer" else None,
                started_at=START + dt.timedelta(minutes=rng.randint(-60 * 24, 60 * 24 * 7)),
                status=status,
                duration_seconds=rng.choice([10, 45, 95, 150, 240, 400]) if answered else 0,
                converted=converted,
                revenue=Decimal(rng.choice(["0", "25.50", "60"])) if converted else Decimal(0),
                cost=Decimal(rng.choice(["0", "4.25", "12"])),
                caller_number=f"+1312555{rng.randint(0, 60):04d}",
            )
    for day in range(-1, 8):
        spend_day = WEEK.date_from + dt.timedelta(days=day)
        AdSpendFactory(organization=org, campaign=auto, day=spend_day, amount=Decimal("30.10"))
        AdSpendFactory(
            organization=org,
            campaign=legal,
            publisher=publishers[2],
            day=spend_day,
            amount=Decimal("12.35"),
        )
    # Spend on a publisher that sent this campaign no calls.
    AdSpendFactory(organization=org, campaign=home, publisher=publishers[0], day=WEEK.date_from)
    other = OrganizationFactory(slug="dec-other")
    CallFactory.create_batch(40, organization=other, started_at=START)
    rollups_rebuild(org)
    rollups_rebuild(other)
    return {"org": org, "campaigns": [auto, legal, home], "publishers": publishers}


def _filters(tenant):
    auto, legal, _ = tenant["campaigns"]
    buyer = BuyerFactory._meta.model.objects.filter(organization=tenant["org"]).first()
    return [
        WEEK,
        replace(WEEK, campaign_id=legal.id),
        replace(WEEK, publisher_id=tenant["publishers"][1].id),
        replace(WEEK, buyer_id=buyer.id),
        replace(WEEK, vertical="insurance"),
        replace(WEEK, campaign_id=auto.id, vertical="legal"),
        KpiFilter(date_from=dt.date(2026, 10, 30), date_to=dt.date(2026, 10, 30)),
        KpiFilter(date_from=dt.date(2026, 12, 1), date_to=dt.date(2026, 12, 7)),  # no calls
    ]


def _spikes_reference(organization, filters):
    """The pure rule over each publisher's hourly calls loaded from a week before the filter."""
    history_from = filters.date_from - dt.timedelta(days=7)
    rows = CallRollupHourly.objects.filter(
        organization=organization,
        day__gte=history_from,
        day__lte=filters.date_to,
        publisher_id__isnull=False,
    )
    if filters.campaign_id is not None:
        rows = rows.filter(campaign_id=filters.campaign_id)
    hourly = defaultdict(dict)
    for publisher_id, day, hour, calls in rows.values_list("publisher_id", "day", "hour").annotate(
        Sum("calls")
    ):
        hourly[publisher_id][dt.datetime.combine(day, dt.time(hour))] = calls
    window_start = dt.datetime.combine(filters.date_from, dt.time.min)
    history_start = dt.datetime.combine(history_from, dt.time.min)
    spikes = {
        publisher_id: [
            spike
            for spike in velocity_spikes(hours, history_start=history_start)
            if spike.hour >= window_start
        ]
        for publisher_id, hours in hourly.items()
    }
    return {publisher_id: found for publisher_id, found in spikes.items() if found}


def _verdicts_reference(organization, filters):
    """Verdicts the straightforward way: one selector report per campaign, judged row by row."""
    from calls.models import Campaign

    campaigns = {c.id: c for c in Campaign.objects.for_organization(organization)}

    def thresholds(campaign):
        return VerdictThresholds.from_overrides(
            organization.verdict_thresholds or None,
            (campaign.verdict_thresholds or None) if campaign else None,
        )

    def judged(kind, row, campaign, vertical, spikes=(), campaign_id=None):
        return {
            "kind": kind,
            "id": row.key,
            "name": row.label,
            "kpis": asdict(row.kpis),
            "verdict": asdict(
                verdict_for(
                    row.kpis,
                    thresholds=thresholds(campaign),
                    vertical=vertical,
                    rpm_floor=campaign.rpm_floor if campaign else None,
                    spikes=spikes,
                    subject=kind,
                    currency=organization.currency,
                )
            ),
            "campaign_id": campaign_id,
            "spikes": [asdict(spike) for spike in spikes],
        }

    campaign_verdicts = [
        judged("campaign", row, campaigns[row.key], campaigns[row.key].vertical)
        for row in kpis_report(organization, filters, GroupBy.CAMPAIGN).rows
        if row.key in campaigns and row.kpis.calls
    ]
    by_campaign, dominant = {}, defaultdict(Counter)
    for campaign_id, campaign in campaigns.items():
        if filters.campaign_id not in (None, campaign_id):
            continue
        report = kpis_report(
            organization, replace(filters, campaign_id=campaign_id), GroupBy.PUBLISHER
        )
        rows = [row for row in report.rows if row.key is not None and row.kpis.calls]
        for row in rows:
            dominant[row.key][campaign.vertical] += row.kpis.calls
        # A publisher within a campaign is judged on its spikes in that campaign's calls.
        pair_spikes = _spikes_reference(organization, replace(filters, campaign_id=campaign_id))
        if rows:
            by_campaign[campaign_id] = [
                judged(
                    "publisher",
                    row,
                    campaign,
                    campaign.vertical,
                    pair_spikes.get(row.key, []),
                    campaign_id=campaign_id,
                )
                for row in rows
            ]
    spikes = _spikes_reference(organization, filters)
    publisher_verdicts = [
        judged(
            "publisher",
            row,
            None,
            dominant[row.key].most_common(1)[0][0] if dominant[row.key] else "other",
            spikes.get(row.key, []),
        )
        for row in kpis_report(organization, filters, GroupBy.PUBLISHER).rows
        if row.key is not None and row.kpis.calls
    ]
    return {
        "campaigns": campaign_verdicts,
        "publishers": publisher_verdicts,
        "publishers_by_campaign": by_campaign,
    }


def _as_plain(report):
    plain = asdict(report)
    # asdict keeps dict insertion order out of equality; the order of campaigns is part of it.
    plain["campaign_order"] = list(report.publishers_by_campaign)
    return plain


def test_verdicts_equal_judging_the_selector_reports_one_by_one(tenant):
    for filters in _filters(tenant):
        expected = _verdicts_reference(tenant["org"], filters)
        expected["campaign_order"] = list(expected["publishers_by_campaign"])
        assert _as_plain(verdicts_report(tenant["org"], filters)) == expected, filters


def test_stored_overrides_that_contradict_the_tenant_judge_by_the_tenant(tenant, caplog):
    # The admin and the API refuse this pair; data written around them must not make a 500.
    org, auto = tenant["org"], tenant["campaigns"][0]
    type(auto).objects.filter(pk=auto.pk).update(verdict_thresholds={"weak_conversion_pct": 10})
    type(org).objects.filter(pk=org.pk).update(
        verdict_thresholds={"min_calls": 20, "strong_conversion_pct": 8}
    )
    org.refresh_from_db()
    judged = next(v for v in verdicts_report(org, WEEK).campaigns if v.id == auto.pk)
    expected = verdict_for(
        judged.kpis,
        thresholds=VerdictThresholds.from_overrides(org.verdict_thresholds, None),
        vertical=auto.vertical,
        rpm_floor=auto.rpm_floor,
        subject="campaign",
        currency=org.currency,
    )
    assert judged.verdict == expected
    assert f"campaign {auto.pk} (organization {org.pk}): verdict overrides ignored" in caplog.text


def test_pair_counts_sum_to_the_selector_rows(tenant):
    org = tenant["org"]
    for filters in _filters(tenant):
        pairs = kpi_counts_by_campaign_and_publisher(org, filters).counts
        for group_by, side in ((GroupBy.CAMPAIGN, 0), (GroupBy.PUBLISHER, 1)):
            expected = {
                row.key: row.counts
                for row in kpis_report(org, filters, group_by).rows
                if row.key not in (None, AD_SPEND_NOT_ATTRIBUTED)
            }
            assert decisions._summed_by(pairs, side) == expected, (filters, group_by)


def test_the_verdicts_read_a_fixed_number_of_queries_however_many_campaigns(tenant):
    org = tenant["org"]
    with CaptureQueriesContext(connection) as before:
        verdicts_report(org, WEEK)
    for n in range(4):
        campaign = CampaignFactory(organization=org, name=f"More {n}")
        CallFactory(organization=org, campaign=campaign, started_at=START)
    rollups_rebuild(org)
    with CaptureQueriesContext(connection) as after:
        verdicts_report(org, WEEK)
    assert len(after) == len(before) <= 6


def test_without_overall_publishers_there_is_no_spike_pass(tenant, monkeypatch):
    full = verdicts_report(tenant["org"], WEEK)

    def no_spikes(*args):
        raise AssertionError("the spike pass ran")

    monkeypatch.setattr(decisions, "_spikes_by_publisher", no_spikes)
    narrow = verdicts_report(tenant["org"], WEEK, overall_publishers=False)
    assert narrow.publishers == []
    assert narrow.campaigns == full.campaigns
    assert narrow.publishers_by_campaign == full.publishers_by_campaign


def _hourly_rows(organization, campaigns, publishers, rng, days):
    """Random hourly rollup rows: mostly a few calls, some bursts, many empty hours."""
    rows = []
    for day in days:
        for hour in range(24):
            for campaign in campaigns:
                for publisher in [*publishers, None]:
                    if rng.random() < 0.45:
                        continue
                    burst = rng.random()
                    calls = rng.randint(10, 40) if burst < 0.08 else rng.randint(1, 6)
                    rows.append(
                        CallRollupHourly(
                            organization=organization,
                            day=day,
                            hour=hour,
                            campaign=campaign,
                            publisher=publisher,
                            calls=calls,
                            answered=calls,
                        )
                    )
    CallRollupHourly.objects.bulk_create(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spikes_read_as_daily_series_are_the_pure_rules(db, seed):
    rng = random.Random(seed)
    org = OrganizationFactory()
    campaigns = [CampaignFactory(organization=org) for _ in range(2)]
    publishers = [PublisherFactory(organization=org) for _ in range(3)]
    first = dt.date(2026, 10, 20)
    # Days 6 and 13 are left out entirely: a gap in the history counts as no calls.
    days = [first + dt.timedelta(days=n) for n in range(21) if n not in (6, 13)]
    _hourly_rows(org, campaigns, publishers, rng, days)
    other = OrganizationFactory()
    _hourly_rows(other, [CampaignFactory(organization=other)], [None], rng, days)
    spikes_rejudge(org)
    spikes_rejudge(other)

    found_any = False
    for start, length in ((7, 14), (1, 20), (10, 1), (16, 5)):
        window = KpiFilter(
            date_from=first + dt.timedelta(days=start),
            date_to=first + dt.timedelta(days=start + length - 1),
        )
        for filters in (window, replace(window, campaign_id=campaigns[1].id)):
            spikes = decisions._spikes_by_publisher(org, filters)
            assert spikes == _spikes_reference(org, filters), filters
            found_any = found_any or bool(spikes)
    assert found_any  # the data does spike, so the comparison means something


def test_a_spike_states_its_hour_calls_and_trailing_mean(db):
    org = OrganizationFactory()
    campaign = CampaignFactory(organization=org)
    publisher = PublisherFactory(organization=org)
    first = dt.date(2026, 11, 1)
    # 10:00 on 7 days: 2 calls each (mean 2), then 13 calls in two campaigns' rows: 13 > 3 x 2.
    rows = [(first + dt.timedelta(days=n), 2, campaign) for n in range(7)]
    rows += [(first + dt.timedelta(days=7), 6, campaign), (first + dt.timedelta(days=7), 7, None)]
    CallRollupHourly.objects.bulk_create(
        CallRollupHourly(
            organization=org, day=day, hour=10, campaign=c, publisher=publisher, calls=calls
        )
        for day, calls, c in rows
    )
    spikes_rejudge(org)
    day = first + dt.timedelta(days=7)
    spikes = decisions._spikes_by_publisher(org, KpiFilter(date_from=day, date_to=day))
    (spike,) = spikes[publisher.id]
    assert spike.hour == dt.datetime(2026, 11, 8, 10)
    assert spike.calls == 13
    assert spike.trailing_mean == 2.0
    # The campaign alone sent 6: under the 10-call minimum.
    only_campaign = KpiFilter(date_from=day, date_to=day, campaign_id=campaign.id)
    assert decisions._spikes_by_publisher(org, only_campaign) == {}
