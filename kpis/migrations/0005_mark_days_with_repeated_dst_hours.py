"""Mark the days whose hourly rollups hold the hour a DST change repeats twice.

Before, PostgreSQL grouped the hourly rollups by instant, so the repeated hour was two
rows; it is now one wall-clock row (as on SQLite), which the velocity spikes rely on. The
next refresh recomputes the marked days.
"""

from django.db import migrations


def mark_days(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite always grouped by wall-clock hour
    schema_editor.execute(
        "INSERT INTO kpis_dirtyday (organization_id, day, version, marked_at) "
        "SELECT DISTINCT organization_id, day, 1, CURRENT_TIMESTAMP FROM kpis_callrolluphourly "
        "GROUP BY organization_id, day, hour, campaign_id, publisher_id HAVING COUNT(*) > 1 "
        "ON CONFLICT (organization_id, day) DO UPDATE "
        "SET version = kpis_dirtyday.version + 1, marked_at = CURRENT_TIMESTAMP"
    )


class Migration(migrations.Migration):
    dependencies = [("kpis", "0004_hourly_campaign_rollup_velocity_spikes")]

    operations = [migrations.RunPython(mark_days, migrations.RunPython.noop)]
