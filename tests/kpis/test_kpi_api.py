"""The KPI endpoints, fed the way production feeds them: calls posted over the API, the
rollup refresh run by the (eager) Celery task when the write commits."""

import datetime as dt

import pytest

from calls.models import Campaign
from publishers.models import Publisher
from tests.factories import CampaignFactory, PublisherFactory

DAY = "2026-11-02"


def call(n, **overrides):
    return {
        "external_id": f"k{n}",
        "campaign_name": "Auto",
        "publisher_name": "Star" if n % 2 else "Weak",
        "started_at": f"{DAY}T15:{n % 60:02d}:00Z",
        "status": "answered" if n % 5 else "missed",
        "duration_seconds": 150 if n % 5 else 0,
        "converted": n % 2 == 1 and n % 3 == 0,
        "revenue": "40" if n % 2 == 1 and n % 3 == 0 else "0",
        "cost": "10" if n % 5 else "0",
        **overrides,
    }


@pytest.fixture
def posted(api_client, org, django_capture_on_commit_callbacks):
    CampaignFactory(organization=org, name="Auto", qualifying_seconds=90, vertical="insurance")
    PublisherFactory(organization=org, name="Star")
    PublisherFactory(organization=org, name="Weak")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/calls/", [call(n) for n in range(60)], format="json")
    assert response.status_code == 201
    return api_client


def kpis(client, **params):
    response = client.get("/api/v1/kpis/", {"date_from": DAY, "date_to": DAY, **params})
    assert response.status_code == 200, response.json()
    return response.json()


def test_posted_calls_reach_the_kpis_through_the_refresh_task(posted):
    totals = kpis(posted)["totals"]
    # 60 calls, every 5th missed: 48 answered of 150 s; conversions on odd multiples of 3.
    assert totals["calls"] == 60
    assert totals["answered"] == 48
    assert totals["missed_rate"] == 20.0
    assert totals["average_duration"] == 150.0
    assert totals["qualified"] == 48
    assert totals["conversions"] == 10
    assert totals["conversion_rate"] == round(10 / 60 * 100, 4)
    assert totals["revenue"] == "400.0000"
    assert totals["spend"] == "480.0000"
    assert totals["cpa"] == "48.0000"
    assert totals["rpm"] == "3.3333"  # 400 / (48 * 150 / 60)


def test_empty_denominators_are_null(posted):
    totals = kpis(posted, date_from="2026-10-01", date_to="2026-10-01")["totals"]
    assert totals["calls"] == 0
    assert totals["conversion_rate"] is None and totals["cpa"] is None and totals["rpm"] is None
    assert totals["profit"] == "0.0000"


def test_group_by_publisher_rows_are_ratios_of_their_own_sums(posted):
    body = kpis(posted, group_by="publisher")
    rows = {row["label"]: row for row in body["rows"]}
    assert set(rows) == {"Star", "Weak"}
    assert rows["Star"]["calls"] == rows["Weak"]["calls"] == 30
    assert rows["Weak"]["conversions"] == 0
    assert rows["Star"]["conversion_rate"] == round(10 / 30 * 100, 4)


def test_group_by_campaign_publisher_keys_each_pair_and_names_both(posted, org):
    rows = kpis(posted, group_by="campaign_publisher")["rows"]
    auto = Campaign.objects.get(organization=org, name="Auto")
    star, weak = (Publisher.objects.get(organization=org, name=name) for name in ("Star", "Weak"))
    assert [(row["key"], row["label"], row["calls"]) for row in rows] == [
        ({"campaign": auto.id, "publisher": star.id}, "Auto / Star", 30),
        ({"campaign": auto.id, "publisher": weak.id}, "Auto / Weak", 30),
    ]


def test_previous_period_is_the_same_length_just_before(posted):
    body = kpis(posted, date_from="2026-11-03", date_to="2026-11-04")
    assert body["previous"]["date_from"] == "2026-11-01"
    assert body["previous"]["date_to"] == "2026-11-02"
    assert body["previous"]["calls"] == 60
    assert body["totals"]["calls"] == 0


def test_hour_of_week_rows_are_in_the_tenants_zone(posted):
    rows = kpis(posted, group_by="hour_of_week")["rows"]
    # 15:xx UTC on Monday 2026-11-02 is 10:xx in New York (EST).
    assert [row["key"] for row in rows] == [{"weekday": 0, "hour": 10}]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"group_by": "galaxy"}, "group_by"),
        ({"date_from": "2026-11-05", "date_to": "2026-11-01"}, "date_from"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"vertical": "crypto"}, "vertical"),
        ({"campaign": "x"}, "campaign"),
        ({"group_by": "hour_of_week", "buyer": 1}, "group_by"),
    ],
)
def test_bad_kpi_queries_are_400_naming_the_field(posted, params, field):
    response = posted.get("/api/v1/kpis/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_viewer_can_read_kpis(viewer_client, posted):
    assert viewer_client.get("/api/v1/kpis/").status_code == 200


def test_verdicts_say_what_to_cut_with_numbers(posted):
    response = posted.get("/api/v1/verdicts/", {"date_from": DAY, "date_to": DAY})
    assert response.status_code == 200
    body = response.json()
    weak = next(p for p in body["publishers"] if p["name"] == "Weak")
    assert weak["verdict"] == "cut"
    assert any("over 30 calls" in reason for reason in weak["reasons"])
    star = next(p for p in body["publishers"] if p["name"] == "Star")
    assert star["kpis"]["conversion_rate"] > 15
    assert {p["campaign_id"] for p in body["publishers_by_campaign"]} == {
        body["campaigns"][0]["id"]
    }


def test_qualifying_thresholds_and_reallocation(posted):
    thresholds = posted.get("/api/v1/qualifying-thresholds/", {"date_from": DAY, "date_to": DAY})
    assert thresholds.status_code == 200
    campaign = thresholds.json()["campaigns"][0]
    assert campaign["qualifying_seconds"] == 90
    assert sum(b["answered"] for b in campaign["buckets"]) == 48
    reallocation = posted.get("/api/v1/reallocation/", {"date_from": DAY, "date_to": DAY})
    assert reallocation.status_code == 200
    entry = reallocation.json()["campaigns"][0]
    assert entry["conversion_spread"]["best"]["name"] == "Star"
    assert entry["conversion_spread"]["worst"]["name"] == "Weak"
    assert [p["name"] for p in entry["cut"]] == ["Weak"]
    assert entry["freed_spend"] == "240.0000"


def test_patching_the_qualifying_threshold_recomputes_history(
    posted, org, django_capture_on_commit_callbacks
):
    campaign_id = posted.get("/api/v1/campaigns/").json()["results"][0]["id"]
    assert kpis(posted)["totals"]["qualified"] == 48
    with django_capture_on_commit_callbacks(execute=True):
        response = posted.patch(
            f"/api/v1/campaigns/{campaign_id}/", {"qualifying_seconds": 180}, format="json"
        )
    assert response.status_code == 200
    assert kpis(posted)["totals"]["qualified"] == 0


def test_kpis_default_to_the_last_30_local_days(posted, org):
    body = posted.get("/api/v1/kpis/").json()
    today = dt.datetime.now(tz=org.tzinfo).date()
    assert body["date_to"] == today.isoformat()
    assert body["date_from"] == (today - dt.timedelta(days=29)).isoformat()


def test_ad_spend_without_a_publisher_is_a_row_of_its_own(posted, org):
    # KPIS.md "Ad spend without a publisher": it "counts in campaign and tenant totals. Grouped
    # by publisher (or buyer, or hour) it is one row, "Ad spend not attributed", with spend
    # only: no calls, no rates, no verdict. It is never presented as a publisher."
    campaign = Campaign.objects.get(organization=org, name="Auto")
    star = Publisher.objects.get(organization=org, name="Star")
    response = posted.post(
        "/api/v1/ad-spend/",
        {"campaign": campaign.pk, "day": DAY, "amount": "120.00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    posted.post(
        "/api/v1/ad-spend/",
        {"campaign": campaign.pk, "publisher": star.pk, "day": DAY, "amount": "30.00"},
        format="json",
    )
    assert kpis(posted)["totals"]["spend"] == "630.0000"  # 480 payouts + 150 ad spend
    by_campaign = kpis(posted, group_by="campaign")["rows"]
    assert [row["spend"] for row in by_campaign] == ["630.0000"]
    for group_by in ("publisher", "buyer", "hour_of_week"):
        rows = kpis(posted, group_by=group_by)["rows"]
        unattributed = [row for row in rows if row["label"] == "Ad spend not attributed"]
        assert len(unattributed) == 1, group_by
        row = unattributed[0]
        assert row["key"] == "ad_spend", group_by
        assert row["calls"] == 0 and row["conversion_rate"] is None and row["roi"] is None
        # By publisher, the 30.00 of Star is Star's; by buyer and hour no spend has either.
        assert row["spend"] == ("120.0000" if group_by == "publisher" else "150.0000"), group_by
        assert "No publisher" not in {r["label"] for r in rows}
    verdicts = posted.get("/api/v1/verdicts/", {"date_from": DAY, "date_to": DAY}).json()
    assert "Ad spend not attributed" not in {v["name"] for v in verdicts["publishers"]}
