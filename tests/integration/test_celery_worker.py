"""End to end with the real parts: HTTP API -> Redis broker -> a Celery worker process ->
rollups -> the KPI endpoint. CI sets TEST_REDIS_URL and runs on PostgreSQL."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.db import connection

from ppc_dashboard.celery import app as celery_app
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import CampaignFactory, OrganizationFactory

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set"),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the worker needs a shared database"
    ),
]


@pytest.fixture
def redis_broker():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    # A queue of this run's own, so no other consumer of the broker can take its tasks.
    queue = f"integration-{uuid.uuid4().hex[:12]}"
    saved = {
        key: celery_app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_default_queue")
    }
    celery_app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    _forget_connections()
    yield REDIS_URL, queue
    celery_app.conf.update(**saved)
    _forget_connections()


def _forget_connections() -> None:
    # The app caches its pools; forget (not close: kombu shares them by URL) so that the next
    # send builds pools for the broker URL now configured.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_worker_process(redis_broker, live_server):
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": redis_broker[0],
        "DEBUG": "true",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ppc_dashboard",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--queues",
            redis_broker[1],
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if celery_app.control.ping(timeout=0.5):
                break
            assert worker.poll() is None, "the Celery worker exited"
        else:
            pytest.fail("the Celery worker did not answer a ping within 60 s")
        yield worker
    finally:
        # Always: a worker left behind would consume the next run's tasks.
        worker.terminate()
        worker.wait(timeout=20)


def test_posted_calls_show_in_kpis_within_five_seconds(live_server, celery_worker_process):
    org = OrganizationFactory(slug="live", timezone="America/New_York")
    campaign = CampaignFactory(organization=org, name="Auto Insurance")
    _, key = api_key_create(organization=org, name="integration")
    today = dt.datetime.now(tz=org.tzinfo).date()
    started = dt.datetime.now(tz=dt.UTC) - dt.timedelta(minutes=30)
    calls = [
        {
            "external_id": f"live-{i}",
            "campaign_id": campaign.id,
            "started_at": (started + dt.timedelta(seconds=i)).isoformat(),
            "status": "answered" if i % 4 else "missed",
            "duration_seconds": 120 if i % 4 else 0,
            "converted": i % 10 == 0,
            "revenue": "30" if i % 10 == 0 else "0",
        }
        for i in range(200)
    ]
    headers = {"X-Api-Key": key}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        posted = client.post("/api/v1/calls/", json=calls)
        assert posted.status_code == 201, posted.text
        posted_at = time.monotonic()
        seen = None
        while time.monotonic() - posted_at < 5:
            response = client.get(
                "/api/v1/kpis/",
                params={
                    "date_from": (today - dt.timedelta(days=1)).isoformat(),
                    "date_to": today.isoformat(),
                },
            )
            assert response.status_code == 200, response.text
            seen = response.json()["totals"]
            if seen["calls"] == 200:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - posted_at
    assert seen is not None and seen["calls"] == 200, f"KPIs after {elapsed:.1f} s: {seen}"
    assert seen["answered"] == 150
    assert seen["conversions"] == 20
    assert seen["missed_rate"] == 25.0


def test_a_webhook_goes_through_the_broker_and_a_worker_and_its_retry_through_the_sweeper(
    live_server, celery_worker_process
):
    from alerts.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
    from alerts.outbound import webhook_deliveries_sweep
    from tests.alerts.webhook_receiver import WebhookReceiver, start_receiver

    receiver = WebhookReceiver(statuses=[500])
    server = start_receiver(receiver)
    try:
        org = OrganizationFactory(slug="hooked")
        endpoint = WebhookEndpoint.objects.create(
            organization=org, name="CRM", url=receiver.url, event_types=["alert.opened"]
        )
        receiver.secrets.append(endpoint.secret)
        _, key = api_key_create(organization=org, name="integration")
        with httpx.Client(base_url=live_server.url, headers={"X-Api-Key": key}) as client:
            response = client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/test/")
        assert response.status_code == 202, response.text
        delivery = WebhookDelivery.objects.get(pk=response.json()["id"])

        def settled(status: str) -> WebhookDelivery:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                delivery.refresh_from_db()
                if delivery.status == status:
                    return delivery
                time.sleep(0.1)
            pytest.fail(f"the delivery is {delivery.status}, not {status}, after 10 s")

        # The worker posted it, got the 500, and scheduled the retry in the database.
        assert settled(DeliveryStatus.RETRYING).attempts == 1
        assert len(receiver.received) == 1
        # Its wait over, the sweeper (beat's task, run here) enqueues it; the worker sends it.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=delivery.next_attempt_at - dt.timedelta(minutes=1)
        )
        assert webhook_deliveries_sweep() == 1
        assert settled(DeliveryStatus.SUCCEEDED).attempts == 2
        first, second = receiver.received
        assert first.body == second.body
        assert first.verified == second.verified == {endpoint.secret: True}
    finally:
        server.shutdown()
        server.server_close()
