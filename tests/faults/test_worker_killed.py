"""A worker killed mid-import: the import finishes anyway, with every row once.

Killing the whole worker (SIGKILL to its process group) leaves the task unacknowledged in
Redis until the visibility timeout (30 min); killing only the pool child (the OOM killer's
way) makes Celery reject the task back to the queue. Either way the import used to stay
"running" for good. Now a restarted run resumes at its checkpoint, and beat's sweeper enqueues
again an import whose heartbeat stopped.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from calls.models import Call, CallImport, ImportStatus

from .conftest import (
    REQUIRES_STACK,
    assert_kpis_count_each_call_once,
    assert_stored_once,
    call_item,
    native_csv,
    wait_until,
)
from .stack import pool_children

pytestmark = REQUIRES_STACK
ROWS = 15_000
KILL_AFTER_ROWS = 3_000


def _start_import(stack, settings) -> int:
    settings.IMPORT_INLINE_MAX_BYTES = 1000  # a task for the worker, not the request
    response = stack.api.post(
        "/api/v1/imports/",
        data={"format": "native", "create_missing": "true"},
        files={"file": ("calls.csv", native_csv(range(ROWS)), "text/csv")},
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _import(call_import_id: int) -> CallImport:
    return CallImport.objects.get(pk=call_import_id)


def _wait_for_progress(call_import_id: int) -> CallImport:
    progressed = wait_until(
        lambda: _import(call_import_id).rows_checkpoint >= KILL_AFTER_ROWS or None,
        timeout=120,
        step=0.1,
    )
    assert progressed, f"the import did not get to row {KILL_AFTER_ROWS}: {_import(call_import_id)}"
    return _import(call_import_id)


def _assert_finished_with_every_row_once(stack, call_import_id: int) -> CallImport:
    finished = wait_until(
        lambda: _import(call_import_id).status in (ImportStatus.DONE, ImportStatus.FAILED),
        timeout=150,
    )
    call_import = _import(call_import_id)
    assert finished, f"the import is still {call_import.status} at row {call_import.rows_done}"
    assert call_import.status == ImportStatus.DONE, call_import.detail
    assert (call_import.rows_total, call_import.rows_done) == (ROWS, ROWS)
    assert (call_import.rows_imported, call_import.rows_failed) == (ROWS, 0)
    expected = [call_item(n)["external_id"] for n in range(ROWS)]
    stored = assert_stored_once(stack.organization, expected)
    assert len(stored) == ROWS
    assert_kpis_count_each_call_once(stack.api, stored, timeout=90)
    return call_import


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_is_finished_by_the_next_one(stack, settings):
    worker = stack.celery.worker()
    call_import_id = _start_import(stack, settings)
    _wait_for_progress(call_import_id)
    stack.celery.kill(worker)
    stopped = _import(call_import_id)
    assert stopped.status == ImportStatus.RUNNING
    assert KILL_AFTER_ROWS <= stopped.rows_checkpoint < ROWS
    assert Call.objects.for_organization(stack.organization).count() < ROWS

    stack.celery.worker()
    restarted_at = time.monotonic()
    done = _assert_finished_with_every_row_once(stack, call_import_id)
    print(
        f"\nimport done and KPIs fresh {time.monotonic() - restarted_at:.1f} s after a new worker"
    )
    # Redis keeps the killed worker's task for the visibility timeout: the sweeper restarted it.
    assert done.restarts >= 1


@pytest.mark.django_db(transaction=True)
def test_a_pool_child_killed_mid_import_is_finished_by_its_worker(stack, settings):
    worker = stack.celery.worker()
    call_import_id = _start_import(stack, settings)
    _wait_for_progress(call_import_id)
    (child,) = pool_children(worker)
    os.kill(child, signal.SIGKILL)

    _assert_finished_with_every_row_once(stack, call_import_id)
    assert worker.poll() is None  # the worker itself lives on, with a new pool child
