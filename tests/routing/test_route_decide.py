"""route_decide: the pure routing decision (routing/rules.py), pinned by hand-made cases for
each reason a target is left out, the order of tiers and repeats, and property tests over
many draws for the weights, the caps and the hours across time zones and DST changes."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import random
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.rules import (
    Caller,
    PlanRules,
    SkipReason,
    TargetLive,
    TargetRule,
    route_decide,
    weighted_order,
)

UTC = dt.UTC
# Monday 2 November 2026, 15:00 UTC: 10:00 in New York, 09:00 in Chicago.
MONDAY_MORNING = dt.datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def target(target_id: int, **overrides) -> TargetRule:
    fields = {
        "target_id": target_id,
        "name": f"Buyer {target_id}",
        "destination": f"+1212555{target_id:04d}",
        "timezone": "America/New_York",
        "hours": {},
        "tier": 1,
        "weight": 1,
    }
    return TargetRule(**{**fields, **overrides})


def plan(*targets: TargetRule, repeat: bool = True) -> PlanRules:
    return PlanRules(
        plan_id=1, version=1, campaign_id=1, targets=targets, repeat_to_first_buyer=repeat
    )


def decide(*targets, live=None, caller=None, at=MONDAY_MORNING, **kwargs):
    return route_decide(plan(*targets), live or {}, caller or Caller(), at, **kwargs)


def ids(decision) -> list[int]:
    return [t.target_id for t in decision.destinations]


# --- Each reason a target is left out, with the words a person reads --------------------


@pytest.mark.parametrize(
    ("overrides", "live", "caller", "reason", "detail"),
    [
        ({"active": False}, TargetLive(), Caller(), SkipReason.INACTIVE, "Buyer 1 is inactive"),
        (
            {"destination": ""},
            TargetLive(),
            Caller(),
            SkipReason.NO_DESTINATION,
            "Buyer 1 has no phone number",
        ),
        (
            {"geo_allow": frozenset({"US-CA", "US-NV"})},
            TargetLive(),
            Caller(country="US", region="US-TX"),
            SkipReason.GEO,
            "caller from US-TX is outside the allow list (US-CA, US-NV)",
        ),
        (
            {"geo_allow": frozenset({"US-CA"})},
            TargetLive(),
            Caller(),
            SkipReason.GEO,
            "caller's location is unknown; only callers from US-CA are allowed",
        ),
        (
            {"geo_deny": frozenset({"US-TX"})},
            TargetLive(),
            Caller(country="US", region="US-TX"),
            SkipReason.GEO,
            "caller from US-TX: US-TX is on the deny list",
        ),
        (
            {"geo_deny": frozenset({"CA"})},
            TargetLive(),
            Caller(region="CA-ON"),
            SkipReason.GEO,
            "caller from CA-ON: CA is on the deny list",
        ),
        (
            {"concurrency_cap": 3},
            TargetLive(in_progress=3),
            Caller(),
            SkipReason.CONCURRENCY,
            "3 of 3 calls in progress",
        ),
        (
            {"hourly_cap": 10},
            TargetLive(hour_count=10),
            Caller(),
            SkipReason.HOURLY_CAP,
            "hourly cap of 10 reached (10 calls this hour, America/New_York)",
        ),
        (
            {"daily_cap": 50},
            TargetLive(day_count=51),
            Caller(),
            SkipReason.DAILY_CAP,
            "daily cap of 50 reached (51 calls this day, America/New_York)",
        ),
        (
            {"monthly_cap": 900},
            TargetLive(month_count=900),
            Caller(),
            SkipReason.MONTHLY_CAP,
            "monthly cap of 900 reached (900 calls this month, America/New_York)",
        ),
    ],
)
def test_each_skip_reason_names_the_target_and_why(overrides, live, caller, reason, detail):
    decision = decide(target(1, **overrides), target(2), live={1: live}, caller=caller)
    assert ids(decision) == [2]
    (skip,) = decision.skipped
    assert (skip.target_id, skip.reason, skip.detail) == (1, reason, detail)


def test_closed_target_says_its_local_time_and_next_opening():
    chicago = target(1, timezone="America/Chicago", hours={"mon": [["08:00", "17:00"]]})
    sunday_2am_chicago = dt.datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    decision = decide(chicago, at=sunday_2am_chicago)
    assert decision.destinations == ()
    (skip,) = decision.skipped
    assert skip.reason == SkipReason.CLOSED
    assert skip.detail == "closed Sun 02:00 America/Chicago (opens Mon 08:00)"


def test_closed_detail_later_the_same_day_and_never():
    split = target(1, hours={"mon": [["08:00", "09:00"], ["13:00", "17:00"]]})
    assert decide(split).skipped[0].detail == (
        "closed Mon 10:00 America/New_York (opens Mon 13:00)"
    )
    never = target(1, hours={"sat": []})
    assert decide(never).skipped[0].detail == (
        "closed Mon 10:00 America/New_York (no opening hours)"
    )


def test_caps_below_their_count_and_unset_caps_let_the_call_through():
    capped = target(1, concurrency_cap=3, hourly_cap=10, daily_cap=50, monthly_cap=900)
    live = {1: TargetLive(in_progress=2, hour_count=9, day_count=49, month_count=899)}
    assert ids(decide(capped, live=live)) == [1]
    assert ids(decide(target(1), live={1: TargetLive(in_progress=10**6)})) == [1]


def test_the_first_reason_is_the_most_lasting():
    everything_wrong = target(1, active=False, destination="", hours={"sat": []}, hourly_cap=0)
    assert decide(everything_wrong).skipped[0].reason == SkipReason.INACTIVE


@pytest.mark.parametrize(
    ("allow", "deny", "caller", "passes"),
    [
        ({"US"}, set(), Caller(country="US", region="US-TX"), True),  # a country admits its regions
        ({"US-CA"}, set(), Caller(country="US"), False),  # region unknown: not known to be CA
        ({"US-CA"}, set(), Caller(region="US-CA"), True),
        (set(), {"US-TX"}, Caller(), True),  # an unknown caller passes a deny list
        (set(), {"US"}, Caller(country="US", region="US-CA"), False),
        ({"US", "CA"}, {"US-TX"}, Caller(country="US", region="US-TX"), False),  # deny wins
    ],
)
def test_geo_lists(allow, deny, caller, passes):
    rule = target(1, geo_allow=frozenset(allow), geo_deny=frozenset(deny))
    assert ids(decide(rule, caller=caller)) == ([1] if passes else [])


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        decide(target(1), at=dt.datetime(2026, 11, 2, 10, 0))


# --- Order: tiers, failover, repeats, seeds ------------------------------------------------


def test_tiers_in_ascending_order_and_failover_skips_to_the_next_tier():
    targets = [target(3, tier=3), target(1, tier=1), target(2, tier=2), target(4, tier=2)]
    for seed in range(20):
        order = ids(decide(*targets, seed=seed))
        assert order[0] == 1 and order[3] == 3 and set(order[1:3]) == {2, 4}
    tier_one_closed = dataclasses.replace(targets[1], hours={"sat": []})
    order = ids(decide(*targets[:1], tier_one_closed, *targets[2:], seed=7))
    assert order[-1] == 3 and set(order[:2]) == {2, 4}


def test_same_seed_same_order_and_seeds_differ():
    targets = [target(i, weight=i) for i in range(1, 9)]
    orders = {tuple(ids(decide(*targets, seed=seed))) for seed in range(30)}
    assert ids(decide(*targets, seed=42)) == ids(decide(*targets, seed=42))
    assert len(orders) > 20


def test_repeat_caller_goes_back_to_the_first_buyer_then_the_usual_order():
    targets = [target(1, tier=1, weight=1000), target(2, tier=1), target(3, tier=2)]
    usual = ids(decide(*targets, seed=3))
    decision = decide(*targets, seed=3, first_buyer_target_id=3)
    assert ids(decision) == [3, *[i for i in usual if i != 3]]
    assert decision.repeat_of_target_id == 3


def test_repeat_is_routed_as_usual_when_the_plan_says_no_or_the_buyer_cannot_take_it():
    targets = [target(1), target(2, tier=2, hours={"sat": []})]
    closed_first = decide(*targets, seed=1, first_buyer_target_id=2)
    assert ids(closed_first) == [1] and closed_first.repeat_of_target_id is None
    not_in_plan = decide(*targets, seed=1, first_buyer_target_id=99)
    assert not_in_plan.repeat_of_target_id is None
    open_targets = [target(1), target(2, tier=2)]
    off = route_decide(
        plan(*open_targets, repeat=False), {}, Caller(), MONDAY_MORNING, first_buyer_target_id=2
    )
    assert ids(off) == [1, 2] and off.repeat_of_target_id is None


# --- Weights ------------------------------------------------------------------------------


class TicketRng(random.Random):
    """Draws the tickets it is given, to count a weighted draw's outcomes exactly."""

    def __init__(self, tickets):
        super().__init__(0)
        self.tickets = list(tickets)

    def randrange(self, stop):  # type: ignore[override]
        ticket = self.tickets.pop(0)
        assert 0 <= ticket < stop
        return ticket


def test_weighted_draw_gives_each_target_tickets_in_proportion_to_its_weight():
    a, b, c = target(1, weight=1), target(2, weight=3), target(3, weight=6)
    first = collections.Counter(
        weighted_order([a, b, c], TicketRng([ticket, 0, 0]))[0].target_id for ticket in range(10)
    )
    assert first == {1: 1, 2: 3, 3: 6}
    # Without replacement: once c is drawn, the next draw is among a and b (4 tickets).
    second = collections.Counter(
        weighted_order([a, b, c], TicketRng([9, ticket, 0]))[1].target_id for ticket in range(4)
    )
    assert second == {1: 1, 2: 3}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1000), min_size=2, max_size=5))
def test_first_pick_frequency_is_proportional_to_weight(weights):
    targets = [target(i, weight=w) for i, w in enumerate(weights, start=1)]
    draws = 3000
    firsts = collections.Counter(ids(decide(*targets, seed=seed))[0] for seed in range(draws))
    total = sum(weights)
    for i, w in enumerate(weights, start=1):
        p = w / total
        tolerance = 5 * (p * (1 - p) / draws) ** 0.5 + 1 / draws
        assert abs(firsts[i] / draws - p) <= tolerance, (weights, i, firsts)


def test_second_pick_is_drawn_among_the_targets_left():
    targets = [target(1, weight=6), target(2, weight=3), target(3, weight=1)]
    draws = 20_000
    after_one = collections.Counter()
    for seed in range(draws):
        order = ids(decide(*targets, seed=seed))
        if order[0] == 1:
            after_one[order[1]] += 1
    n = sum(after_one.values())
    assert abs(after_one[2] / n - 0.75) < 0.02  # 3 / (3 + 1)


def test_only_eligible_targets_share_the_draw():
    targets = [target(1, weight=1), target(2, weight=1), target(3, weight=8, hours={"sat": []})]
    firsts = collections.Counter(ids(decide(*targets, seed=s))[0] for s in range(4000))
    assert set(firsts) == {1, 2} and abs(firsts[1] / 4000 - 0.5) < 0.04


# --- Caps are never exceeded when the first destination is taken ---------------------------


class InMemoryLive:
    """A LiveState for one process: slots and counts per target, the periods in the target's
    own zone, acquire refusing what is full (as routing.live_state does atomically)."""

    def __init__(self):
        self.slots: dict[int, set[str]] = collections.defaultdict(set)
        self.counts: collections.Counter = collections.Counter()

    @staticmethod
    def periods(rule: TargetRule, at: dt.datetime) -> dict[str, str]:
        local = at.astimezone(zoneinfo.ZoneInfo(rule.timezone))
        return {
            "hour": local.strftime("%Y-%m-%d %H %Z"),
            "day": local.strftime("%Y-%m-%d"),
            "month": local.strftime("%Y-%m"),
        }

    def snapshot(self, targets, at):
        result = {}
        for rule in targets:
            keys = self.periods(rule, at)
            result[rule.target_id] = TargetLive(
                in_progress=len(self.slots[rule.target_id]),
                hour_count=self.counts[(rule.target_id, keys["hour"])],
                day_count=self.counts[(rule.target_id, keys["day"])],
                month_count=self.counts[(rule.target_id, keys["month"])],
            )
        return result

    def acquire(self, rule, call_sid, at) -> bool:
        live = self.snapshot([rule], at)[rule.target_id]
        full = [
            (rule.concurrency_cap, live.in_progress),
            (rule.hourly_cap, live.hour_count),
            (rule.daily_cap, live.day_count),
            (rule.monthly_cap, live.month_count),
        ]
        if any(cap is not None and count >= cap for cap, count in full):
            return False
        self.slots[rule.target_id].add(call_sid)
        for key in self.periods(rule, at).values():
            self.counts[(rule.target_id, key)] += 1
        return True

    def release(self, target_id, call_sid):
        self.slots[target_id].discard(call_sid)


cap = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


@settings(max_examples=60, deadline=None)
@given(
    caps=st.lists(st.tuples(cap, cap, cap, cap), min_size=1, max_size=4),
    zones=st.lists(
        st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "UTC"]),
        min_size=4,
        max_size=4,
    ),
    calls=st.lists(
        st.tuples(st.integers(0, 60 * 24 * 40), st.integers(1, 90)), min_size=1, max_size=150
    ),
    seed=st.integers(0, 2**32),
)
def test_routing_to_the_first_destination_never_exceeds_a_cap_or_a_slot(caps, zones, calls, seed):
    targets = [
        target(i, timezone=zones[i], concurrency_cap=c, hourly_cap=h, daily_cap=d, monthly_cap=m)
        for i, (c, h, d, m) in enumerate(caps)
    ]
    rules = plan(*targets)
    state = InMemoryLive()
    start = dt.datetime(2026, 2, 20, tzinfo=UTC)  # 40 days over March's DST changes
    ends: list[tuple[dt.datetime, int, str]] = []
    for number, (minute, duration) in enumerate(sorted(calls)):
        at = start + dt.timedelta(minutes=minute)
        for end in [e for e in ends if e[0] <= at]:
            state.release(end[1], end[2])
            ends.remove(end)
        decision = route_decide(
            rules, state.snapshot(targets, at), Caller(), at, seed=seed + number
        )
        if decision.destinations:
            first = decision.destinations[0]
            # The decision only offers targets with room, so taking one always succeeds.
            assert state.acquire(first, f"CA{number}", at)
            ends.append((at + dt.timedelta(minutes=duration), first.target_id, f"CA{number}"))
        for rule in targets:
            live = state.snapshot([rule], at)[rule.target_id]
            for limit, count in (
                (rule.concurrency_cap, live.in_progress),
                (rule.hourly_cap, live.hour_count),
                (rule.daily_cap, live.day_count),
                (rule.monthly_cap, live.month_count),
            ):
                assert limit is None or count <= limit


# --- Hours across time zones and DST changes -------------------------------------------------

ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
    zone=st.sampled_from(ZONES),
)
def test_a_nine_to_five_target_is_open_by_its_own_clock(at, zone):
    local = at.astimezone(zoneinfo.ZoneInfo(zone))
    expected = local.weekday() < 5 and 9 <= local.hour < 17
    decision = decide(target(1, timezone=zone, hours=NINE_TO_FIVE), at=at)
    assert ids(decision) == ([1] if expected else [])


def open_minutes(rule: TargetRule, start: dt.datetime, hours: int) -> int:
    """Real minutes the target is offered in, walking UTC minute by minute."""
    return sum(
        bool(decide(rule, at=start + dt.timedelta(minutes=m)).destinations)
        for m in range(hours * 60)
    )


@pytest.mark.parametrize(
    ("zone", "transition_sunday", "utc_day_start", "real_hours"),
    [
        # 00:00-04:00 on the night the clocks change: 3 real hours in spring, 5 in autumn.
        ("America/New_York", "2026-03-08", dt.datetime(2026, 3, 8, 5, tzinfo=UTC), 3),
        ("America/New_York", "2026-11-01", dt.datetime(2026, 11, 1, 4, tzinfo=UTC), 5),
        ("Europe/London", "2026-03-29", dt.datetime(2026, 3, 29, 0, tzinfo=UTC), 3),
        ("Europe/London", "2026-10-25", dt.datetime(2026, 10, 24, 23, tzinfo=UTC), 5),
        ("Australia/Sydney", "2026-10-04", dt.datetime(2026, 10, 3, 14, tzinfo=UTC), 3),
        ("Australia/Sydney", "2026-04-05", dt.datetime(2026, 4, 4, 13, tzinfo=UTC), 5),
    ],
)
def test_a_night_window_over_a_dst_change_is_open_for_the_real_hours(
    zone, transition_sunday, utc_day_start, real_hours
):
    night = target(1, timezone=zone, hours={"sun": [["00:00", "04:00"]]})
    # utc_day_start is local midnight of that Sunday; the window is the night's first 4 hours.
    assert utc_day_start.astimezone(zoneinfo.ZoneInfo(zone)).isoformat()[:10] == transition_sunday
    assert open_minutes(night, utc_day_start - dt.timedelta(hours=1), 8) == real_hours * 60


@pytest.mark.parametrize(
    ("zone", "spring_sunday"),
    [("America/New_York", dt.date(2026, 3, 8)), ("Europe/London", dt.date(2026, 3, 29))],
)
def test_a_window_inside_the_spring_forward_gap_never_opens(zone, spring_sunday):
    gap = {"America/New_York": ["02:00", "03:00"], "Europe/London": ["01:00", "02:00"]}[zone]
    rule = target(1, timezone=zone, hours={"sun": [gap]})
    day_start = dt.datetime.combine(spring_sunday, dt.time(), UTC) - dt.timedelta(hours=6)
    assert open_minutes(rule, day_start, 36) == 0


@pytest.mark.parametrize("zone", ZONES)
def test_a_nine_to_five_week_is_forty_real_hours_even_in_dst_weeks(zone):
    rule = target(1, timezone=zone, hours=NINE_TO_FIVE)
    for monday in (dt.date(2026, 3, 2), dt.date(2026, 3, 30), dt.date(2026, 10, 26)):
        local_monday = dt.datetime.combine(monday, dt.time(), zoneinfo.ZoneInfo(zone))
        start = local_monday.astimezone(UTC)
        week = sum(
            bool(decide(rule, at=start + dt.timedelta(minutes=15 * q)).destinations)
            for q in range(7 * 24 * 4 + 8)
        )
        assert week == 40 * 4
