"""PostgreSQL connections dropped (pg_terminate_backend, as a restart does) while clients
post batches: a request may fail (it must not claim success), the client sends it again, and
in the end every acknowledged call is stored once and the KPIs catch up by themselves.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from django.db import connection

from .conftest import (
    REQUIRES_STACK,
    assert_kpis_count_each_call_once,
    assert_stored_once,
    call_item,
)
from .stack import terminate_database_connections

pytestmark = REQUIRES_STACK
CLIENTS = 4
BATCHES = 12
BATCH = 100
DROPS = 6
ATTEMPTS = 8


@pytest.mark.django_db(transaction=True)
def test_connections_dropped_mid_stream_lose_nothing_acknowledged(stack, live_server):
    stack.celery.worker()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_backend = cursor.fetchone()[0]
    key = stack.api.headers["X-Api-Key"]
    acknowledged: set[str] = set()
    refusals: list[str] = []
    given_up: list[int] = []
    lock = threading.Lock()
    posting = threading.Event()

    def client(index: int) -> None:
        # Overlapping batches: each client's calls share half their numbers with the next's.
        with httpx.Client(base_url=live_server.url, headers={"X-Api-Key": key}, timeout=60) as http:
            posting.set()
            for batch_number in range(BATCHES):
                first = (index * BATCHES + batch_number) * BATCH // 2
                batch = [call_item(n) for n in range(first, first + BATCH)]
                for _ in range(ATTEMPTS):
                    try:
                        response = http.post("/api/v1/calls/?create_missing=true", json=batch)
                    except httpx.HTTPError as exc:
                        with lock:
                            refusals.append(type(exc).__name__)
                        continue
                    if response.status_code == 201:
                        with lock:
                            acknowledged.update(item["external_id"] for item in batch)
                        break
                    with lock:
                        refusals.append(
                            f"{response.status_code} {response.headers.get('Content-Type')}"
                        )
                    time.sleep(0.2)
                else:
                    with lock:
                        given_up.append(batch_number)

    clients = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in clients:
        thread.start()
    posting.wait()
    dropped = 0
    for _ in range(DROPS):
        time.sleep(0.4)
        dropped += terminate_database_connections(connection.settings_dict, keep={own_backend})
    for thread in clients:
        thread.join()

    print(f"\n{dropped} connections dropped; {len(refusals)} refused attempts: {refusals}")
    assert dropped > 0
    assert given_up == []
    stored = assert_stored_once(stack.organization, acknowledged)
    assert len(acknowledged) == len(stored)
    assert_kpis_count_each_call_once(stack.api, stored, timeout=90)
