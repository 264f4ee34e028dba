"""Writes of ops: the worker heartbeat."""

from __future__ import annotations

import socket

from django.utils import timezone

from .models import WorkerHeartbeat


def worker_heartbeat_record(hostname: str | None = None) -> None:
    """This worker is alive now (run by the beat-scheduled heartbeat task)."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname or socket.gethostname(), defaults={"last_seen": timezone.now()}
    )
