"""Import benchmark: a Ringba-shaped CSV through `manage.py import_calls` until the KPIs are
fresh, on PostgreSQL and on the embedded SQLite, against COPY and the API in the same run.

    .venv/bin/python bench/imports.py [--rows 1000000] [--sqlite-rows 200000] [--days 60]
                                      [--api-calls 100000] [--skip-api] [--skip-sqlite]
                                      [--database-url postgres://...] [--redis-url redis://...]

Each backend runs in a process of its own (a Django process has one database), with a fresh
tenant, no REDIS_URL (the embedded default: the KPI refresh that follows the import runs in
the same process, so "fresh" is measured, not queued) and a Ringba call-log CSV written to a
temporary file first (API field names, `--days` days, 8 campaigns, 40 publishers, repeat
callers, 2% of rows repeated later in the file, 1% still live). It prints:

- rows/s of the import alone and until the KPIs are fresh (no dirty day left);
- the time of the first and the last tenth of the import's chunks (mean per chunk);
- the process's peak memory (ru_maxrss: the import is its largest phase);
- PostgreSQL: COPY of the same rows into a scratch table with calls_call's indexes, and
  the API's bulk rate (`bench/ingest.py`: gunicorn, batches of 1,000, 4 client threads),
  both measured in the same run, and the import's ratio to each.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.kpis import _max_rss_mb, django_setup, ensure_database  # noqa: E402

RINGBA_HEADER = [
    "inboundCallId",
    "callDt",
    "campaignName",
    "publisherName",
    "targetName",
    "inboundPhoneNumber",
    "number",
    "hasConnected",
    "hasConverted",
    "connectedCallLengthInSeconds",
    "conversionAmount",
    "payoutAmount",
    "isDuplicate",
    "isLive",
    "tag:InboundNumber:State",
]
CAMPAIGNS = [f"Campaign {i}" for i in range(8)]
PUBLISHERS = [f"Publisher {i}" for i in range(40)]
TARGETS = [f"Buyer {i}" for i in range(12)]


def ringba_csv_write(path: Path, rows: int, days: int, seed: int) -> None:
    """A Ringba call log, row by row (memory stays flat whatever `rows`)."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    step = days * 86400 / max(rows, 1)
    callers = [f"+1{rng.randint(2002000000, 9899999999)}" for _ in range(max(rows // 3, 1))]
    earlier: list[list[str]] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RINGBA_HEADER)
        for i in range(rows):
            if earlier and rng.random() < 0.02:
                writer.writerow(rng.choice(earlier))  # a duplicate row of an earlier call
                continue
            connected = rng.random() < 0.8
            talk = int(rng.lognormvariate(4.6, 0.9)) if connected else 0
            converted = connected and rng.random() < 0.12
            row = [
                f"RGB{i:010d}",
                (start + dt.timedelta(seconds=i * step)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                rng.choice(CAMPAIGNS),
                rng.choice(PUBLISHERS),
                rng.choice(TARGETS) if rng.random() < 0.95 else "",
                rng.choice(callers),
                f"+1888555{rng.randint(0, 99):04d}",
                "true" if connected else "false",
                "true" if converted else "false",
                str(talk),
                f"{rng.uniform(20, 90):.2f}" if converted else "0",
                "12.50" if talk >= 90 else "0",
                "false",
                "true" if rng.random() < 0.01 else "false",
                rng.choice(["CA", "TX", "FL", "NY", "IL", "OH"]),
            ]
            writer.writerow(row)
            if len(earlier) < 1000:
                earlier.append(row)


# --- one backend, in its own process -------------------------------------------------------


def tenant_create(slug: str):
    from calls.models import Campaign
    from ppc_dashboard.tenancy.models import Organization
    from ppc_dashboard.tenancy.services import organization_create
    from publishers.models import Publisher

    Organization.objects.filter(slug=slug).delete()
    organization = organization_create(slug=slug, name=slug, timezone="America/New_York")
    for name in CAMPAIGNS:
        Campaign.objects.create(organization=organization, name=name)
    for name in PUBLISHERS:
        Publisher.objects.create(organization=organization, name=name)
    return organization


def import_measure(path: Path, rows: int, chunk_rows: int | None = None) -> dict:
    """Run `import_calls` on the file; chunk times, rates and peak memory."""
    from django.core.management import call_command

    import calls.services
    from calls.models import CallImport
    from kpis.models import DirtyDay

    organization = tenant_create(f"bench-imports-{os.getpid()}")
    chunk_ends: list[float] = []
    original = calls.services._import_chunk

    def timed_chunk(*args, **kwargs):
        original(*args, **kwargs)
        chunk_ends.append(time.perf_counter())

    calls.services._import_chunk = timed_chunk
    if chunk_rows:
        calls.services.IMPORT_CHUNK_ROWS = chunk_rows
    began = time.perf_counter()
    call_command(
        "import_calls",
        str(path),
        org=organization.slug,
        format="ringba",
        create_missing=True,
        show_errors=3,
    )
    fresh = time.perf_counter()  # the refresh ran in the command (eager, no REDIS_URL)
    if DirtyDay.objects.filter(organization=organization).exists():
        raise SystemExit("the KPIs are not fresh after the import")
    call_import = CallImport.objects.filter(organization=organization).latest("id")
    call_import.file.delete(save=False)
    chunks = [b - a for a, b in zip([began, *chunk_ends], chunk_ends, strict=False)]
    tenth = max(len(chunks) // 10, 1)
    return {
        "rows": rows,
        "rows_imported": call_import.rows_imported,
        "calls_written": call_import.calls_written,
        "rows_duplicate": call_import.rows_duplicate,
        "rows_skipped": call_import.rows_skipped,
        "rows_failed": call_import.rows_failed,
        "import_seconds": (chunk_ends[-1] if chunk_ends else fresh) - began,
        "fresh_seconds": fresh - began,
        "chunks": len(chunks),
        "first_tenth_ms": 1000 * sum(chunks[:tenth]) / tenth,
        "last_tenth_ms": 1000 * sum(chunks[-tenth:]) / tenth,
        "peak_mb": _max_rss_mb(),
        "organization_id": organization.pk,
    }


def copy_measure(url: str, path: Path, organization_id: int) -> float:
    """Seconds to COPY the file's rows into a scratch table with calls_call's indexes."""
    from bench.ingest import copy_scratch_calls

    columns = (
        "organization_id, external_id, started_at, duration_seconds, status, caller_number, "
        "caller_region, converted, revenue, cost, source, tags, dialed_number, is_repeat, "
        "created_at, updated_at"
    )
    now = dt.datetime.now(tz=dt.UTC)

    def rows():
        seen: set[str] = set()
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                if row[0] in seen:  # COPY cannot upsert: the import's duplicates are dropped
                    continue
                seen.add(row[0])
                yield (
                    organization_id,
                    row[0],
                    row[1],
                    row[9],
                    "answered" if row[7] == "true" else "missed",
                    row[5],
                    row[14],
                    row[8] == "true",
                    row[10],
                    row[11],
                    "ringba_csv",
                    "{}",
                    row[6],
                    False,
                    now,
                    now,
                )

    return copy_scratch_calls(url, columns, rows())


def api_measure(url: str, redis_url: str, calls: int, port: int) -> float:
    """The API's bulk rate (calls/s) as bench/ingest.py measures it, on a fresh tenant."""
    import redis

    from bench.ingest import make_calls, post_batches, prepare_tenant, start_server

    raw_key, campaigns, publishers = prepare_tenant(n_campaigns=8, n_publishers=40)
    bodies = [
        json.dumps(chunk).encode()
        for chunk in (lambda items: [items[i : i + 1000] for i in range(0, len(items), 1000)])(
            make_calls(calls, campaigns, publishers, seed=1)
        )
    ]
    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # the bench's own Redis database: debounce keys, the unconsumed queue
    server = start_server(url, port, workers=2, redis_url=redis_url)
    try:
        began = time.perf_counter()
        post_batches(port, raw_key, bodies, concurrency=4)
        elapsed = time.perf_counter() - began
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        client.flushdb()
    return calls / elapsed


def backend_run(args: argparse.Namespace) -> None:
    url = args.database_url if args.backend == "postgresql" else args.sqlite_url
    if args.backend == "postgresql":
        ensure_database(url)
    os.environ.pop("REDIS_URL", None)
    os.environ["MEDIA_ROOT"] = args.media_root
    django_setup(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ringba_call_log.csv"
        ringba_csv_write(path, args.rows, args.days, args.seed)
        result = import_measure(path, args.rows, args.chunk_rows)
        if args.backend == "postgresql":
            result["copy_seconds"] = copy_measure(url, path, result["organization_id"])
            if not args.skip_api:
                result["api_rate"] = api_measure(url, args.redis_url, args.api_calls, args.port)
    print("RESULT " + json.dumps(result))


# --- the report ----------------------------------------------------------------------------


def report(backend: str, result: dict) -> None:
    rows = result["rows"]
    rate = rows / result["import_seconds"]
    print(f"\n{backend}: {rows:,} rows ({result['chunks']} chunks)")
    print(
        f"  imported {result['rows_imported']:,} rows as {result['calls_written']:,} calls "
        f"({result['rows_duplicate']:,} duplicate rows, {result['rows_skipped']:,} skipped, "
        f"{result['rows_failed']:,} failed)"
    )
    print(f"  import:          {rate:8,.0f} rows/s  ({result['import_seconds']:.1f} s)")
    print(
        f"  until KPI fresh: {rows / result['fresh_seconds']:8,.0f} rows/s  "
        f"({result['fresh_seconds']:.1f} s)"
    )
    ratio = result["last_tenth_ms"] / result["first_tenth_ms"]
    print(
        f"  chunk time: first tenth {result['first_tenth_ms']:.0f} ms, last tenth "
        f"{result['last_tenth_ms']:.0f} ms (last/first {ratio:.2f})"
    )
    print(f"  peak memory: {result['peak_mb']:.0f} MB")
    if "copy_seconds" in result:
        copy_rate = rows / result["copy_seconds"]
        print(
            f"  COPY of the same rows: {copy_rate:,.0f} rows/s; "
            f"import / COPY {rate / copy_rate:.2f}"
        )
    if "api_rate" in result:
        api_rate = result["api_rate"]
        print(f"  API bulk: {api_rate:,.0f} calls/s; import / API {rate / api_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="PostgreSQL rows")
    parser.add_argument("--sqlite-rows", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--api-calls", type=int, default=100_000, help="calls the API posts")
    parser.add_argument(
        "--chunk-rows", type=int, default=None, help="rows per chunk (IMPORT_CHUNK_ROWS)"
    )
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_imports"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
        help="broker and cache of the API server (its database is flushed)",
    )
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], help=argparse.SUPPRESS)
    parser.add_argument("--sqlite-url", help=argparse.SUPPRESS)
    parser.add_argument("--media-root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        backend_run(args)
        return

    runs = []
    if not args.skip_postgresql:
        runs.append(("postgresql", args.rows))
    if not args.skip_sqlite:
        runs.append(("sqlite", args.sqlite_rows))
    for backend, rows in runs:
        with tempfile.TemporaryDirectory() as scratch:
            command = [
                sys.executable,
                __file__,
                *sys.argv[1:],
                "--backend",
                backend,
                "--rows",
                str(rows),
                "--sqlite-url",
                f"sqlite:///{Path(scratch) / 'bench.sqlite3'}",
                "--media-root",
                str(Path(scratch) / "media"),
            ]
            run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
            if run.returncode != 0 or not lines:
                print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
                raise SystemExit(f"the {backend} run failed")
            report(backend, json.loads(lines[-1].removeprefix("RESULT ")))


if __name__ == "__main__":
    main()
