"""Database helpers that every app's raw SQL shares (this module imports no app)."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from django.db import connection, transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor for the few queries asked on every ringing call (routing's plan stamp, repeat
    caller, campaign): on PostgreSQL its statements are prepared (PostgreSQL plans each once
    per connection, not on every call: planning was most of their server CPU, 0.5 against
    0.14 ms a decision). Otherwise Django's own cursor. Either way it is made by
    `connection.cursor()` (query logging, error wrapping, time zone).

    Django turns psycopg's automatic preparation off (prepare_threshold None) and binds on the
    client, which cannot prepare; this cursor binds on the server (the class Django uses when
    OPTIONS["server_side_binding"] is on) and prepares while it is open. The connection is this
    thread's own. Behind PgBouncer in transaction mode this needs max_prepared_statements."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    driver_connection = connection.connection
    client_binding = driver_connection.cursor_factory
    driver_connection.cursor_factory = ServerBindingCursor
    try:
        cursor = connection.cursor()
    finally:
        driver_connection.cursor_factory = client_binding
    threshold = driver_connection.prepare_threshold
    driver_connection.prepare_threshold = 0  # prepared on its first run on the connection
    try:
        with cursor:
            yield cursor
    finally:
        driver_connection.prepare_threshold = threshold


def db_datetime(value: dt.datetime) -> object:
    """A datetime as the ORM would send it in raw SQL (SQLite: naive UTC text, as stored)."""
    return connection.ops.adapt_datetimefield_value(value)


# SQLSTATE classes a transaction may simply be run again after: 40 (deadlock detected,
# serialization failure), 08 (connection exception) and 57P (the server terminated the
# connection: a restart, pg_terminate_backend).
TRANSIENT_SQLSTATE_PREFIXES = ("40", "08", "57P")


def is_transient_database_error(exc: BaseException) -> bool:
    """Whether `exc` (a psycopg error, or Django's wrapper of one) is worth another attempt."""
    for error in (exc, exc.__cause__):
        if isinstance(error, psycopg.errors.TransactionRollback):
            return True
        if isinstance(error, psycopg.OperationalError):
            # No SQLSTATE: the connection was already gone when the statement was sent.
            return error.sqlstate is None or error.sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES)
    return False


def atomic_retried(function: Callable[[], T], *, attempts: int = 3, what: str = "transaction") -> T:
    """Run `function` in a transaction, again (up to `attempts` times in all) when it fails
    with a deadlock, a serialization failure or a dropped connection.

    Only for work that is idempotent, as upserts by a natural key are: after a dropped
    connection nobody knows whether the COMMIT landed. Inside an outer transaction there is
    nothing to retry alone (the outer one is aborted too), so `function` runs once, in a
    savepoint.
    """
    if connection.in_atomic_block:
        with transaction.atomic():  # a savepoint: `function` may roll its own work back
            return function()
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return function()
        except Exception as exc:
            if attempt == attempts or not is_transient_database_error(exc):
                raise
            logger.warning(
                "%s failed with %s (attempt %d of %d), running it again",
                what,
                type(exc.__cause__ or exc).__name__,
                attempt,
                attempts,
            )
            # Apart again at random, so the transactions that deadlocked do not meet again.
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
