"""Route cost benchmark: CPU instructions the app spends on one routing decision
(`POST /api/v1/route`, call sent) and on the trivial authenticated request (`GET
/api/v1/campaigns/<id>/`), counted by valgrind's callgrind.

    .venv/bin/python bench/route_cost.py [--requests 200] [--database-url ...] [--redis-url ...]

Wall-clock rates on a shared machine moved by 1.7x within an hour here (bench/route.py: the
same code at 358 and at 604 decisions/s); an instruction count does not move with the
machine's other load or its clock. Each endpoint is run in-process (Django's WSGI handler
called directly, production settings, the same 50-target plan and Redis live state as
bench/route.py) under callgrind twice: after a warm-up, once with no timed request and once
with `--requests`; the difference over `--requests` is what one request costs, setup left
out. Counts the app's own process only: not PostgreSQL's or Redis's, not gunicorn's HTTP
parsing (identical for both endpoints).

Needs valgrind (Debian's package, on every machine here). About 2 minutes per endpoint.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = 50
REGIONS = ("US-CA", "US-TX", "US-FL", "US-NY", "US-IL", "US-OH")


def serve_in_process(endpoint: str, requests: int) -> None:
    """The child under callgrind: WARM_UP requests, then `requests` more."""
    import django

    django.setup()
    from bench.route import prepare_tenant
    from ppc_dashboard.wsgi import application

    raw_key, campaign_id, _version = prepare_tenant(seed=1)
    prefix = f"cost-{time.time_ns()}"

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"{endpoint}: HTTP {status}")

    def one(n: int) -> None:
        if endpoint == "trivial":
            method, path, body = "GET", f"/api/v1/campaigns/{campaign_id}/", b""
        else:
            method, path = "POST", "/api/v1/route"
            body = json.dumps(
                {
                    "campaign": campaign_id,
                    "caller_number": f"+1{3105550000 + n % 9000}",
                    "caller_region": REGIONS[n % len(REGIONS)],
                    "call_id": f"{prefix}-{n}",
                }
            ).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_API_KEY": raw_key,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        b"".join(application(environ, start_response))

    for n in range(WARM_UP + requests):
        one(n)


def instructions(endpoint: str, requests: int, env: dict[str, str]) -> int:
    """Instructions callgrind counted over the whole child run."""
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            endpoint,
            "--requests",
            str(requests),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"{endpoint} under callgrind failed:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", choices=["route", "trivial"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_route"
        ),
    )
    args = parser.parse_args()
    if args.child:
        serve_in_process(args.child, args.requests)
        return

    from bench.ingest import production_environment
    from bench.kpis import ensure_database

    ensure_database(args.database_url)
    env = {
        **production_environment(args.database_url, args.redis_url),
        "DJANGO_SETTINGS_MODULE": "ppc_dashboard.settings",
    }
    per_request = {}
    for endpoint in ("route", "trivial"):
        setup = instructions(endpoint, 0, env)
        total = instructions(endpoint, args.requests, env)
        per_request[endpoint] = (total - setup) / args.requests
        print(f"{endpoint:8s} {per_request[endpoint] / 1e6:6.2f} M instructions per request")
    ratio = per_request["route"] / per_request["trivial"]
    print(f"route / trivial = {ratio:.2f} ({args.requests} requests after {WARM_UP} warm-up)")


if __name__ == "__main__":
    main()
