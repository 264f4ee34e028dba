"""Outbound webhooks benchmark: publish-and-send against a local receiver, and beat's sweep.

    .venv/bin/python bench/webhooks.py [--events 300] [--endpoints 3] [--due 10000]
                                       [--database-url postgres://...]

In a scratch PostgreSQL database of its own (`ppc_bench_webhooks` by default, migrated, its
webhook tables emptied first), with tasks run in place (no REDIS_URL, as a worker runs them):
- publish: `--events` events of one organization, each to `--endpoints` signed endpoints
  served by a threaded HTTP receiver on this machine that answers 200 at once; the time per
  event covers the event and delivery rows, the claim, signing, the POST and the log;
- baseline, in the same run: a bare POST of the same body to the same receiver (requests);
- sweep: `--due` retrying deliveries all due, then one `webhook_deliveries_sweep()` with
  the enqueue counted instead of sent: the database's part of beat's safety net per run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, whose kpis.py would shadow the app

from bench import kpis as kpis_bench  # noqa: E402  (needs ROOT on the path)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_WEBHOOKS_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/ppc_bench_webhooks",
        ),
    )
    args = parser.parse_args()
    os.environ.pop("REDIS_URL", None)
    os.environ["WEBHOOKS_ALLOW_LOCAL_TARGETS"] = "true"  # the receiver is on this machine
    kpis_bench.ensure_database(args.database_url)
    kpis_bench.django_setup(args.database_url)
    from django.core.management import call_command
    from django.utils import timezone

    from alerts import outbound
    from alerts.models import DeliveryStatus, OutboundEvent, WebhookDelivery, WebhookEndpoint
    from ppc_dashboard.tenancy.models import Organization

    call_command("migrate", verbosity=0)
    OutboundEvent.objects.all().delete()
    WebhookEndpoint.objects.all().delete()
    org, _ = Organization.objects.get_or_create(slug="bench-webhooks", defaults={"name": "Bench"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    for n in range(args.endpoints):
        WebhookEndpoint.objects.create(
            organization=org, name=f"Receiver {n}", url=url, event_types=["alert.opened"]
        )

    timings = []
    for n in range(args.events):
        began = time.perf_counter()
        outbound.outbound_event_publish(
            organization=org,
            event_type="alert.opened",
            data={"campaign": "Auto", "missed_rate": 7.5, "n": n},
            idempotency_key=f"bench-{n}",
        )
        timings.append(time.perf_counter() - began)
    succeeded = WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count()
    assert succeeded == args.events * args.endpoints, succeeded
    per_event = statistics.median(timings) * 1000
    p95 = sorted(timings)[int(len(timings) * 0.95)] * 1000
    print(
        f"publish: {args.events} events x {args.endpoints} endpoints, all delivered: "
        f"median {per_event:.1f} ms per event ({per_event / args.endpoints:.1f} ms per "
        f"delivery), p95 {p95:.1f} ms"
    )
    # Baseline, same run: what a delivery cannot avoid, the POST of its body to the same
    # receiver with the same client (requests, a new connection each time, as a delivery).
    import requests

    body = WebhookDelivery.objects.select_related("event").first().event.payload
    posts = []
    for _ in range(args.events):
        began = time.perf_counter()
        requests.post(url, json=body, timeout=10).raise_for_status()
        posts.append(time.perf_counter() - began)
    post_ms = statistics.median(posts) * 1000
    print(
        f"baseline, same run: a bare POST of the same body median {post_ms:.1f} ms; a "
        f"delivery costs {per_event / args.endpoints / post_ms:.1f}x that"
    )

    now = timezone.now()
    event = OutboundEvent.objects.first()
    extra = [
        WebhookEndpoint(organization=org, name=f"Due {n}", url=url, event_types=["alert.opened"])
        for n in range(args.due // 1000 + 1)
    ]
    WebhookEndpoint.objects.bulk_create(extra)
    events = OutboundEvent.objects.bulk_create(
        OutboundEvent(
            organization=org,
            event_type="alert.opened",
            idempotency_key=f"due-{n}",
            payload=event.payload,
        )
        for n in range(args.due)
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organization=org,
            event=due_event,
            endpoint=extra[n // 1000],
            status=DeliveryStatus.RETRYING,
            attempts=1,
            next_attempt_at=now,
        )
        for n, due_event in enumerate(events)
    )
    enqueued = []
    outbound.task_enqueue = lambda name, *task_args, **kwargs: enqueued.append(task_args) or True
    began = time.perf_counter()
    swept = outbound.webhook_deliveries_sweep()
    sweep_ms = (time.perf_counter() - began) * 1000
    print(
        f"sweep: {args.due} due deliveries, one run enqueues {swept} "
        f"(the batch of {outbound.SWEEP_BATCH}) in {sweep_ms:.0f} ms"
    )
    began = time.perf_counter()
    again = outbound.webhook_deliveries_sweep()
    print(
        f"sweep again at once: enqueues {again} more (the first batch is marked enqueued) "
        f"in {(time.perf_counter() - began) * 1000:.0f} ms"
    )
    server.shutdown()


if __name__ == "__main__":
    main()
