"""/healthz and /readyz, and what writes do when the broker is down (issue 12, "Faults" 2)."""

from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from kpis.models import DirtyDay
from ops.models import WorkerHeartbeat
from ops.tasks import worker_heartbeat_task
from ppc_dashboard.celery import app as celery_app

CLOSED_PORT = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there


def test_healthz_answers_without_touching_any_dependency(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_every_dependency(client, db, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    checks = body["checks"]
    assert checks["database"]["ok"] is True and checks["database"]["ms"] >= 0
    # The embedded default: no Redis, no worker, tasks in the web process.
    assert checks["redis"]["ok"] is None and checks["worker"]["ok"] is None
    assert checks["rollups"] == {"ok": True, "detail": "", "oldest_pending_since": None, "age_s": 0}


def test_readyz_is_503_when_the_database_is_down(client, db):
    from django.db import connection

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    with mock.patch.object(connection, "cursor", down):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "detail": "database unreachable: OperationalError",
    }


def test_readyz_stays_ready_with_redis_down_and_says_so(client, db, settings):
    settings.REDIS_URL = CLOSED_PORT
    response = client.get("/readyz")
    # The web keeps serving with Redis down: reported, not a reason to leave the balancer.
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["detail"].startswith("Redis unreachable")


def test_readyz_reports_a_silent_worker_and_stale_rollups(client, org, settings):
    settings.REDIS_URL = CLOSED_PORT
    now = timezone.now()
    WorkerHeartbeat.objects.create(hostname="w1", last_seen=now - dt.timedelta(minutes=2))
    DirtyDay.objects.create(
        organization=org, day=dt.date(2026, 11, 2), pending_since=now - dt.timedelta(minutes=3)
    )
    checks = client.get("/readyz").json()["checks"]
    assert checks["worker"]["ok"] is False
    assert checks["worker"]["detail"].startswith("no worker heartbeat for 1")
    assert checks["rollups"]["ok"] is False
    assert checks["rollups"]["detail"].startswith("KPIs wait 1")


def test_the_heartbeat_task_records_this_worker(db):
    worker_heartbeat_task()
    beat = WorkerHeartbeat.objects.get()
    assert (timezone.now() - beat.last_seen).total_seconds() < 5
    worker_heartbeat_task()
    assert WorkerHeartbeat.objects.count() == 1


def test_beat_sends_the_heartbeat_every_30_seconds(settings):
    assert settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"] == {
        "task": "ops.tasks.worker_heartbeat_task",
        "schedule": 30.0,
    }


@pytest.fixture
def broker_down():
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=CLOSED_PORT, task_always_eager=False)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.update(**saved)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_call_posted_with_the_broker_down_is_written_and_left_to_beat(
    api_client, org, broker_down, caplog, django_capture_on_commit_callbacks
):
    from tests.factories import CampaignFactory

    CampaignFactory(organization=org, name="Auto")
    item = {
        "external_id": "while-redis-is-down",
        "campaign_name": "Auto",
        "started_at": "2026-11-02T15:00:00Z",
        "status": "answered",
        "duration_seconds": 120,
    }
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/calls/", item, format="json")
    # The truth: the call is written and its day marked for beat's safety net.
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1, "updated": 0}
    assert DirtyDay.objects.filter(organization=org, day=dt.date(2026, 11, 2)).exists()
    assert "could not enqueue kpis.tasks.rollups_refresh_task" in caplog.text


def test_health_checks_answer_over_http_on_any_host_in_production_settings(client, db, settings):
    # The balancer calls http://10.0.0.5:8000/readyz: no https redirect, no host check.
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["calls.example.com"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.0.5:8000")
        assert response.status_code == 200, path
    assert client.get("/", HTTP_HOST="10.0.0.5:8000").status_code == 400  # others are checked
