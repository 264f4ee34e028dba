"""Call log export benchmark: `/calls/export.csv` streaming 1,000,000 calls.

    .venv/bin/python bench/export.py [--calls 1000000] [--seed 1] [--days 90] [--reload]
                                     [--runs 3] [--database-url postgres://...]

Loads `--calls` calls with the loader of bench/kpis.py (same generator and shape, reused
when an identical load is there) into a scratch PostgreSQL database of its own
(`ppc_bench_export` by default). Then a member of the bench organization requests the
unfiltered export through Django's test Client with production settings (DEBUG off): the
middleware, the filterset, the streamed response; only the socket is missing. Each run reads
the whole body piece by piece, counts its rows and checks that they are every call of the
tenant, and a thread samples the process's resident memory every 10 ms meanwhile (after a
warm-up export of no rows, so that imports are not counted).

It prints, per run, the time to the first piece, the total time and rows/s, the CPU time of
this process (the web worker's share; steadier than wall time on a busy machine), and the
peak resident memory against the resident memory before the request: the export's own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, whose kpis.py would shadow the app

from bench import kpis as kpis_bench  # noqa: E402  (needs ROOT on the path)
from bench import pages as pages_bench  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """The resident memory of this process now (ru_maxrss would hold the load's peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE / 2**20


class PeakRss:
    """The highest resident memory seen while the block runs, sampled every 10 ms."""

    def __enter__(self) -> PeakRss:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def export_run(client: Any, expected_rows: int) -> dict[str, float]:
    before = rss_mb()
    with PeakRss() as peak:
        began, cpu_began = time.perf_counter(), time.process_time()
        response = client.get("/calls/export.csv")
        if response.status_code != 200:
            raise SystemExit(f"/calls/export.csv: HTTP {response.status_code}")
        pieces = iter(response.streaming_content)
        first = next(pieces)
        first_piece = time.perf_counter() - began
        lines, size = first.count(b"\r\n"), len(first)
        for piece in pieces:
            lines += piece.count(b"\r\n")
            size += len(piece)
        response.close()
        total = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
    rows = lines - 1  # the header
    if rows != expected_rows:
        raise SystemExit(f"the export held {rows:,} rows, the tenant {expected_rows:,} calls")
    return {
        "first": first_piece,
        "total": total,
        "rate": rows / total,
        "cpu": cpu,
        "mb": size / 2**20,
        "before": before,
        "peak": peak.peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kpis_bench.load_arguments_add(parser)
    parser.add_argument("--runs", type=int, default=3, help="timed exports")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_EXPORT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_export"
        ),
    )
    args = parser.parse_args()
    campaigns, publishers = kpis_bench.load_shape(parser, args)

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    kpis_bench.ensure_database(args.database_url)
    kpis_bench.django_setup(args.database_url)
    from django.db import connection

    from calls.models import Call

    pages_bench.migrate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    organization, _ = kpis_bench.calls_prepare(args, campaigns, publishers)
    calls = Call.objects.for_organization(organization).count()
    print(f"{server}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")

    client = pages_bench.member_client(organization)
    # A warm-up export of no rows: imports and URL resolution are not the export's memory.
    client.get("/calls/export.csv?date_from=2100-01-01").close()
    results = []
    for run in range(1, args.runs + 1):
        result = export_run(client, calls)
        results.append(result)
        print(
            f"run {run}: {calls:,} rows, {result['mb']:,.0f} MB of CSV, first piece after "
            f"{result['first']:.2f} s, all in {result['total']:.1f} s: "
            f"{result['rate']:,.0f} rows/s ({result['cpu']:.1f} s of this process's CPU); "
            f"RSS {result['before']:.0f} MB before, "
            f"peak {result['peak']:.0f} MB (+{result['peak'] - result['before']:.0f} MB)"
        )
    rate = statistics.median(r["rate"] for r in results)
    growth = max(r["peak"] - r["before"] for r in results)
    print(
        "\n```\n"
        f"Export benchmark (bench/export.py): /calls/export.csv of {calls:,} calls; "
        f"{server}, {os.cpu_count()} cores\n"
        f"median of {args.runs}: {rate:,.0f} rows/s, "
        f"{statistics.median(r['cpu'] for r in results):.1f} s of the web process's CPU, "
        "first piece after "
        f"{statistics.median(r['first'] for r in results):.2f} s, "
        f"{results[0]['mb']:,.0f} MB of CSV\n"
        f"peak RSS {max(r['peak'] for r in results):.0f} MB, at most "
        f"+{growth:.0f} MB over the {results[0]['before']:.0f} MB before the request\n"
        "```"
    )


if __name__ == "__main__":
    main()
