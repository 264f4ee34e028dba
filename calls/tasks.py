from celery import shared_task

from .services import (
    CALL_IMPORT_TASK,
    CALL_IMPORTS_SWEEP_TASK,
    call_import_run_claimed,
    call_imports_sweep,
    twilio_callbacks_prune,
)


@shared_task(name=CALL_IMPORT_TASK, acks_late=True)
def call_import_task(call_import_id: int) -> None:
    call_import_run_claimed(call_import_id=call_import_id)


@shared_task(name=CALL_IMPORTS_SWEEP_TASK)
def call_imports_sweep_task() -> tuple[int, int]:
    """Beat: restart or fail the imports whose heartbeat stopped."""
    return call_imports_sweep()


@shared_task
def twilio_callbacks_prune_task() -> int:
    """Beat, hourly: Twilio callback facts kept TWILIO_CALLBACK_DAYS after a call's last one."""
    return twilio_callbacks_prune()
