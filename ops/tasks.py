"""Celery tasks of ops: thin."""

from celery import shared_task

from .services import worker_heartbeat_record

WORKER_HEARTBEAT_TASK = "ops.tasks.worker_heartbeat_task"


@shared_task(name=WORKER_HEARTBEAT_TASK, ignore_result=True)
def worker_heartbeat_task() -> None:
    worker_heartbeat_record()
