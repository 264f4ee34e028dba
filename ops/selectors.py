"""What /readyz reports: each dependency's state, read without side effects."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from kpis.models import DirtyDay

from .models import WorkerHeartbeat

# Beat sends the heartbeat every HEARTBEAT_SECONDS; a worker silent for three of them is down.
HEARTBEAT_SECONDS = 30
WORKER_SILENT_AFTER = dt.timedelta(seconds=3 * HEARTBEAT_SECONDS)


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: not configured (no REDIS_URL: tasks run in the web process)
    detail: str
    facts: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **self.facts}


def _timed(probe) -> tuple[Any, float]:
    started = time.perf_counter()
    result = probe()
    return result, round((time.perf_counter() - started) * 1000, 1)


def database_check() -> Check:
    try:
        with connection.cursor() as cursor:
            _, ms = _timed(lambda: cursor.execute("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        return Check(False, f"database unreachable: {type(exc).__name__}", {})
    return Check(True, "", {"ms": ms})


def redis_check() -> Check:
    if not settings.REDIS_URL:
        return Check(None, "no REDIS_URL: tasks run in the web process", {})
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        _, ms = _timed(client.ping)
    except redis.RedisError as exc:
        return Check(False, f"Redis unreachable: {type(exc).__name__}", {})
    return Check(True, "", {"ms": ms})


def worker_check(now: dt.datetime) -> Check:
    if not settings.REDIS_URL:
        return Check(None, "no worker: tasks run in the web process", {})
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]
    if last_seen is None:
        return Check(False, "no worker heartbeat yet (are the worker and beat running?)", {})
    age = (now - last_seen).total_seconds()
    facts = {"last_seen": last_seen.isoformat(), "age_s": round(age, 1)}
    if age > WORKER_SILENT_AFTER.total_seconds():
        return Check(False, f"no worker heartbeat for {int(age)} s", facts)
    return Check(True, "", facts)


def rollups_check(now: dt.datetime) -> Check:
    """The oldest write the KPIs do not reflect yet, over every tenant."""
    oldest = DirtyDay.objects.aggregate(oldest=Min("pending_since"))["oldest"]
    if oldest is None:
        return Check(True, "", {"oldest_pending_since": None, "age_s": 0})
    age = max((now - oldest).total_seconds(), 0.0)
    facts = {"oldest_pending_since": oldest.isoformat(), "age_s": round(age, 1)}
    if age > 60:
        return Check(False, f"KPIs wait {int(age)} s for recomputation", facts)
    return Check(True, "", facts)


def readiness(now: dt.datetime | None = None) -> tuple[bool, dict[str, Check]]:
    """Whether this web process can serve (its database answers), and every check.

    Redis, the worker and the rollups' lag are reported, not required: with Redis down the
    API keeps reading and writing (writes leave dirty marks that beat's safety net picks up),
    so taking web servers out of the load balancer would only make things worse.
    """
    now = now or timezone.now()
    database = database_check()
    checks = {"database": database, "redis": redis_check()}
    if database.ok:
        checks["worker"] = worker_check(now)
        checks["rollups"] = rollups_check(now)
    return bool(database.ok), checks
