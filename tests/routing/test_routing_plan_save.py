"""routing_plan_save and the selectors that read plans back: new versions only, validation
that names the target and why, warnings about coverage holes, one query per plan read,
tenant isolation, and two saves at once getting different versions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from routing.models import RoutingPlan, RoutingPlanTarget
from routing.rules import TargetRule
from routing.selectors import plan_rules_current, plan_rules_for
from routing.services import (
    PlanTargetInput,
    coverage_hole_warnings,
    routing_plan_save,
    routing_plan_warnings,
)
from tests.factories import BuyerFactory, CampaignFactory, OrganizationFactory

NINE_TO_EIGHT_WEEKDAYS = {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# A Wednesday: the warnings look at the week starting the Monday after it.
WEDNESDAY = dt.datetime(2026, 11, 4, 12, 0, tzinfo=dt.UTC)


def save(org, campaign, *targets, **kwargs):
    return routing_plan_save(
        organization=org,
        campaign=campaign,
        targets=[PlanTargetInput(*t) for t in targets],
        **kwargs,
    )


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org)


def test_each_save_writes_the_next_version_and_the_current_is_the_highest(org, campaign):
    a, b, c = (BuyerFactory(organization=org) for _ in range(3))
    first = save(org, campaign, (a.pk, 1, 1), note="launch").plan
    second = save(org, campaign, (a.pk, 1, 70), (b.pk, 1, 30), (c.pk, 2, 1)).plan
    assert (first.version, second.version) == (1, 2)
    assert list(first.targets.values_list("buyer", flat=True)) == [a.pk]  # v1 kept as it was
    current = plan_rules_current(campaign)
    assert (current.plan_id, current.version, current.campaign_id) == (second.pk, 2, campaign.pk)
    assert [(t.target_id, t.tier, t.weight) for t in current.targets] == [
        (a.pk, 1, 70),
        (b.pk, 1, 30),
        (c.pk, 2, 1),
    ]
    assert [t.target_id for t in plan_rules_for(first).targets] == [a.pk]


def test_plan_rules_carry_the_buyers_routing_settings(org, campaign):
    buyer = BuyerFactory(
        organization=org,
        timezone="America/Chicago",
        business_hours={"mon": [["08:00", "17:00"]]},
        concurrency_cap=2,
        hourly_cap=5,
        daily_cap=20,
        monthly_cap=300,
        geo_allow=["US-TX", "US-OK"],
        geo_deny=["CA"],
        ring_timeout_seconds=25,
    )
    save(org, campaign, (buyer.pk, 3, 40), repeat_to_first_buyer=False)
    rules = plan_rules_current(campaign)
    assert rules.repeat_to_first_buyer is False
    assert rules.targets == (
        TargetRule(
            target_id=buyer.pk,
            name=buyer.name,
            destination=buyer.phone_number,
            timezone="America/Chicago",
            hours={"mon": [["08:00", "17:00"]]},
            tier=3,
            weight=40,
            active=True,
            concurrency_cap=2,
            hourly_cap=5,
            daily_cap=20,
            monthly_cap=300,
            geo_allow=frozenset({"US-TX", "US-OK"}),
            geo_deny=frozenset({"CA"}),
            ring_timeout_seconds=25,
        ),
    )


def test_reading_a_plan_is_one_query_once_its_rules_are_cached(
    org, campaign, django_assert_num_queries
):
    buyers = [BuyerFactory(organization=org) for _ in range(5)]
    plan = save(org, campaign, *[(b.pk, 1 + i % 2, 1) for i, b in enumerate(buyers)]).plan
    with django_assert_num_queries(2):  # the plan's stamp, then its targets and buyers
        first = plan_rules_current(campaign)
    with django_assert_num_queries(1):  # the stamp only
        assert plan_rules_current(campaign) is first
    with django_assert_num_queries(1):
        assert plan_rules_for(plan) is first
    assert len(first.targets) == 5


@pytest.mark.parametrize("reader", ["current", "for"])
def test_a_buyer_edit_is_read_by_the_next_decision_despite_the_cache(org, campaign, reader):
    alpha, bravo = BuyerFactory(organization=org), BuyerFactory(organization=org)
    plan = save(org, campaign, (alpha.pk, 1, 1), (bravo.pk, 2, 1)).plan

    def read():
        rules = plan_rules_current(campaign) if reader == "current" else plan_rules_for(plan)
        return {t.target_id: t for t in rules.targets}

    assert read()[alpha.pk].active and read()[bravo.pk].daily_cap is None
    alpha.active = False
    alpha.save()
    assert not read()[alpha.pk].active
    # Other fields of another buyer, in a save that names its fields.
    bravo.daily_cap, bravo.geo_deny = 30, ["US-FL"]
    bravo.save(update_fields=["daily_cap", "geo_deny"])
    rules = read()
    assert (rules[bravo.pk].daily_cap, rules[bravo.pk].geo_deny) == (30, frozenset({"US-FL"}))
    assert not rules[alpha.pk].active


def test_a_new_version_is_read_at_once_and_old_ones_keep_their_targets(org, campaign):
    alpha, bravo = BuyerFactory(organization=org), BuyerFactory(organization=org)
    first = save(org, campaign, (alpha.pk, 1, 1)).plan
    assert [t.target_id for t in plan_rules_current(campaign).targets] == [alpha.pk]
    save(org, campaign, (bravo.pk, 1, 1))
    assert [t.target_id for t in plan_rules_current(campaign).targets] == [bravo.pk]
    assert [t.target_id for t in plan_rules_for(first).targets] == [alpha.pk]


def test_a_campaign_without_a_plan_has_none(campaign):
    assert plan_rules_current(campaign) is None


def test_plans_stay_in_their_tenant(org, other_org, campaign):
    other_campaign = CampaignFactory(organization=other_org)
    mine, theirs = BuyerFactory(organization=org), BuyerFactory(organization=other_org)
    save(org, campaign, (mine.pk, 1, 1))
    save(other_org, other_campaign, (theirs.pk, 1, 1))
    assert [t.target_id for t in plan_rules_current(campaign).targets] == [mine.pk]
    assert plan_rules_current(other_campaign).version == 1  # versions count per campaign
    with pytest.raises(ValidationError) as excinfo:
        save(org, campaign, (theirs.pk, 1, 1))
    # Another tenant's buyer reads exactly like a missing one.
    assert errors_of(excinfo) == {"targets[0].buyer": [f"No buyer with id {theirs.pk}."]}
    with pytest.raises(ValidationError) as excinfo:
        save(org, other_campaign, (mine.pk, 1, 1))
    assert errors_of(excinfo) == {"campaign": [f"No campaign with id {other_campaign.pk}."]}


def test_validation_names_each_target_and_why(org, campaign):
    ok = BuyerFactory(organization=org, name="Acme")
    inactive = BuyerFactory(organization=org, name="Sleepy", active=False)
    no_number = BuyerFactory(organization=org, name="Silent", phone_number="")
    with pytest.raises(ValidationError) as excinfo:
        save(
            org,
            campaign,
            (ok.pk, 1, 1),
            (ok.pk, 2, 1),
            (inactive.pk, 1, 1),
            (no_number.pk, 1, 1),
            (999_999, 1, 1),
            (ok.pk + 10_000, 0, 1001),
            note="x" * 201,
        )
    assert errors_of(excinfo) == {
        "note": ["At most 200 characters."],
        "targets[1].buyer": ["Acme is already in the plan (targets[0]); a buyer has one place."],
        "targets[2].buyer": ["Sleepy is inactive: activate it or leave it out of the plan."],
        "targets[3].buyer": ["Silent has no phone number to send calls to: add one first."],
        "targets[4].buyer": ["No buyer with id 999999."],
        "targets[5].buyer": [f"No buyer with id {ok.pk + 10_000}."],
        "targets[5].tier": ["Tier must be a whole number from 1 (tried first) to 20."],
        "targets[5].weight": ["Weight must be a whole number from 1 to 1000."],
    }
    assert not RoutingPlan.objects.exists()


def test_an_empty_plan_is_refused(org, campaign):
    with pytest.raises(ValidationError) as excinfo:
        save(org, campaign)
    assert errors_of(excinfo) == {"targets": ["A plan needs at least one buyer."]}


# --- Warnings ----------------------------------------------------------------------------


def rule(target_id=1, **overrides) -> TargetRule:
    fields = {
        "target_id": target_id,
        "name": f"Buyer {target_id}",
        "destination": "+12125550100",
        "timezone": "America/New_York",
        "hours": NINE_TO_EIGHT_WEEKDAYS,
        "tier": 1,
        "weight": 1,
    }
    return TargetRule(**{**fields, **overrides})


def test_coverage_holes_are_said_by_weekday_and_hour_in_the_tenants_zone():
    warnings = coverage_hole_warnings([rule(1), rule(2)], "America/New_York", WEDNESDAY)
    assert warnings == [
        "every target is closed on Saturdays and Sundays",
        "no target is open Mon-Fri 00:00-09:00, 20:00-24:00 America/New_York",
    ]


def test_coverage_is_read_in_the_tenants_zone_from_the_buyers_own():
    # A London buyer open 09:00-20:00 covers New York 04:00-15:00 (both on standard time).
    london = rule(1, timezone="Europe/London")
    warnings = coverage_hole_warnings([london], "America/New_York", WEDNESDAY)
    assert warnings[1] == "no target is open Mon-Fri 00:00-04:00, 15:00-24:00 America/New_York"


def test_buyers_together_covering_the_week_leave_no_hole():
    days = {d: [["00:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    evenings = {d: [["12:00", "24:00"]] for d in days}
    covered = [rule(1, hours=days), rule(2, hours=evenings)]
    assert coverage_hole_warnings(covered, "America/New_York", WEDNESDAY) == []
    assert coverage_hole_warnings([rule(1, hours={})], "UTC", WEDNESDAY) == []


def test_a_single_partial_day_and_a_week_never_open():
    saturday_only = rule(1, hours={"sat": [["10:00", "14:00"]]})
    assert coverage_hole_warnings([saturday_only], "America/New_York", WEDNESDAY) == [
        "the only target is closed on Mondays, Tuesdays, Wednesdays, Thursdays, Fridays "
        "and Sundays",
        "no target is open Sat 00:00-10:00, 14:00-24:00 America/New_York",
    ]
    never = rule(1, hours={"mon": []})
    assert coverage_hole_warnings([never], "America/New_York", WEDNESDAY) == [
        "no target is ever open: every hour of the week (America/New_York) is missed"
    ]


def test_warnings_about_geo_backup_and_caps(org):
    one = rule(1, hours={}, geo_allow=frozenset({"US-CA"}), geo_deny=frozenset({"MX"}))
    assert routing_plan_warnings(organization=org, targets=[one], at=WEDNESDAY) == [
        "no target answers callers from outside US-CA",
        "every target refuses callers from MX",
        "no backup: when Buyer 1 is busy, closed or does not answer, the call is missed; "
        "add a second buyer",
    ]
    capped = [
        rule(1, hours={}, daily_cap=100, concurrency_cap=2),
        rule(2, hours={}, daily_cap=50),
    ]
    assert routing_plan_warnings(organization=org, targets=capped, at=WEDNESDAY) == [
        "every target is capped: at most 150 calls a day get through; calls past that are missed"
    ]


def test_saving_returns_the_warnings_of_the_saved_plan(org, campaign):
    buyer = BuyerFactory(organization=org, business_hours={"mon": [["00:00", "24:00"]]})
    result = save(org, campaign, (buyer.pk, 1, 1))
    assert result.plan.version == 1
    assert "the only target is closed on" in result.warnings[0]
    assert result.warnings[-1].startswith("no backup")


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_get_different_versions():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    org = OrganizationFactory()
    campaign = CampaignFactory(organization=org)
    buyer = BuyerFactory(organization=org)
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def one_save():
        try:
            barrier.wait()
            save(org, campaign, (buyer.pk, 1, 1))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    versions = sorted(
        RoutingPlan.objects.filter(campaign=campaign).values_list("version", flat=True)
    )
    assert versions == [1, 2, 3, 4, 5, 6]
    assert RoutingPlanTarget.objects.filter(plan__campaign=campaign).count() == 6
