"""Concurrent overlapping batches: no deadlock reaches a client, every call is stored once.

Two batches with calls in common used to lock those rows in the order each listed them, and
PostgreSQL broke the resulting deadlocks by failing one of the requests (an HTML 500). Rows
are now written in external id order, and a deadlock or serialization failure that still
happens (repeat flags, rollup marks) runs the transaction again.
"""

from __future__ import annotations

import random
import threading

import httpx
import psycopg
import pytest
from django.db import connection  # noqa: F401  (read by the skipif condition)

from calls import ingest
from ppc_dashboard.tenancy.services import api_key_create

from .conftest import assert_kpis_count_each_call_once, assert_stored_once, call_item

THREADS = 8
BATCHES_PER_THREAD = 6
POOL = 600  # calls shared by every thread
BATCH = 150

on_postgres = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="row locks and deadlocks are PostgreSQL's"
)


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_on_the_first_attempt_is_run_again_and_the_batch_lands(
    api_client, org, monkeypatch, caplog
):
    real_upsert = ingest.upsert_calls
    attempts = []

    def deadlock_once(values):
        attempts.append(len(values))
        if len(attempts) == 1:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        real_upsert(values)

    monkeypatch.setattr(ingest, "upsert_calls", deadlock_once)
    response = api_client.post(
        "/api/v1/calls/?create_missing=true", [call_item(n) for n in range(20)], format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 20, "updated": 0}
    assert attempts == [20, 20]
    assert_stored_once(org, [call_item(n)["external_id"] for n in range(20)])
    assert f"DeadlockDetected (attempt 1 of {ingest.CALL_UPSERT_ATTEMPTS})" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_every_time_is_given_up_after_a_few_attempts(api_client, org, monkeypatch):
    attempts = []

    def always_deadlocked(values):
        attempts.append(len(values))
        raise psycopg.errors.DeadlockDetected("deadlock detected")

    monkeypatch.setattr(ingest, "upsert_calls", always_deadlocked)
    api_client.raise_request_exception = False
    response = api_client.post("/api/v1/calls/?create_missing=true", [call_item(1)], format="json")
    assert response.status_code >= 500
    assert len(attempts) == ingest.CALL_UPSERT_ATTEMPTS
    assert not ingest.Call.objects.for_organization(org).exists()


def test_rows_are_written_in_external_id_order(api_client, org, monkeypatch):
    written = []
    real_upsert = ingest.upsert_calls

    def spy(values):
        written.append([row["external_id"] for row in values])
        real_upsert(values)

    monkeypatch.setattr(ingest, "upsert_calls", spy)
    numbers = list(range(40))
    random.Random(7).shuffle(numbers)
    response = api_client.post(
        "/api/v1/calls/?create_missing=true", [call_item(n) for n in numbers], format="json"
    )
    assert response.status_code == 201
    assert written == [sorted(call_item(n)["external_id"] for n in numbers)]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_eight_clients_posting_overlapping_shuffled_batches_get_no_error(live_server, org):
    _, key = api_key_create(organization=org, name="concurrent")
    statuses: list[int] = []
    errors: list[str] = []
    acknowledged: set[str] = set()
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def client_thread(seed: int) -> None:
        rng = random.Random(seed)
        batches = []
        for _ in range(BATCHES_PER_THREAD):
            numbers = rng.sample(range(POOL), BATCH)
            rng.shuffle(numbers)
            batches.append([call_item(n) for n in numbers])
        with httpx.Client(
            base_url=live_server.url, headers={"X-Api-Key": key}, timeout=120
        ) as client:
            start.wait()
            for batch in batches:
                response = client.post("/api/v1/calls/?create_missing=true", json=batch)
                with lock:
                    statuses.append(response.status_code)
                    if response.status_code == 201:
                        acknowledged.update(item["external_id"] for item in batch)
                    else:
                        errors.append(f"{response.status_code}: {response.text[:300]}")

    threads = [threading.Thread(target=client_thread, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == THREADS * BATCHES_PER_THREAD
    assert errors == []
    stored = assert_stored_once(org, acknowledged)
    assert set(stored) == acknowledged
    with httpx.Client(base_url=live_server.url, headers={"X-Api-Key": key}) as client:
        assert_kpis_count_each_call_once(client, stored, timeout=30)
