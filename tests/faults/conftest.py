"""What the faults suite shares: calls that are the same whoever posts them, and checks that
nothing acknowledged is lost, nothing is counted twice and the KPIs catch up by themselves."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
import pytest
from django.db import connection

from calls.models import Call
from ppc_dashboard.celery import app as celery_app
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import OrganizationFactory

from .stack import CeleryProcesses, RedisServer

# Every call starts on this day (UTC); the KPI checks read the days around it.
CALL_DAY = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
KPI_RANGE = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def call_item(number: int, campaign: str = "Faults") -> dict:
    """Call `number`, always the same: a re-post of it changes nothing."""
    return {
        "external_id": f"fault-{number:06d}",
        "campaign_name": campaign,
        "publisher_name": f"Publisher {number % 7}",
        # Shared callers, so that repeat flags are re-derived across batches too.
        "caller_number": f"+1312555{number % 50:04d}",
        "started_at": (CALL_DAY + dt.timedelta(seconds=37 * number)).isoformat(),
        "status": "answered" if number % 4 else "missed",
        "duration_seconds": 90 + number % 60 if number % 4 else 0,
        "converted": number % 10 == 0,
        "revenue": "25.00" if number % 10 == 0 else "0",
    }


def stored_external_ids(organization) -> list[str]:
    return list(Call.objects.for_organization(organization).values_list("external_id", flat=True))


def assert_stored_once(organization, acknowledged: Iterable[str]) -> list[str]:
    """Every acknowledged call is stored, each exactly once; returns what is stored."""
    stored = stored_external_ids(organization)
    assert len(stored) == len(set(stored)), "a call is stored twice"
    missing = set(acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged calls were lost: {sorted(missing)[:5]}"
    return stored


def wait_until(check: Callable[[], object], timeout: float, step: float = 0.5) -> object:
    """Poll `check` until it returns something true; that value, or the last one at timeout."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = check()
    return value


def kpis_fresh_totals(client: httpx.Client) -> dict | None:
    """The KPI totals once no write is waiting to be reflected in them, else None."""
    response = client.get("/api/v1/kpis/", params=KPI_RANGE)
    if response.status_code != 200:
        return None
    body = response.json()
    if body["freshness"]["pending"]:
        return None
    return body["totals"]


def assert_kpis_count_each_call_once(client: httpx.Client, stored: list[str], timeout: float):
    """The KPIs become fresh by themselves and count every stored call once."""
    totals = wait_until(lambda: kpis_fresh_totals(client), timeout)
    assert totals, f"the KPIs were still not fresh after {timeout:.0f} s"
    assert totals["calls"] == len(stored), (totals, _calls_and_rollups_by_day(stored))
    numbers = [int(external_id.split("-")[1]) for external_id in stored]
    assert totals["conversions"] == sum(1 for n in numbers if n % 10 == 0), totals


NATIVE_COLUMNS = [
    "external_id",
    "campaign_name",
    "publisher_name",
    "caller_number",
    "started_at",
    "status",
    "duration_seconds",
    "converted",
    "revenue",
]


def native_csv(numbers: Iterable[int], bad: Iterable[int] = ()) -> bytes:
    """A `native` import of calls `numbers` (as `call_item`); rows of `bad` have a bad date."""
    bad = set(bad)
    lines = [",".join(NATIVE_COLUMNS)]
    for number in numbers:
        item = call_item(number)
        if number in bad:
            item["started_at"] = "not a date"
        lines.append(",".join(str(item[column]) for column in NATIVE_COLUMNS))
    return ("\n".join(lines) + "\n").encode()


# --- the real stack: a redis-server of our own, Celery workers and beat --------------------

REQUIRES_STACK = [
    pytest.mark.skipif(
        not os.environ.get("TEST_REDIS_URL"),
        reason="TEST_REDIS_URL is not set (the suite runs with the real services, as in CI)",
    ),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="worker processes need a shared database"
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server"),
]
# Beat's safety nets, shortened so that the suite sees them act within seconds.
STACK_ENV = {
    "ROLLUPS_SAFETY_NET_SECONDS": "2",
    "IMPORT_SWEEP_SECONDS": "2",
    "IMPORT_STALE_SECONDS": "8",
    "IMPORT_MAX_RESTARTS": "3",
}


@dataclass
class Stack:
    redis: RedisServer
    celery: CeleryProcesses
    api: httpx.Client
    organization: object


def _forget_broker_connections() -> None:
    # The app caches its pools; forget them so that the next send uses the broker configured.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def stack(live_server, settings, tmp_path):
    """A tenant, an API client on the live server, and our own Redis as broker and cache,
    with beat running; each test starts (and kills) its own workers."""
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "ppc_dashboard.redis_cache.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "ppc",
        }
    }
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=redis_server.url, task_always_eager=False)
    _forget_broker_connections()
    database = connection.settings_dict
    env = {
        **os.environ,
        **STACK_ENV,
        "DATABASE_URL": (
            f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": redis_server.url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "true",
    }
    celery = CeleryProcesses(env, tmp_path)
    organization = OrganizationFactory(slug="faults", timezone="UTC")
    _, key = api_key_create(organization=organization, name="faults")
    api = httpx.Client(base_url=live_server.url, headers={"X-Api-Key": key}, timeout=60)
    try:
        celery.beat()
        yield Stack(redis=redis_server, celery=celery, api=api, organization=organization)
    finally:
        api.close()
        celery.stop_all()
        if redis_server.process is not None:
            redis_server.kill()
        celery_app.conf.update(**saved)
        _forget_broker_connections()


def _calls_and_rollups_by_day(stored: list[str]) -> dict:
    """Per UTC day: calls stored, calls the daily rollups count, dirty marks (a failure's
    evidence)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate

    from kpis.models import CallRollupDaily, DirtyDay

    calls = Call.objects.filter(external_id__in=stored)
    by_day = dict(
        calls.annotate(day=TruncDate("started_at")).values_list("day").annotate(n=Count("id"))
    )
    rolled = dict(CallRollupDaily.objects.values_list("day").annotate(n=Sum("calls")))
    marks = list(DirtyDay.objects.values_list("day", "version", "pending_since"))
    return {"calls": by_day, "rollups": rolled, "marks": marks}
