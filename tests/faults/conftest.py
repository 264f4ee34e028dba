"""What the faults suite shares: calls that are the same whoever posts them, and checks that
nothing acknowledged is lost, nothing is counted twice and the KPIs catch up by themselves."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable

import httpx

from calls.models import Call

# Every call starts on this day (UTC); the KPI checks read the days around it.
CALL_DAY = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
KPI_RANGE = {"date_from": "2026-11-01", "date_to": "2026-11-03"}


def call_item(number: int, campaign: str = "Faults") -> dict:
    """Call `number`, always the same: a re-post of it changes nothing."""
    return {
        "external_id": f"fault-{number:06d}",
        "campaign_name": campaign,
        "publisher_name": f"Publisher {number % 7}",
        # Shared callers, so that repeat flags are re-derived across batches too.
        "caller_number": f"+1312555{number % 50:04d}",
        "started_at": (CALL_DAY + dt.timedelta(seconds=37 * number)).isoformat(),
        "status": "answered" if number % 4 else "missed",
        "duration_seconds": 90 + number % 60 if number % 4 else 0,
        "converted": number % 10 == 0,
        "revenue": "25.00" if number % 10 == 0 else "0",
    }


def stored_external_ids(organization) -> list[str]:
    return list(Call.objects.for_organization(organization).values_list("external_id", flat=True))


def assert_stored_once(organization, acknowledged: Iterable[str]) -> list[str]:
    """Every acknowledged call is stored, each exactly once; returns what is stored."""
    stored = stored_external_ids(organization)
    assert len(stored) == len(set(stored)), "a call is stored twice"
    missing = set(acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged calls were lost: {sorted(missing)[:5]}"
    return stored


def wait_until(check: Callable[[], object], timeout: float, step: float = 0.5) -> object:
    """Poll `check` until it returns something true; that value, or the last one at timeout."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = check()
    return value


def kpis_fresh_totals(client: httpx.Client) -> dict | None:
    """The KPI totals once no write is waiting to be reflected in them, else None."""
    response = client.get("/api/v1/kpis/", params=KPI_RANGE)
    if response.status_code != 200:
        return None
    body = response.json()
    if body["freshness"]["pending"]:
        return None
    return body["totals"]


def assert_kpis_count_each_call_once(client: httpx.Client, stored: list[str], timeout: float):
    """The KPIs become fresh by themselves and count every stored call once."""
    totals = wait_until(lambda: kpis_fresh_totals(client), timeout)
    assert totals, f"the KPIs were still not fresh after {timeout:.0f} s"
    assert totals["calls"] == len(stored), totals
    numbers = [int(external_id.split("-")[1]) for external_id in stored]
    assert totals["conversions"] == sum(1 for n in numbers if n % 10 == 0), totals


NATIVE_COLUMNS = [
    "external_id",
    "campaign_name",
    "publisher_name",
    "caller_number",
    "started_at",
    "status",
    "duration_seconds",
    "converted",
    "revenue",
]


def native_csv(numbers: Iterable[int], bad: Iterable[int] = ()) -> bytes:
    """A `native` import of calls `numbers` (as `call_item`); rows of `bad` have a bad date."""
    bad = set(bad)
    lines = [",".join(NATIVE_COLUMNS)]
    for number in numbers:
        item = call_item(number)
        if number in bad:
            item["started_at"] = "not a date"
        lines.append(",".join(str(item[column]) for column in NATIVE_COLUMNS))
    return ("\n".join(lines) + "\n").encode()
