"""Route benchmark: routing decisions over HTTP (`POST /api/v1/route`) with 50 buyer targets
in the plan and the live state in Redis, next to the same server's trivial authenticated
endpoint (`GET /api/v1/campaigns/<id>/`: one row by key) measured in the same run.

    .venv/bin/python bench/route.py [--requests 4000] [--concurrency 4] [--workers 2]
                                    [--rounds 3] [--advice] [--database-url postgres://...]
                                    [--redis-url redis://...]

Starts gunicorn on 127.0.0.1 (production settings: DEBUG off, REDIS_URL set, so
`routing.live_state` is the Redis one) against a scratch PostgreSQL database of its own
(`ppc_bench_route`, created and migrated here). The bench tenant gets a campaign whose plan
has 50 buyers in 5 tiers with mixed weights, hours (some closed now), geo lists and caps, so
a decision walks every rule. Each request routes a call from one of six states; by default it
is *sent* (`call_id` given: the first destination's concurrency slot is taken and its
hour/day/month counters counted in Redis, one Lua script), with `--advice` only decided.

The two endpoints are measured in alternating rounds (`--rounds`, each `--requests` requests
over `--concurrency` client processes, one keep-alive connection each), after a warm-up of
each, so both see the same machine. Every route answer must be a 200 with the plan's version
and at least one destination, or the timings mean nothing. Prints decisions/s, p50/p95 of
both endpoints and the targets: route p95 <= 2x the trivial endpoint's p95, and >= 500 decisions/s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import itertools
import json
import logging
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
logging.getLogger("httpx").setLevel(logging.WARNING)
sys.path.insert(0, str(ROOT))

from bench.ingest import start_server  # noqa: E402  (needs ROOT on the path)
from bench.kpis import django_setup, ensure_database  # noqa: E402

TARGETS = 50
TIERS = 5
P95_RATIO_TARGET = 2.0
RATE_TARGET = 500
REGIONS = ("US-CA", "US-TX", "US-FL", "US-NY", "US-IL", "US-OH")


def prepare_tenant(seed: int) -> tuple[str, int, int]:
    """The bench tenant, its campaign with a 50-buyer plan; returns (API key, campaign id,
    plan version)."""
    from django.core.management import call_command
    from django.db import connection

    from calls.models import Campaign
    from ppc_dashboard.tenancy.models import Organization
    from ppc_dashboard.tenancy.services import api_key_create, organization_create
    from routing.models import Buyer
    from routing.services import PlanTargetInput, routing_plan_save

    call_command("migrate", verbosity=0)
    organization = Organization.objects.filter(slug="bench-route").first()
    if organization is None:
        organization = organization_create(
            slug="bench-route", name="Bench Route", timezone="America/New_York"
        )
    campaign, _ = Campaign.objects.get_or_create(organization=organization, name="Routed")
    rng = random.Random(seed)
    zones = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
    targets = []
    for n in range(TARGETS):
        # Most buyers around the clock; every fifth keeps office hours (closed part of the
        # day), every seventh takes only some states, every ninth refuses one; caps vary.
        hours = {} if n % 5 else {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu")}
        buyer, _ = Buyer.objects.update_or_create(
            organization=organization,
            name=f"Buyer {n:02d}",
            defaults={
                "phone_number": f"+1212555{n:04d}",
                "timezone": zones[n % len(zones)],
                "business_hours": hours,
                "active": True,
                "concurrency_cap": None if n % 3 else 10_000,
                "hourly_cap": None if n % 4 else 1_000_000,
                "daily_cap": None if n % 6 else 1_000_000,
                "monthly_cap": None if n % 8 else 10_000_000,
                "geo_allow": ["US-CA", "US-TX", "US-NY"] if n % 7 == 0 else [],
                "geo_deny": ["US-FL"] if n % 9 == 0 else [],
            },
        )
        targets.append(PlanTargetInput(buyer.pk, tier=1 + n % TIERS, weight=rng.randint(1, 100)))
    plan = routing_plan_save(
        organization=organization, campaign=campaign, targets=targets, note="bench"
    ).plan
    _, raw_key = api_key_create(organization=organization, name="bench route")
    # Planner statistics as autovacuum keeps them in production (it may be off on a bench
    # machine): without them the plan stamp's join read 1,300 rows for 50, 1 ms of the
    # server's CPU per decision.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return raw_key, campaign.pk, plan.version


def workers_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) the gunicorn master's workers have used so far, from /proc.

    On a shared machine the wall-clock rates say how busy it was; the CPU a request costs
    the server says what it would take on idle cores."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the command: state, ppid, ... utime is field 14 and stime 15 of stat(5).
        if int(fields[1]) == master_pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass(frozen=True)
class Endpoint:
    """What one client process requests, picklable: the processes build the requests."""

    name: str  # "route" or "trivial"
    port: int
    raw_key: str
    campaign_id: int
    version: int
    call_prefix: str  # "": advice only (no call_id)

    def request(self, n: int) -> tuple[str, str, bytes | None]:
        if self.name == "trivial":
            return "GET", f"/api/v1/campaigns/{self.campaign_id}/", None
        body = {
            "campaign": self.campaign_id,
            "caller_number": f"+1{3105550000 + n % 9000}",
            "caller_region": REGIONS[n % len(REGIONS)],
        }
        if self.call_prefix:
            body["call_id"] = f"{self.call_prefix}-{n}"
        return "POST", "/api/v1/route", json.dumps(body).encode()

    def check(self, status: int, payload: bytes) -> None:
        if status != 200:
            raise SystemExit(f"{self.name}: HTTP {status}: {payload[:300]!r}")
        if self.name == "route":
            answer = json.loads(payload)
            if answer["plan_version"] != self.version or not answer["destinations"]:
                raise SystemExit(f"route: no destinations from version {self.version}: {answer}")


def client_loop(endpoint: Endpoint, numbers: range) -> list[float]:
    """One client process: its requests over one keep-alive connection; their latencies.

    The standard library's client, in processes rather than threads: the client shares the
    server's two cores, and a heavier client (httpx, one GIL) took CPU the server needed."""
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=60)
    headers = {"X-Api-Key": endpoint.raw_key, "Content-Type": "application/json"}
    timings = []
    for n in numbers:
        method, path, body = endpoint.request(n)
        t0 = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        timings.append(time.perf_counter() - t0)
        endpoint.check(response.status, payload)
    connection.close()
    return timings


def run(
    pool: concurrent.futures.Executor, endpoint: Endpoint, count: int, clients: int, first: int
):
    """`count` requests over `clients` client processes; returns (seconds, latencies)."""
    shares = [range(first + i, first + count, clients) for i in range(clients)]
    began = time.perf_counter()
    latencies: list[float] = []
    for timings in pool.map(client_loop, [endpoint] * clients, shares):
        latencies.extend(timings)
    return time.perf_counter() - began, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, default=4, help="client processes, one connection each"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--advice", action="store_true", help="decide only: no call_id, no Redis writes"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
        help="the server's REDIS_URL (live state, cache, broker); flushed first",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_route"
        ),
    )
    args = parser.parse_args()

    ensure_database(args.database_url)
    django_setup(args.database_url)
    raw_key, campaign_id, version = prepare_tenant(args.seed)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    call_prefix = "" if args.advice else f"bench-{time.time_ns()}"
    endpoints = {
        name: Endpoint(name, args.port, raw_key, campaign_id, version, call_prefix)
        for name in ("route", "trivial")
    }
    mode = "advice only" if args.advice else "sent (slot + counters in Redis)"
    print(
        f"{TARGETS} targets in {TIERS} tiers, calls {mode}; {args.rounds} rounds x "
        f"{args.requests} requests per endpoint, {args.concurrency} client processes "
        f"(on the server's machine), {args.workers} gunicorn workers"
    )
    server = start_server(args.database_url, args.port, args.workers, args.redis_url)
    results: dict[str, tuple[float, list[float]]] = {"route": (0.0, []), "trivial": (0.0, [])}
    cpu = {"route": 0.0, "trivial": 0.0}
    load_before = os.getloadavg()[0]
    numbers = itertools.count(0, args.requests)  # call ids never repeat across rounds
    try:
        with concurrent.futures.ProcessPoolExecutor(args.concurrency) as pool:
            warm = min(500, args.requests)
            for endpoint in endpoints.values():
                run(pool, endpoint, warm, args.concurrency, next(numbers))
            for _ in range(args.rounds):
                for name, endpoint in endpoints.items():
                    cpu_before = workers_cpu_seconds(server.pid)
                    seconds, latencies = run(
                        pool, endpoint, args.requests, args.concurrency, next(numbers)
                    )
                    cpu[name] += workers_cpu_seconds(server.pid) - cpu_before
                    total, kept = results[name]
                    results[name] = (total + seconds, kept + latencies)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(f"load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    figures = {}
    for name, (seconds, latencies) in results.items():
        rate = len(latencies) / seconds
        p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
        cpu_ms = cpu[name] / len(latencies) * 1000
        figures[name] = (rate, p50, p95)
        print(
            f"{name:8s} {rate:8,.0f} req/s   p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   "
            f"server CPU {cpu_ms:5.2f} ms/request (= {1000 / cpu_ms:,.0f}/s per idle core)"
        )
    route_rate, _, route_p95 = figures["route"]
    trivial_p95 = figures["trivial"][2]
    ratio = route_p95 / trivial_p95
    print(
        f"route p95 / trivial p95 = {ratio:.2f} (target <= {P95_RATIO_TARGET}): "
        f"{'met' if ratio <= P95_RATIO_TARGET else 'MISSED'}"
    )
    print(
        f"decisions/s = {route_rate:,.0f} (target >= {RATE_TARGET}): "
        f"{'met' if route_rate >= RATE_TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
