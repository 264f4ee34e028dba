"""The embedded default (SQLite), each test in a process of its own on a SQLite file, since
the test run's database is PostgreSQL.

Under two writers at once (issue 10: every Twilio callback during an import got HTTP 500
"database is locked" and was lost), WAL, a busy timeout and IMMEDIATE transactions make the
second writer wait for the first instead of failing. The SQLite upsert (executemany) stores
what bulk_create stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def run_on_sqlite(script: str, tmp_path: Path) -> dict:
    """Run tests/calls/<script> against a fresh SQLite file; its last stdout line, as JSON."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(script))],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_second_writer_waits_for_a_long_write_transaction_instead_of_failing(tmp_path):
    result = run_on_sqlite("sqlite_writers.py", tmp_path)

    assert result["journal_mode"] == "wal"
    assert result["ingest"] is True
    assert result["twilio"] == 204
    # Each waited for the long transaction to commit, then wrote.
    assert result["ingest_after_long_writer"] and result["twilio_after_long_writer"]
    assert result["calls"] == ["CA22222222222222222222222222222222", "a", "b"]


def test_sqlite_upsert_stores_what_bulk_create_stored(tmp_path):
    stored = run_on_sqlite("sqlite_upsert.py", tmp_path)

    assert len(stored["orm"]) == 13
    assert stored["sqlite"] == stored["orm"]
