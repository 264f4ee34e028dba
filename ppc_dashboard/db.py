"""Database helpers that every app's raw SQL shares (this module imports no app)."""

from __future__ import annotations

import datetime as dt

from django.db import connection


def db_datetime(value: dt.datetime) -> object:
    """A datetime as the ORM would send it in raw SQL (SQLite: naive UTC text, as stored)."""
    return connection.ops.adapt_datetimefield_value(value)
