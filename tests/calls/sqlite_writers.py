"""Two writers on the embedded SQLite at once; run by test_sqlite_concurrency.py in a process
of its own (DATABASE_URL=sqlite:///<file>), since the test run's database is PostgreSQL.

One thread holds a write transaction open for HOLD_SECONDS; meanwhile the main thread
posts a call through the ingest service and a Twilio status callback through the test
client. Prints one JSON line: what each writer got and when it finished.
"""

from __future__ import annotations

import json
import os
import threading
import time

import django

HOLD_SECONDS = 1.5


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppc_dashboard.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from twilio.request_validator import RequestValidator

    from calls.ingest import call_ingest_batch
    from calls.models import Call, Campaign
    from ppc_dashboard.tenancy.models import Organization

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    org = Organization.objects.create(
        name="Embedded", slug="embedded", twilio_auth_token="tok", timezone="UTC"
    )
    campaign = Campaign.objects.create(organization=org, name="Auto")
    item = {
        "campaign_id": campaign.pk,
        "started_at": "2026-11-02T15:00:00Z",
        "status": "answered",
        "duration_seconds": 60,
    }
    item_b = item | {"external_id": "b"}
    holding = threading.Event()
    result: dict[str, object] = {"long_writer_done": float("inf")}

    def long_writer() -> None:
        try:
            with transaction.atomic():
                result["long_writer_done"] = float("inf")
                assert call_ingest_batch(organization=org, items=[item | {"external_id": "a"}]).ok
                holding.set()
                time.sleep(HOLD_SECONDS)
                result["long_writer_done"] = time.monotonic()  # it commits next
        finally:
            connection.close()

    def twilio_callback() -> object:
        params = {
            "AccountSid": "AC00000000000000000000000000000000",
            "CallSid": "CA22222222222222222222222222222222",
            "CallStatus": "completed",
            "CallDuration": "95",
            "From": "+13125550100",
            "To": "+18885550123",
            "Direction": "inbound",
            "Timestamp": "Mon, 02 Nov 2026 15:06:00 +0000",
            "SequenceNumber": "3",
        }
        url = f"http://testserver/hooks/twilio/{org.webhook_token}/"
        signature = RequestValidator("tok").compute_signature(url, params)
        return Client().post(url, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code

    for name, write in (
        ("ingest", lambda: call_ingest_batch(organization=org, items=[item_b]).ok),
        ("twilio", twilio_callback),
    ):
        thread = threading.Thread(target=long_writer)
        holding.clear()
        thread.start()
        holding.wait()
        try:
            result[name] = write()
        except Exception as exc:
            result[name] = f"{type(exc).__name__}: {exc}"
        finished = time.monotonic()
        thread.join()
        result[f"{name}_after_long_writer"] = finished >= result["long_writer_done"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        result["journal_mode"] = cursor.fetchone()[0]
    result["calls"] = sorted(Call.objects.values_list("external_id", flat=True))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
