"""200 calls decided and sent at once against real Redis: no cap or slot is ever exceeded."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from calls.live_routing import route_call
from routing.live_state import live_state_redis_client
from routing.models import RoutingPlan, RoutingPlanTarget
from routing.rules import Caller
from tests.factories import BuyerFactory, CampaignFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
AT = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
CALLS = 200
WORKERS = 20


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
@pytest.mark.django_db(transaction=True)
def test_200_parallel_route_decisions_never_exceed_a_cap_or_a_slot(org, settings):
    settings.REDIS_URL = REDIS_URL
    live_state_redis_client(REDIS_URL).flushdb()
    campaign = CampaignFactory(organization=org)
    caps = {
        "Slots": {"concurrency_cap": 7},
        "Hourly": {"hourly_cap": 30},
        "Daily": {"daily_cap": 40, "concurrency_cap": 100},
    }
    plan = RoutingPlan.objects.create(organization=org, campaign=campaign, version=1)
    buyers = {}
    for tier, (name, cap) in enumerate(caps.items(), start=1):
        buyers[name] = BuyerFactory(organization=org, name=name, **cap)
        RoutingPlanTarget.objects.create(organization=org, plan=plan, buyer=buyers[name], tier=tier)
    start = threading.Barrier(WORKERS)

    def one_call(index: int) -> str:
        try:
            if index < WORKERS:
                start.wait()
            result = route_call(
                organization=org,
                campaign=campaign,
                caller=Caller(number=f"+1312555{index:04d}"),
                at=AT,
                call_sid=f"CA{index:04d}",
            )
            return result.sent_to.name if result.sent_to else "nobody"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        sent = Counter(pool.map(one_call, range(CALLS)))

    assert sent == {"Slots": 7, "Hourly": 30, "Daily": 40, "nobody": CALLS - 77}
    live_state_redis_client(REDIS_URL).flushdb()
