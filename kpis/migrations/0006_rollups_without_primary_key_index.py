"""Drop the primary-key index of the call rollup tables (PostgreSQL).

Rollup rows are deleted and inserted in bulk by day and read by (organization, day); nothing
looks a row up by id. The unique index on id cost about a quarter of every insert (210,009
hourly rows: 515-540 ms with it, 389-411 ms without; full rebuild of the 1M-call bench
tenant: 3.44 s -> 3.19-3.28 s). The id column and its identity
default stay, so Django's model and any row created through the ORM keep working.
"""

from django.db import migrations

ROLLUP_TABLES = [
    "kpis_callrollupdaily",
    "kpis_callrollupdailycampaignpublisher",
    "kpis_callrollupdailycampaign",
    "kpis_callrolluphourly",
    "kpis_callrolluphourlycampaign",
    "kpis_durationbucketdaily",
]


def primary_keys_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite cannot drop a primary key; the embedded default is small
    with schema_editor.connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype = 'p'",
                [table],
            )
            for (name,) in cursor.fetchall():
                schema_editor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def primary_keys_add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in ROLLUP_TABLES:
        schema_editor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0005_mark_days_with_repeated_dst_hours")]

    operations = [migrations.RunPython(primary_keys_drop, primary_keys_add)]
