"""The demo tenant: its campaigns, publishers and buyers, and the calls they make.

Pure generation, no database access: `seed_demo` creates the objects described by the specs
below, then writes the calls `demo_calls_generate` yields for their ids. Every random draw
comes from the `random.Random` passed in, so a seed gives the same data for the same end time
(the calls are placed relative to `end`, the moment of seeding).

The story the data tells (the dashboard should find each of these):
- Apex Health Leads is the star publisher: long calls, conversion well over 20%.
- ClickSurge Media should be cut: plenty of volume, ~2-3% conversion, short calls, many
  repeat callers, and one hour in which it dumped a burst of calls (a velocity spike).
- Harbor Digital started a week ago and has too few calls to judge.
- Lexington Call Co. sends long injury calls that rarely convert (RPM under the floor).
- HVAC Repair leaks calls in the evening: from 18:00 to 21:00 its buyers are closed or
  short-staffed, so calls go unanswered.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zoneinfo
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from calls.models import CallSource, CallStatus
from routing.business_hours import WEEKDAYS, is_open

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class CampaignSpec:
    key: str
    name: str
    vertical: str
    qualifying_seconds: int
    payout: Decimal
    rpm_floor: Decimal | None
    # What buyers pay for: every qualified call, or only converted calls.
    revenue_per: Literal["qualified", "conversion"]
    median_talk_seconds: float
    # Calls longer than this convert far more often; the threshold finder should find it.
    converting_seconds: int
    ad_spend_per_call: Decimal


@dataclass(frozen=True)
class BuyerSpec:
    campaign: str
    name: str
    phone_number: str
    timezone: str
    business_hours: Mapping[str, list[list[str]]]
    bid: Decimal
    # Share of the calls among the buyers open at the time.
    weight: float
    miss_rate: float
    # Miss rate from 18:00 in the buyer's own time zone (a thin evening shift), if different.
    evening_miss_rate: float | None = None


@dataclass(frozen=True)
class PublisherSpec:
    key: str
    name: str
    campaigns: tuple[str, ...]
    # Share of the calls; ignored for a publisher with `fixed_calls`.
    weight: float
    # Multiplies the campaign's median talk time.
    talk_factor: float
    # Likelihood that a long answered call converts.
    close_rate: float
    repeat_rate: float
    # Share of answered calls that hang up within seconds.
    short_call_rate: float
    abandon_rate: float
    fixed_calls: int | None = None
    # Only sends calls in the last `recent_days` days (a publisher that just started).
    recent_days: int | None = None


def _hours(days: str, opens: str, closes: str) -> dict[str, list[list[str]]]:
    """Business hours for a day range like "mon-fri" or a single day like "sat"."""
    first, _, last = days.partition("-")
    start = WEEKDAYS.index(first)
    stop = WEEKDAYS.index(last or first)
    return {day: [[opens, closes]] for day in WEEKDAYS[start : stop + 1]}


AROUND_THE_CLOCK: dict[str, list[list[str]]] = {}
OVERNIGHT = {day: [["00:00", "07:00"], ["21:00", "24:00"]] for day in WEEKDAYS}

CAMPAIGNS: tuple[CampaignSpec, ...] = (
    CampaignSpec(
        key="auto",
        name="Auto Insurance Quotes",
        vertical="insurance",
        qualifying_seconds=90,
        payout=Decimal("18.00"),
        rpm_floor=None,
        revenue_per="qualified",
        median_talk_seconds=160,
        converting_seconds=90,
        ad_spend_per_call=Decimal("3.50"),
    ),
    CampaignSpec(
        key="medicare",
        name="Medicare Advantage",
        vertical="insurance",
        qualifying_seconds=120,
        payout=Decimal("32.00"),
        rpm_floor=Decimal("3.00"),
        revenue_per="qualified",
        median_talk_seconds=210,
        converting_seconds=150,
        ad_spend_per_call=Decimal("5.00"),
    ),
    CampaignSpec(
        key="injury",
        name="Personal Injury Intake",
        vertical="legal",
        qualifying_seconds=120,
        payout=Decimal("55.00"),
        rpm_floor=Decimal("9.00"),
        revenue_per="conversion",
        median_talk_seconds=230,
        converting_seconds=180,
        ad_spend_per_call=Decimal("9.00"),
    ),
    CampaignSpec(
        key="hvac",
        name="HVAC Repair",
        vertical="home_services",
        qualifying_seconds=60,
        payout=Decimal("12.00"),
        rpm_floor=None,
        revenue_per="qualified",
        median_talk_seconds=110,
        converting_seconds=60,
        ad_spend_per_call=Decimal("2.50"),
    ),
    CampaignSpec(
        key="plumbing",
        name="Emergency Plumbing",
        vertical="home_services",
        qualifying_seconds=75,
        payout=Decimal("9.00"),
        rpm_floor=Decimal("1.50"),
        revenue_per="conversion",
        median_talk_seconds=100,
        converting_seconds=75,
        ad_spend_per_call=Decimal("2.00"),
    ),
    CampaignSpec(
        key="debt",
        name="Debt Relief",
        vertical="other",
        qualifying_seconds=90,
        payout=Decimal("20.00"),
        rpm_floor=Decimal("1.50"),
        revenue_per="conversion",
        median_talk_seconds=170,
        converting_seconds=120,
        ad_spend_per_call=Decimal("4.00"),
    ),
)

# The campaign whose evening calls go unanswered.
EVENING_LEAK_CAMPAIGN = "hvac"

# Follow-up rules: every campaign's missed callers are called back 5 minutes after the call;
# the high-value injury leads also when they did not convert within an hour. Calls without a
# buyer are called back in office hours.
FOLLOWUP_MISSED_DELAY_MINUTES = 5
FOLLOWUP_NOT_CONVERTED_CAMPAIGNS = frozenset({"injury"})
FOLLOWUP_NOT_CONVERTED_MINUTES = 60
FOLLOWUP_FALLBACK_HOURS = _hours("mon-fri", "09:00", "18:00") | _hours("sat", "10:00", "14:00")

BUYERS: tuple[BuyerSpec, ...] = (
    BuyerSpec(
        campaign="auto",
        name="SafeRoute Insurance Agency",
        phone_number="+13125550101",
        timezone="America/Chicago",
        business_hours=_hours("mon-fri", "07:00", "19:00") | _hours("sat", "08:00", "14:00"),
        bid=Decimal("38.00"),
        weight=3,
        miss_rate=0.01,
    ),
    BuyerSpec(
        campaign="auto",
        name="Pacific Shield Brokers",
        phone_number="+12135550102",
        timezone="America/Los_Angeles",
        business_hours=_hours("mon-fri", "06:00", "18:00") | _hours("sat-sun", "07:00", "15:00"),
        bid=Decimal("35.00"),
        weight=2,
        miss_rate=0.02,
    ),
    BuyerSpec(
        campaign="auto",
        name="Evergreen Overflow Center",
        phone_number="+12065550103",
        timezone="America/New_York",
        business_hours=AROUND_THE_CLOCK,
        bid=Decimal("30.00"),
        weight=1,
        miss_rate=0.025,
    ),
    BuyerSpec(
        campaign="medicare",
        name="Silver Years Health Advisors",
        phone_number="+13055550104",
        timezone="America/New_York",
        business_hours=_hours("mon-fri", "08:00", "20:00") | _hours("sat", "09:00", "17:00"),
        bid=Decimal("58.00"),
        weight=3,
        miss_rate=0.01,
    ),
    BuyerSpec(
        campaign="medicare",
        name="Heartland Benefits Group",
        phone_number="+13165550105",
        timezone="America/Chicago",
        business_hours=_hours("mon-fri", "07:00", "19:00"),
        bid=Decimal("62.00"),
        weight=2,
        miss_rate=0.015,
    ),
    BuyerSpec(
        campaign="medicare",
        name="Sunbelt Senior Plans",
        phone_number="+16025550106",
        timezone="America/Phoenix",
        business_hours=AROUND_THE_CLOCK,
        bid=Decimal("50.00"),
        weight=1,
        miss_rate=0.025,
    ),
    BuyerSpec(
        campaign="injury",
        name="Castillo & Grant Law Intake",
        phone_number="+17185550107",
        timezone="America/New_York",
        business_hours=AROUND_THE_CLOCK,
        bid=Decimal("900.00"),
        weight=2,
        miss_rate=0.015,
    ),
    BuyerSpec(
        campaign="injury",
        name="Lakeshore Injury Lawyers",
        phone_number="+17735550108",
        timezone="America/Chicago",
        business_hours=_hours("mon-sun", "07:00", "22:00"),
        bid=Decimal("850.00"),
        weight=2,
        miss_rate=0.01,
    ),
    BuyerSpec(
        campaign="injury",
        name="Golden State Accident Attorneys",
        phone_number="+14155550109",
        timezone="America/Los_Angeles",
        business_hours=_hours("mon-fri", "08:00", "18:00"),
        bid=Decimal("1000.00"),
        weight=1,
        miss_rate=0.02,
    ),
    BuyerSpec(
        campaign="hvac",
        name="CoolAir Home Services",
        phone_number="+14045550110",
        timezone="America/New_York",
        business_hours=_hours("mon-fri", "08:00", "18:30") | _hours("sat", "09:00", "13:00"),
        bid=Decimal("24.00"),
        weight=3,
        miss_rate=0.02,
        evening_miss_rate=0.55,
    ),
    BuyerSpec(
        campaign="hvac",
        name="Lone Star Heating & Air",
        phone_number="+12145550111",
        timezone="America/Chicago",
        business_hours=_hours("mon-sat", "07:00", "17:00") | _hours("sun", "09:00", "15:00"),
        bid=Decimal("22.00"),
        weight=2,
        miss_rate=0.025,
    ),
    BuyerSpec(
        campaign="hvac",
        name="Night Owl Answering",
        phone_number="+16175550112",
        timezone="America/New_York",
        business_hours=OVERNIGHT,
        bid=Decimal("18.00"),
        weight=1,
        miss_rate=0.04,
    ),
    BuyerSpec(
        campaign="plumbing",
        name="RapidFlow Plumbing",
        phone_number="+12015550113",
        timezone="America/New_York",
        business_hours=AROUND_THE_CLOCK,
        bid=Decimal("95.00"),
        weight=2,
        miss_rate=0.02,
    ),
    BuyerSpec(
        campaign="plumbing",
        name="Metro Drain Pros",
        phone_number="+13145550114",
        timezone="America/Chicago",
        business_hours=_hours("mon-sat", "06:00", "20:00"),
        bid=Decimal("90.00"),
        weight=2,
        miss_rate=0.01,
    ),
    BuyerSpec(
        campaign="plumbing",
        name="Bay Area Rooter",
        phone_number="+15105550115",
        timezone="America/Los_Angeles",
        business_hours=_hours("mon-fri", "07:00", "19:00"),
        bid=Decimal("110.00"),
        weight=1,
        miss_rate=0.015,
    ),
    BuyerSpec(
        campaign="debt",
        name="ClearPath Debt Solutions",
        phone_number="+14695550116",
        timezone="America/Chicago",
        business_hours=_hours("mon-fri", "08:00", "20:00") | _hours("sat", "09:00", "14:00"),
        bid=Decimal("320.00"),
        weight=3,
        miss_rate=0.01,
    ),
    BuyerSpec(
        campaign="debt",
        name="Bluebird Credit Counseling",
        phone_number="+13035550117",
        timezone="America/Denver",
        business_hours=_hours("mon-fri", "07:00", "17:00"),
        bid=Decimal("300.00"),
        weight=2,
        miss_rate=0.015,
    ),
    BuyerSpec(
        campaign="debt",
        name="Anytime Debt Help Line",
        phone_number="+19175550118",
        timezone="America/New_York",
        business_hours=AROUND_THE_CLOCK,
        bid=Decimal("260.00"),
        weight=1,
        miss_rate=0.025,
    ),
)

STAR_PUBLISHER = "apex"
CUT_PUBLISHER = "clicksurge"
TINY_PUBLISHER = "harbor"

PUBLISHERS: tuple[PublisherSpec, ...] = (
    PublisherSpec(
        key="apex",
        name="Apex Health Leads",
        campaigns=("medicare", "auto"),
        weight=9,
        talk_factor=1.7,
        close_rate=0.34,
        repeat_rate=0.03,
        short_call_rate=0.02,
        abandon_rate=0.008,
    ),
    PublisherSpec(
        key="clicksurge",
        name="ClickSurge Media",
        campaigns=("auto", "debt"),
        weight=16,
        talk_factor=0.4,
        close_rate=0.13,
        repeat_rate=0.32,
        short_call_rate=0.22,
        abandon_rate=0.035,
    ),
    PublisherSpec(
        key="harbor",
        name="Harbor Digital",
        campaigns=("injury",),
        weight=0,
        talk_factor=1.0,
        close_rate=0.25,
        repeat_rate=0.03,
        short_call_rate=0.05,
        abandon_rate=0.015,
        fixed_calls=18,
        recent_days=7,
    ),
    PublisherSpec(
        key="blueline",
        name="BlueLine Marketing",
        campaigns=("auto", "hvac"),
        weight=11,
        talk_factor=1.1,
        close_rate=0.24,
        repeat_rate=0.06,
        short_call_rate=0.05,
        abandon_rate=0.012,
    ),
    PublisherSpec(
        key="summit",
        name="Summit Call Partners",
        campaigns=("injury",),
        weight=7,
        talk_factor=1.15,
        close_rate=0.22,
        repeat_rate=0.05,
        short_call_rate=0.05,
        abandon_rate=0.012,
    ),
    PublisherSpec(
        key="homepro",
        name="HomePro Leads",
        campaigns=("hvac", "plumbing"),
        weight=13,
        talk_factor=1.05,
        close_rate=0.26,
        repeat_rate=0.07,
        short_call_rate=0.06,
        abandon_rate=0.012,
    ),
    PublisherSpec(
        key="keystone",
        name="Keystone Performance",
        campaigns=("medicare",),
        weight=8,
        talk_factor=0.95,
        close_rate=0.2,
        repeat_rate=0.05,
        short_call_rate=0.06,
        abandon_rate=0.012,
    ),
    PublisherSpec(
        key="brightpath",
        name="Brightpath Media",
        campaigns=("debt", "plumbing"),
        weight=9,
        talk_factor=0.9,
        close_rate=0.18,
        repeat_rate=0.08,
        short_call_rate=0.08,
        abandon_rate=0.015,
    ),
    PublisherSpec(
        key="lexington",
        name="Lexington Call Co.",
        campaigns=("injury",),
        weight=6,
        talk_factor=1.45,
        close_rate=0.085,
        repeat_rate=0.05,
        short_call_rate=0.04,
        abandon_rate=0.012,
    ),
    PublisherSpec(
        key="northwind",
        name="Northwind Ads",
        campaigns=("hvac", "auto"),
        weight=9,
        talk_factor=0.75,
        close_rate=0.16,
        repeat_rate=0.1,
        short_call_rate=0.12,
        abandon_rate=0.015,
    ),
)

# Relative call volume by local hour: a late-morning and an early-evening peak, quiet nights.
WEEKDAY_HOURLY = (
    0.12, 0.08, 0.06, 0.05, 0.06, 0.12, 0.30, 0.65, 1.10, 1.55, 1.90, 2.00,
    1.75, 1.55, 1.50, 1.45, 1.50, 1.65, 1.80, 1.70, 1.35, 0.90, 0.50, 0.25,
)  # fmt: skip
WEEKEND_HOURLY = (
    0.15, 0.10, 0.07, 0.06, 0.05, 0.08, 0.15, 0.30, 0.60, 0.95, 1.25, 1.40,
    1.40, 1.30, 1.20, 1.15, 1.20, 1.30, 1.40, 1.35, 1.10, 0.80, 0.45, 0.25,
)  # fmt: skip
# Monday .. Sunday.
DAY_FACTOR = (1.08, 1.05, 1.0, 1.0, 0.92, 0.6, 0.48)

FAILED_RATE = 0.004
TALK_SIGMA = 0.85
# The ClickSurge burst: this share of all calls, in one hour this many days ago.
SPIKE_SHARE = 0.002
SPIKE_MIN_CALLS = 12
SPIKE_DAYS_AGO = 10
SPIKE_LOCAL_HOUR = 14
# A caller number may call again within about this many of the publisher's recent callers.
REPEAT_POOL_SIZE = 300

# State, relative population, and some of its area codes.
STATES: tuple[tuple[str, float, tuple[int, ...]], ...] = (
    ("CA", 39.0, (213, 310, 415, 619, 714, 818, 909, 916)),
    ("TX", 30.0, (214, 281, 512, 713, 817, 915, 972)),
    ("FL", 22.0, (305, 407, 561, 727, 813, 904, 954)),
    ("NY", 20.0, (212, 315, 516, 585, 718, 917)),
    ("PA", 13.0, (215, 412, 610, 717)),
    ("IL", 12.5, (217, 312, 630, 708, 773, 847)),
    ("OH", 11.8, (216, 330, 513, 614, 937)),
    ("GA", 11.0, (404, 470, 678, 706, 770)),
    ("NC", 10.7, (252, 336, 704, 910, 919)),
    ("MI", 10.0, (248, 313, 517, 616, 734)),
    ("NJ", 9.3, (201, 609, 732, 856, 973)),
    ("VA", 8.6, (540, 571, 703, 757, 804)),
    ("WA", 7.8, (206, 253, 360, 425, 509)),
    ("AZ", 7.4, (480, 520, 602, 623, 928)),
    ("TN", 7.0, (423, 615, 731, 865, 901)),
    ("MA", 7.0, (413, 508, 617, 781, 978)),
    ("IN", 6.8, (219, 260, 317, 765, 812)),
    ("MO", 6.2, (314, 417, 573, 636, 816)),
    ("MD", 6.2, (240, 301, 410, 443)),
    ("WI", 5.9, (262, 414, 608, 715, 920)),
    ("CO", 5.8, (303, 719, 720, 970)),
    ("MN", 5.7, (218, 507, 612, 651, 763)),
    ("SC", 5.3, (803, 843, 864)),
    ("AL", 5.1, (205, 251, 256, 334)),
    ("LA", 4.6, (225, 318, 337, 504)),
    ("KY", 4.5, (270, 502, 606, 859)),
    ("OR", 4.2, (503, 541, 971)),
    ("OK", 4.0, (405, 539, 918)),
    ("NV", 3.2, (702, 775)),
)
TOLL_FREE_PREFIXES = (800, 833, 844, 855, 866, 877, 888)


@dataclass(frozen=True)
class DemoIds:
    """Database ids of the created demo objects, by spec key (buyers by name)."""

    campaigns: Mapping[str, int]
    publishers: Mapping[str, int]
    buyers: Mapping[str, int]
    # (campaign key, publisher key) -> (tracking number id, number)
    tracking_numbers: Mapping[tuple[str, str], tuple[int, str]]


def demo_tracking_numbers(rng: random.Random) -> dict[tuple[str, str], str]:
    """One toll-free E.164 number per campaign x publisher the publisher sends to."""
    numbers: dict[tuple[str, str], str] = {}
    for publisher in PUBLISHERS:
        for campaign in publisher.campaigns:
            number = ""
            while not number or number in numbers.values():
                number = (
                    f"+1{rng.choice(TOLL_FREE_PREFIXES)}"
                    f"{rng.randrange(200, 1000)}{rng.randrange(10000):04d}"
                )
            numbers[campaign, publisher.key] = number
    return numbers


def _caller_number(rng: random.Random, state_cum: Sequence[float]) -> tuple[str, str]:
    """A plausible US caller number in E.164 and its state."""
    state, _, area_codes = rng.choices(STATES, cum_weights=state_cum)[0]
    exchange = rng.randrange(200, 1000)
    # N11 exchanges are service codes and 555 is mostly fictional.
    while exchange % 100 == 11 or exchange == 555:
        exchange = rng.randrange(200, 1000)
    return f"+1{rng.choice(area_codes)}{exchange}{rng.randrange(10000):04d}", state


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    cumulative = []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


@dataclass(frozen=True)
class _Window:
    """The last `days` days up to `end`, and how local days and clock times map into it."""

    end: dt.datetime
    days: int
    tz: zoneinfo.ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return self.end - dt.timedelta(days=self.days)

    @property
    def today(self) -> dt.date:
        return self.end.astimezone(self.tz).date()

    def place(self, offset: int, second_of_day: int) -> dt.datetime:
        """The aware time `offset` local days before today at this local second of the day."""
        clock = dt.time(second_of_day // 3600, second_of_day // 60 % 60, second_of_day % 60)
        started = self._at(offset, clock)
        if started > self.end:
            # Later today than now: the same clock time on the window's first, partial day,
            # so that today and that day together make one whole day of the arrival curve.
            started = self._at(self.days, clock)
        # A DST change inside the window moves its local edges by an hour.
        if started < self.start:
            started += dt.timedelta(days=1)
        return min(started, self.end)

    def _at(self, offset: int, clock: dt.time) -> dt.datetime:
        day = self.today - dt.timedelta(days=offset)
        return dt.datetime.combine(day, clock, tzinfo=self.tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class _Slot:
    started_at: dt.datetime
    sequence: int
    publisher: PublisherSpec
    campaign: CampaignSpec
    spike: bool


def _arrival_cells(rng: random.Random, window: _Window) -> list[float]:
    """Cumulative weights of the window's local hours, today's hour 0 first, going back.

    Weekday pattern x hour-of-day curve x a gentle growth trend x day-to-day noise.
    """
    weights: list[float] = []
    for offset in range(window.days):
        weekday = (window.today - dt.timedelta(days=offset)).weekday()
        trend = 0.8 + 0.4 * (1 - offset / window.days)
        day_weight = DAY_FACTOR[weekday] * trend * rng.uniform(0.85, 1.15)
        hourly = WEEKEND_HOURLY if weekday >= 5 else WEEKDAY_HOURLY
        weights.extend(day_weight * share for share in hourly)
    return _cumulative(weights)


def _slots(rng: random.Random, window: _Window, calls: int) -> list[_Slot]:
    """Who sends each call to which campaign, and when; oldest first."""
    cells_cum = _arrival_cells(rng, window)
    campaigns = {campaign.key: campaign for campaign in CAMPAIGNS}
    slots: list[_Slot] = []

    def add(publisher: PublisherSpec, count: int, *, spike: bool = False) -> None:
        if spike:
            offset = min(SPIKE_DAYS_AGO, window.days - 1)
            times = [
                window.place(offset, SPIKE_LOCAL_HOUR * 3600 + rng.randrange(3600))
                for _ in range(count)
            ]
        else:
            # The first recent_days * 24 cells are the publisher's recent days.
            cells = len(cells_cum)
            if publisher.recent_days is not None:
                cells = min(publisher.recent_days, window.days) * 24
            chosen = rng.choices(range(cells), cum_weights=cells_cum[:cells], k=count)
            times = [
                window.place(cell // 24, cell % 24 * 3600 + rng.randrange(3600)) for cell in chosen
            ]
        for started_at in times:
            campaign = campaigns[rng.choice(publisher.campaigns)]
            slots.append(_Slot(started_at, len(slots), publisher, campaign, spike))

    remaining = calls
    for publisher in PUBLISHERS:
        if publisher.fixed_calls is not None:
            count = min(publisher.fixed_calls, remaining)
            add(publisher, count)
            remaining -= count
    by_key = {publisher.key: publisher for publisher in PUBLISHERS}
    if calls >= 1000 and window.days > 1:
        spike_calls = max(SPIKE_MIN_CALLS, round(calls * SPIKE_SHARE))
        add(by_key[CUT_PUBLISHER], spike_calls, spike=True)
        remaining -= spike_calls
    weighted = [publisher for publisher in PUBLISHERS if publisher.fixed_calls is None]
    chosen = rng.choices(weighted, weights=[p.weight for p in weighted], k=max(remaining, 0))
    for key, count in sorted(Counter(publisher.key for publisher in chosen).items()):
        add(by_key[key], count)
    return sorted(slots, key=lambda slot: (slot.started_at, slot.sequence))


def demo_calls_generate(
    *,
    rng: random.Random,
    end: dt.datetime,
    days: int,
    calls: int,
    timezone: str,
    ids: DemoIds,
) -> Iterator[dict[str, Any]]:
    """Yield `calls` Call keyword dicts (without organization) started in [end - days, end].

    Oldest first, with external ids demo-000001, demo-000002, ... Arrivals follow the local
    hour curves of `timezone`; outcomes follow the buyers' business hours at the call time.
    """
    if end.tzinfo is None:
        raise ValueError("end must be an aware datetime")
    window = _Window(end=end.astimezone(dt.UTC), days=days, tz=zoneinfo.ZoneInfo(timezone))
    buyers_by_campaign: dict[str, list[BuyerSpec]] = {}
    for buyer in BUYERS:
        buyers_by_campaign.setdefault(buyer.campaign, []).append(buyer)
    state_cum = _cumulative(weight for _, weight, _ in STATES)
    recent_callers: dict[tuple[str, str], deque[tuple[str, str]]] = {}

    for number, slot in enumerate(_slots(rng, window, calls), start=1):
        publisher, campaign = slot.publisher, slot.campaign
        tracking_number_id, dialed_number = ids.tracking_numbers[campaign.key, publisher.key]

        pool = recent_callers.setdefault(
            (publisher.key, campaign.key), deque(maxlen=REPEAT_POOL_SIZE)
        )
        repeat = bool(pool) and rng.random() < (0.5 if slot.spike else publisher.repeat_rate)
        if repeat:
            caller_number, region = rng.choice(pool)
        else:
            caller_number, region = _caller_number(rng, state_cum)
            pool.append((caller_number, region))

        status, buyer = _route(rng, slot, buyers_by_campaign[campaign.key])
        duration = 0
        converted_at = None
        if status == CallStatus.ANSWERED:
            duration = _talk_seconds(rng, slot)
            if rng.random() < _conversion_chance(slot, duration, repeat=repeat):
                lag = duration + rng.lognormvariate(math.log(900), 1.2)
                converted_at = slot.started_at + dt.timedelta(seconds=round(lag))
                if converted_at > window.end:
                    # Not reported yet: conversions arrive after the call.
                    converted_at = None
        qualified = status == CallStatus.ANSWERED and duration >= campaign.qualifying_seconds
        pays = qualified if campaign.revenue_per == "qualified" else converted_at is not None

        yield {
            "external_id": f"demo-{number:06d}",
            "campaign_id": ids.campaigns[campaign.key],
            "publisher_id": ids.publishers[publisher.key],
            "buyer_id": ids.buyers[buyer.name] if buyer else None,
            "tracking_number_id": tracking_number_id,
            "dialed_number": dialed_number,
            "caller_number": caller_number,
            "caller_region": region,
            "started_at": slot.started_at,
            "duration_seconds": duration,
            "status": status,
            "converted": converted_at is not None,
            "converted_at": converted_at,
            "revenue": buyer.bid if buyer and pays else Decimal("0.00"),
            "cost": campaign.payout if qualified else Decimal("0.00"),
            "source": CallSource.DEMO,
        }


def _conversion_chance(slot: _Slot, duration: int, *, repeat: bool) -> float:
    """The publisher's close rate, climbing steeply past the campaign's converting length."""
    threshold = slot.campaign.converting_seconds
    climb = _sigmoid((duration - threshold) / (threshold * 0.2))
    return slot.publisher.close_rate * climb * (0.5 if repeat else 1.0)


def _route(
    rng: random.Random, slot: _Slot, buyers: Sequence[BuyerSpec]
) -> tuple[str, BuyerSpec | None]:
    """The call's status and the buyer it rang, given who is open at the call time."""
    if rng.random() < FAILED_RATE:
        return CallStatus.FAILED, None
    # Callers hang up in the IVR before any buyer rings.
    if rng.random() < slot.publisher.abandon_rate * (3 if slot.spike else 1):
        return CallStatus.ABANDONED, None
    open_buyers = [b for b in buyers if is_open(b.business_hours, b.timezone, slot.started_at)]
    if not open_buyers:
        return CallStatus.NO_BUYER, None
    buyer = rng.choices(open_buyers, weights=[b.weight for b in open_buyers])[0]
    miss_rate = buyer.miss_rate
    if (
        buyer.evening_miss_rate is not None
        and slot.started_at.astimezone(zoneinfo.ZoneInfo(buyer.timezone)).hour >= 18
    ):
        miss_rate = buyer.evening_miss_rate
    if rng.random() < miss_rate:
        return CallStatus.MISSED, buyer
    return CallStatus.ANSWERED, buyer


def _talk_seconds(rng: random.Random, slot: _Slot) -> int:
    """Log-normal talk time around the campaign median scaled by the publisher's quality."""
    short_call_rate = 0.8 if slot.spike else slot.publisher.short_call_rate
    if rng.random() < short_call_rate:
        return rng.randint(2, 19)
    median = slot.campaign.median_talk_seconds * slot.publisher.talk_factor
    return max(5, min(3600, round(rng.lognormvariate(math.log(median), TALK_SIGMA))))


def demo_ad_spend_generate(
    *,
    rng: random.Random,
    calls: Iterable[Mapping[str, Any]],
    timezone: str,
    campaign_ids: Mapping[str, int],
) -> Iterator[dict[str, Any]]:
    """AdSpend keyword dicts: per campaign and local day with calls, in step with its volume."""
    tz = zoneinfo.ZoneInfo(timezone)
    per_call = {campaign_ids[c.key]: c.ad_spend_per_call for c in CAMPAIGNS}
    volume = Counter(
        (call["campaign_id"], call["started_at"].astimezone(tz).date()) for call in calls
    )
    for (campaign_id, day), count in sorted(volume.items()):
        noise = Decimal(str(round(rng.uniform(0.85, 1.15), 3)))
        amount = (per_call[campaign_id] * count * noise).quantize(CENTS)
        yield {"campaign_id": campaign_id, "day": day, "amount": amount}
