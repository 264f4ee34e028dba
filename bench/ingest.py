"""Ingest benchmark: calls/s through the real HTTP API vs PostgreSQL COPY of the same rows.

    .venv/bin/python bench/ingest.py [--calls 200000] [--batch 1000] [--concurrency 4]
                                     [--workers 2] [--database-url postgres://...]

Starts gunicorn on 127.0.0.1 against a scratch PostgreSQL database (created and migrated
here, `ppc_bench` by default), posts the calls in batches with an API key, checks every call
landed, then COPYs the same rows into a scratch table and prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
logging.getLogger("httpx").setLevel(logging.WARNING)
sys.path.insert(0, str(ROOT))

from bench.kpis import ensure_database  # noqa: E402  (needs ROOT on the path)


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppc_dashboard.settings")
    import django

    django.setup()


def prepare_tenant(n_campaigns: int, n_publishers: int) -> tuple[str, list[str], list[str]]:
    from django.core.management import call_command

    from calls.models import Call, Campaign
    from ppc_dashboard.tenancy.models import Organization
    from ppc_dashboard.tenancy.services import api_key_create, organization_create
    from publishers.models import Publisher

    call_command("migrate", verbosity=0)
    organization = Organization.objects.filter(slug="bench").first()
    if organization is None:
        organization = organization_create(slug="bench", name="Bench", timezone="UTC")
    Call.objects.filter(organization=organization).delete()
    campaigns = [f"Campaign {i}" for i in range(n_campaigns)]
    publishers = [f"Publisher {i}" for i in range(n_publishers)]
    for name in campaigns:
        Campaign.objects.get_or_create(organization=organization, name=name)
    for name in publishers:
        Publisher.objects.get_or_create(organization=organization, name=name)
    _, raw_key = api_key_create(organization=organization, name="bench")
    return raw_key, campaigns, publishers


def make_calls(n: int, campaigns: list[str], publishers: list[str], seed: int) -> list[dict]:
    rng = random.Random(seed)
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    calls = []
    for i in range(n):
        answered = rng.random() < 0.85
        duration = int(rng.lognormvariate(4.6, 0.9)) if answered else 0
        converted = answered and rng.random() < 0.12
        calls.append(
            {
                "external_id": f"bench-{i:09d}",
                "campaign_name": rng.choice(campaigns),
                "publisher_name": rng.choice(publishers),
                "started_at": (start + dt.timedelta(seconds=i * 7)).isoformat(),
                "duration_seconds": duration,
                "status": "answered" if answered else rng.choice(["missed", "no_buyer"]),
                "caller_number": f"+1{rng.randint(2002000000, 9899999999)}",
                "caller_region": rng.choice(["CA", "TX", "FL", "NY", "IL", "OH"]),
                "converted": converted,
                "revenue": f"{rng.uniform(20, 90):.2f}" if converted else "0",
                "cost": "12.50" if duration >= 90 else "0",
            }
        )
    return calls


def production_environment(url: str, redis_url: str) -> dict[str, str]:
    """The app's settings as in production, for a bench server (bench/route_cost.py runs the
    app in-process with the same). With REDIS_URL a request only enqueues the (debounced)
    rollup refresh; without it the embedded default would recompute rollups in the request."""
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "API_RATE_LIMIT": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }


def start_server(url: str, port: int, workers: int, redis_url: str) -> subprocess.Popen:
    env = production_environment(url, redis_url)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ppc_dashboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/schema/", timeout=2)
            return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def post_batches(port: int, raw_key: str, bodies: list[bytes], concurrency: int) -> list[float]:
    latencies: list[float] = []

    def worker(chunk: list[bytes]) -> list[float]:
        timings = []
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"X-Api-Key": raw_key, "Content-Type": "application/json"},
            timeout=120,
        ) as client:
            for body in chunk:
                t0 = time.perf_counter()
                response = client.post("/api/v1/calls/", content=body)
                timings.append(time.perf_counter() - t0)
                if response.status_code != 201:
                    raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
        return timings

    chunks = [bodies[i::concurrency] for i in range(concurrency)]
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for timings in pool.map(worker, chunks):
            latencies.extend(timings)
    return latencies


def copy_scratch_calls(url: str, columns: str, rows: Iterable[tuple]) -> float:
    """Seconds to COPY `rows` (values of `columns`) into a scratch table shaped like
    calls_call, with its indexes; the table is dropped after. The rows may be a generator
    (a file read as it is copied): its time counts, as a client's would."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_calls")
        conn.execute(
            "CREATE TABLE bench_copy_calls "
            "(LIKE calls_call INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
        )
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_copy_calls ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_copy_calls")
        conn.commit()
    return elapsed


def copy_rows(url: str, calls: list[dict], organization_id: int) -> float:
    columns = (
        "organization_id, external_id, started_at, duration_seconds, status, caller_number, "
        "caller_region, converted, revenue, cost, source, tags, dialed_number, created_at, "
        "updated_at"
    )
    now = dt.datetime.now(tz=dt.UTC)
    rows = (
        (
            organization_id,
            c["external_id"],
            c["started_at"],
            c["duration_seconds"],
            c["status"],
            c["caller_number"],
            c["caller_region"],
            c["converted"],
            c["revenue"],
            c["cost"],
            "api",
            "{}",
            "",
            now,
            now,
        )
        for c in calls
    )
    return copy_scratch_calls(url, columns, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="broker and cache of the server under test (flushed first)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench"
        ),
    )
    args = parser.parse_args()

    ensure_database(args.database_url)
    django_setup(args.database_url)
    raw_key, campaigns, publishers = prepare_tenant(n_campaigns=8, n_publishers=40)
    from calls.models import Call
    from ppc_dashboard.tenancy.models import Organization

    organization = Organization.objects.get(slug="bench")
    calls = make_calls(args.calls, campaigns, publishers, args.seed)
    bodies = [
        json.dumps(calls[i : i + args.batch]).encode() for i in range(0, len(calls), args.batch)
    ]
    print(
        f"{args.calls} calls in {len(bodies)} batches of {args.batch}, "
        f"{args.concurrency} client threads, {args.workers} gunicorn workers"
    )

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    server = start_server(args.database_url, args.port, args.workers, args.redis_url)
    try:
        t0 = time.perf_counter()
        latencies = post_batches(args.port, raw_key, bodies, args.concurrency)
        api_elapsed = time.perf_counter() - t0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    stored = Call.objects.filter(organization=organization).count()
    if stored != args.calls:
        raise SystemExit(f"expected {args.calls} calls stored, found {stored}")

    latencies.sort()
    api_rate = args.calls / api_elapsed
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(
        f"API:  {api_rate:,.0f} calls/s  ({api_elapsed:.1f} s; per batch p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms)"
    )

    copy_elapsed = copy_rows(args.database_url, calls, organization.pk)
    copy_rate = args.calls / copy_elapsed
    print(f"COPY: {copy_rate:,.0f} rows/s  ({copy_elapsed:.1f} s)")
    print(f"API / COPY: {api_rate / copy_rate:.2f}")


if __name__ == "__main__":
    main()
