"""A chunked request body (Transfer-Encoding: chunked, no Content-Length) is read within the
size limit, or refused in JSON; it is never read as an empty body. Sent through real servers:
gunicorn (which decodes chunks) and Django's own server (which cannot)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from calls.models import Call
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import CallFactory, CampaignFactory, OrganizationFactory

ROOT = Path(__file__).resolve().parents[2]
BODY_LIMIT = 20_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pieces(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post_chunked(host: str, port: int, path: str, body: bytes, key: str) -> tuple[int, dict]:
    """POST with Transfer-Encoding: chunked (a generator body has no length to send)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            body=_pieces(body),
            headers={"Content-Type": "application/json", "X-Api-Key": key},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def _call(n: int) -> dict:
    return {
        "external_id": f"chunk-{n}",
        "campaign_name": "Auto",
        "started_at": "2026-11-02T15:00:00Z",
        "status": "answered",
        "duration_seconds": 95,
    }


@pytest.fixture
def tenant(transactional_db):
    organization = OrganizationFactory()
    CampaignFactory(organization=organization, name="Auto")
    _, key = api_key_create(organization=organization, name="chunked")
    return organization, key


@pytest.fixture
def gunicorn_server(tenant):
    if connection.vendor != "postgresql":
        pytest.skip("the server process needs a shared database")
    database = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": "",
        "DEBUG": "true",
        "API_MAX_BODY_BYTES": str(BODY_LIMIT),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ppc_dashboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_gunicorn_reads_a_chunked_body(gunicorn_server, tenant):
    organization, key = tenant
    body = json.dumps([_call(n) for n in range(20)]).encode()
    status, answer = post_chunked("127.0.0.1", gunicorn_server, "/api/v1/calls/", body, key)
    assert status == 201, answer
    assert answer == {"created": 20, "updated": 0}
    assert Call.objects.filter(organization=organization).count() == 20


def test_gunicorn_refuses_a_chunked_body_over_the_limit_with_413(gunicorn_server, tenant):
    organization, key = tenant
    body = json.dumps([_call(n) for n in range(400)]).encode()
    assert len(body) > BODY_LIMIT
    status, answer = post_chunked("127.0.0.1", gunicorn_server, "/api/v1/calls/", body, key)
    assert status == 413
    assert answer["code"] == "too_large"
    assert not Call.objects.filter(organization=organization).exists()


def test_a_chunked_conversion_is_read_not_taken_as_empty(gunicorn_server, tenant):
    organization, key = tenant
    CallFactory(organization=organization, external_id="c-1", converted=True)
    status, answer = post_chunked(
        "127.0.0.1", gunicorn_server, "/api/v1/calls/c-1/conversion", b'{"converted": false}', key
    )
    assert status == 200, answer
    assert answer["converted"] is False


def test_a_server_that_cannot_read_chunks_refuses_them_with_411(live_server, tenant):
    organization, key = tenant
    host, port = live_server.thread.host, live_server.thread.port
    body = json.dumps(_call(1)).encode()
    status, answer = post_chunked(host, port, "/api/v1/calls/", body, key)
    assert status == 411
    assert answer["code"] == "length_required"
    assert "Content-Length" in answer["detail"]
    assert not Call.objects.filter(organization=organization).exists()
