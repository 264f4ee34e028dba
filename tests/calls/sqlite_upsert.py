"""The SQLite upsert (executemany) against bulk_create's, on a SQLite file; run by
test_sqlite_embedded.py in a process of its own. Prints one JSON line: the calls each wrote.
"""

from __future__ import annotations

import json
import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppc_dashboard.settings")
    django.setup()
    from django.core.management import call_command

    import calls.ingest
    from calls.ingest import call_ingest_batch
    from calls.models import Call, Campaign
    from ppc_dashboard.tenancy.models import Organization
    from publishers.models import Publisher

    call_command("migrate", verbosity=0)
    first = [
        {
            "external_id": f"c{i}",
            "campaign_name": "Auto",
            "publisher_name": "Star" if i % 2 else "",
            "started_at": f"2026-11-0{1 + i % 3}T1{i % 10}:05:00-05:00",
            "status": ["answered", "missed", "no_buyer"][i % 3],
            "duration_seconds": 30 * i,
            "caller_number": f"+1312555{i:04d}" if i % 4 else "",
            "tracking_number": "+18885550100",
            "caller_region": "IL",
            "converted": i % 5 == 0,
            "revenue": f"{i}.125",
            "cost": "12.50",
            "tags": {"source": "google", "n": i, "flag": i % 2 == 0} if i % 3 else {},
        }
        for i in range(12)
    ]
    # A re-post without conversion fields keeps the stored conversion; a changed duration wins.
    second = [
        {k: v for k, v in item.items() if k not in ("converted", "revenue")}
        | {"duration_seconds": 999}
        for item in first[:6]
    ]
    second.append(first[0] | {"external_id": "late", "converted_at": "2026-11-02T12:00:00Z"})
    stored = {}
    for name, upsert in (
        ("orm", calls.ingest.upsert_calls_orm),
        ("sqlite", calls.ingest.upsert_calls_sqlite),
    ):
        org = Organization.objects.create(name=name, slug=name, timezone="America/Chicago")
        Campaign.objects.create(organization=org, name="Auto")
        Publisher.objects.create(organization=org, name="Star")
        calls.ingest.upsert_calls = upsert
        for batch in (first, second):
            result = call_ingest_batch(organization=org, items=batch)
            assert result.ok, result.errors
        stored[name] = [
            {
                key: (str(value) if value is not None else None)
                for key, value in row.items()
                if key not in {"id", "organization_id", "campaign_id", "publisher_id"}
                and key not in {"created_at", "updated_at"}
            }
            | {"campaign": row["campaign_id"] is not None}
            for row in Call.objects.filter(organization=org).order_by("external_id").values()
        ]
    print(json.dumps(stored))


if __name__ == "__main__":
    main()
