"""Imports that never stay running: a heartbeat per chunk, a checkpoint to resume from, and a
sweeper that restarts a silent import a bounded number of times, then fails it with a reason.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from calls import services
from calls.models import Call, CallImport, ImportStatus
from calls.services import call_import_create, call_import_run_claimed, call_imports_sweep

from .conftest import call_item, native_csv

ROWS = 2500  # three chunks of IMPORT_CHUNK_ROWS (1,000)
BAD = {17, 1400, 2450}
REAL_UPSERT = services.call_records_upsert


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no `except` catches it."""


def _pending_import(org, rows: int = ROWS, bad=BAD) -> CallImport:
    upload = ContentFile(native_csv(range(rows), bad=bad), name="calls.csv")
    return call_import_create(
        organization=org, upload=upload, import_format="native", create_missing=True
    )


def _killed_in_chunk(monkeypatch, chunk_number: int) -> list[int]:
    """The upsert dies in chunk `chunk_number`; returns the sizes of the chunks written."""
    written: list[int] = []

    def upsert(**kwargs):
        if len(written) + 1 == chunk_number:
            raise WorkerKilled
        written.append(len(kwargs["records"]))
        return REAL_UPSERT(**kwargs)

    monkeypatch.setattr(services, "call_records_upsert", upsert)
    return written


def _written_rows(monkeypatch) -> list[int]:
    written: list[int] = []

    def upsert(**kwargs):
        written.append(len(kwargs["records"]))
        return REAL_UPSERT(**kwargs)

    monkeypatch.setattr(services, "call_records_upsert", upsert)
    return written


def test_each_chunk_leaves_a_heartbeat_and_a_checkpoint(org, monkeypatch):
    call_import = _pending_import(org)
    before = timezone.now()
    _killed_in_chunk(monkeypatch, 3)
    with pytest.raises(WorkerKilled):
        call_import_run_claimed(call_import_id=call_import.pk)
    stopped = CallImport.objects.get(pk=call_import.pk)
    assert stopped.status == ImportStatus.RUNNING
    assert stopped.heartbeat_at >= before
    # Two chunks of 1,000 good rows, and the 2 bad rows among them, are stored.
    assert stopped.rows_checkpoint == stopped.rows_done == 2002
    assert stopped.rows_imported == 2000
    assert stopped.rows_failed == 2
    assert [e["row"] for e in stopped.errors] == [17 + 2, 1400 + 2]


def test_a_stopped_import_resumes_after_its_checkpoint_and_counts_each_row_once(org, monkeypatch):
    call_import = _pending_import(org)
    _killed_in_chunk(monkeypatch, 2)
    with pytest.raises(WorkerKilled):
        call_import_run_claimed(call_import_id=call_import.pk)
    written = _written_rows(monkeypatch)
    done = call_import_run_claimed(call_import_id=call_import.pk)
    assert done is not None and done.status == ImportStatus.DONE
    # The first chunk (1,000 good rows and a bad one) is not written again.
    assert sum(written) == ROWS - len(BAD) - 1000
    assert (done.rows_total, done.rows_done) == (ROWS, ROWS)
    assert (done.rows_imported, done.rows_failed) == (ROWS - len(BAD), len(BAD))
    assert sorted(e["row"] for e in done.errors) == sorted(n + 2 for n in BAD)
    assert Call.objects.for_organization(org).count() == ROWS - len(BAD)
    assert done.rows_checkpoint == 0  # finished: a deliberate re-run reads the whole file


def test_a_resumed_import_counts_distinct_calls_and_flags_repeats_as_one_run_would(
    org, other_org, monkeypatch
):
    # Rows 1,501-1,502 repeat calls 5 (before the checkpoint) and 1,200 (after it); the
    # callers call every 31 minutes, so the calls of the first chunk are repeats of each other.
    numbers = [*range(1500), 5, 1200]
    content = native_csv(numbers)

    def run(organization, killed_in_chunk=None):
        call_import = call_import_create(
            organization=organization,
            upload=ContentFile(content, name="calls.csv"),
            import_format="native",
            create_missing=True,
        )
        if killed_in_chunk:
            _killed_in_chunk(monkeypatch, killed_in_chunk)
            with pytest.raises(WorkerKilled):
                call_import_run_claimed(call_import_id=call_import.pk)
            monkeypatch.setattr(services, "call_records_upsert", REAL_UPSERT)
        return call_import_run_claimed(call_import_id=call_import.pk)

    resumed = run(org, killed_in_chunk=2)
    whole = run(other_org)
    assert (resumed.rows_imported, resumed.calls_written, resumed.rows_duplicate) == (
        1502,
        1500,
        2,
    )
    assert (whole.rows_imported, whole.calls_written, whole.rows_duplicate) == (1502, 1500, 2)

    def repeat_flags(organization):
        calls = Call.objects.for_organization(organization)
        return dict(calls.values_list("external_id", "is_repeat"))

    flags = repeat_flags(org)
    assert sum(flags.values()) > 1000  # the first chunk's calls are repeats too
    assert flags == repeat_flags(other_org)


def test_a_finished_import_handed_out_again_is_not_run_again(org, monkeypatch):
    call_import = _pending_import(org, rows=10, bad=())
    call_import_run_claimed(call_import_id=call_import.pk)
    written = _written_rows(monkeypatch)
    assert call_import_run_claimed(call_import_id=call_import.pk) is None
    assert written == []


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's advisory lock")
def test_an_import_another_worker_is_running_is_left_to_it(org, monkeypatch):
    call_import = _pending_import(org, rows=10, bad=())
    written = _written_rows(monkeypatch)
    with _other_session() as other_worker:
        other_worker.execute(
            "SELECT pg_advisory_lock(%s, %s)", [services.CALL_IMPORT_LOCK, call_import.pk]
        )
        assert call_import_run_claimed(call_import_id=call_import.pk) is None
    assert written == []
    # The other worker died (its connection closed): the import is free again.
    assert call_import_run_claimed(call_import_id=call_import.pk).status == ImportStatus.DONE


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's advisory lock")
def test_the_sweeper_leaves_a_slow_import_to_the_run_that_holds_it(org, settings):
    settings.IMPORT_STALE_SECONDS = 60
    call_import = _pending_import(org, rows=10, bad=())
    _silent(call_import, 61, status=ImportStatus.RUNNING)
    with _other_session() as other_worker:
        other_worker.execute(
            "SELECT pg_advisory_lock(%s, %s)", [services.CALL_IMPORT_LOCK, call_import.pk]
        )
        assert call_imports_sweep() == (0, 0)
    assert CallImport.objects.get(pk=call_import.pk).restarts == 0
    # Its run died (the session is gone): now the sweeper restarts it.
    assert call_imports_sweep() == (1, 0)


def _other_session() -> psycopg.Connection:
    database = connection.settings_dict
    return psycopg.connect(
        dbname=database["NAME"],
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"] or "postgres",
        autocommit=True,
    )


def _silent(call_import: CallImport, seconds: int, **fields) -> None:
    CallImport.objects.filter(pk=call_import.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=seconds), **fields
    )


def test_the_sweeper_restarts_a_silent_running_import_which_resumes(
    org, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_STALE_SECONDS = 60
    call_import = _pending_import(org)
    _killed_in_chunk(monkeypatch, 2)
    with pytest.raises(WorkerKilled):
        call_import_run_claimed(call_import_id=call_import.pk)
    written = _written_rows(monkeypatch)
    _silent(call_import, 61)
    # Eager in tests: the task the sweeper enqueues runs when its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        assert call_imports_sweep() == (1, 0)
    done = CallImport.objects.get(pk=call_import.pk)
    assert done.status == ImportStatus.DONE
    assert done.restarts == 1
    assert sum(written) == ROWS - len(BAD) - 1000
    assert done.rows_imported == Call.objects.for_organization(org).count() == ROWS - len(BAD)


def test_the_sweeper_runs_a_pending_import_whose_task_was_never_enqueued(
    org, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_STALE_SECONDS = 60
    call_import = _pending_import(org, rows=10, bad=())
    CallImport.objects.filter(pk=call_import.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=61)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert call_imports_sweep() == (1, 0)
    assert CallImport.objects.get(pk=call_import.pk).status == ImportStatus.DONE


def test_the_sweeper_leaves_live_and_finished_imports_alone(org, settings):
    settings.IMPORT_STALE_SECONDS = 60
    live = _pending_import(org, rows=10, bad=())
    _silent(live, 30, status=ImportStatus.RUNNING)
    finished = _pending_import(org, rows=10, bad=())
    _silent(finished, 600, status=ImportStatus.DONE)
    just_uploaded = _pending_import(org, rows=10, bad=())
    assert call_imports_sweep() == (0, 0)
    for call_import in (live, finished, just_uploaded):
        assert CallImport.objects.get(pk=call_import.pk).restarts == 0


def test_the_sweeper_fails_an_import_restarted_too_often_saying_why(org, settings):
    settings.IMPORT_STALE_SECONDS = 60
    settings.IMPORT_MAX_RESTARTS = 3
    call_import = _pending_import(org)
    _silent(
        call_import,
        61,
        status=ImportStatus.RUNNING,
        restarts=3,
        rows_total=ROWS,
        rows_done=1001,
        rows_imported=1000,
    )
    assert call_imports_sweep() == (0, 1)
    failed = CallImport.objects.get(pk=call_import.pk)
    assert failed.status == ImportStatus.FAILED
    assert failed.finished_at is not None
    assert "restarted 3 times" in failed.detail
    assert "after 1,001 of 2,500 rows, with 1,000 calls imported" in failed.detail
    assert "Upload the file again" in failed.detail
    assert call_imports_sweep() == (0, 0)  # failed once, and left alone


def test_the_calls_of_a_resumed_import_are_those_of_the_file(org, monkeypatch):
    call_import = _pending_import(org, rows=1200, bad=())
    _killed_in_chunk(monkeypatch, 2)
    with pytest.raises(WorkerKilled):
        call_import_run_claimed(call_import_id=call_import.pk)
    monkeypatch.undo()
    call_import_run_claimed(call_import_id=call_import.pk)
    stored = Call.objects.for_organization(org).get(external_id=call_item(1100)["external_id"])
    assert stored.duration_seconds == call_item(1100)["duration_seconds"]
