import datetime as dt
import zoneinfo
from functools import lru_cache

from django.apps import AppConfig
from django.db.backends.signals import connection_created


@lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _local(value: str | None, tz_name: str) -> dt.datetime | None:
    if value is None:
        return None
    instant = dt.datetime.fromisoformat(value)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)  # Django stores UTC in SQLite
    return instant.astimezone(_zone(tz_name))


def ppc_local_date(value: str | None, tz_name: str) -> str | None:
    local = _local(value, tz_name)
    return local.date().isoformat() if local else None


def ppc_local_hour(value: str | None, tz_name: str) -> int | None:
    local = _local(value, tz_name)
    return local.hour if local else None


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """The SQLite twins of PostgreSQL's AT TIME ZONE, so rollup SQL runs on both."""
    if connection.vendor == "sqlite":
        for name, function in (
            ("ppc_local_date", ppc_local_date),
            ("ppc_local_hour", ppc_local_hour),
        ):
            connection.connection.create_function(name, 2, function, deterministic=True)


class KpisConfig(AppConfig):
    name = "kpis"

    def ready(self) -> None:
        connection_created.connect(register_sqlite_functions)
        # Connects the receivers; registers the tasks that services enqueue by name.
        from . import receivers, tasks  # noqa: F401
