"""Raw SQL helpers of the rollup recompute: session settings, statements, parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection

from ppc_dashboard.tenancy.models import Organization


@contextmanager
def recompute_session(organization: Organization) -> Iterator[None]:
    """PostgreSQL settings for one recompute, local to the caller's transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # JIT compiles for longer than these scans take; 256 MB keeps the hash aggregates
        # of a month of a large tenant in memory, and the planner, which underestimates the
        # groups of a day range, would sort the calls instead of hashing them (2x slower).
        # Local dates and hours in the tenant's zone.
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '256MB', true), "
            "set_config('enable_sort', 'off', true), set_config('TimeZone', %s, true)",
            [organization.timezone],
        )
    yield
    with connection.cursor() as cursor:
        # Back to the zone Django set and to sorting, for whatever else runs in this
        # transaction.
        cursor.execute(
            "SELECT set_config('TimeZone', %s, true), set_config('enable_sort', 'on', true)",
            [connection.timezone_name or "UTC"],
        )


def recompute_execute(
    organization: Organization, statements: Iterable[str], params: dict[str, object]
) -> None:
    """Run set-based recompute statements, in order, with the recompute session settings."""
    with recompute_session(organization), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
