"""Building alert test data: calls at local times, rolled up the way the refresh does."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from calls.models import Call, CallStatus
from kpis.rollups import rollups_rebuild

NY = zoneinfo.ZoneInfo("America/New_York")
_counter = iter(range(1, 10**9))


def local(*args: int) -> dt.datetime:
    """An instant on the New York clock (the test tenants' zone)."""
    return dt.datetime(*args, tzinfo=NY)


def calls_add(
    campaign,
    at: dt.datetime,
    count: int,
    *,
    status: str = CallStatus.ANSWERED,
    publisher=None,
    duration: int = 120,
    revenue: str = "40.00",
    cost: str = "15.00",
    converted: bool = False,
    roll_up: bool = True,
) -> None:
    """`count` calls of the campaign starting at `at` (a second apart), then the tenant's
    rollups recomputed, as the refresh task would after the write."""
    Call.objects.bulk_create(
        Call(
            organization=campaign.organization,
            external_id=f"alert-test-{next(_counter)}",
            campaign=campaign,
            publisher=publisher,
            started_at=at + dt.timedelta(seconds=n),
            status=status,
            duration_seconds=duration if status == CallStatus.ANSWERED else 0,
            revenue=Decimal(revenue) if status == CallStatus.ANSWERED else Decimal(0),
            cost=Decimal(cost),
            converted=converted,
            caller_number=f"+1312{next(_counter) % 10**7:07d}",
        )
        for n in range(count)
    )
    if roll_up:
        rollups_rebuild(campaign.organization)
