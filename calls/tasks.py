from celery import shared_task

from .services import CALL_IMPORT_TASK, call_import_run


@shared_task(name=CALL_IMPORT_TASK, acks_late=True)
def call_import_task(call_import_id: int) -> None:
    call_import_run(call_import_id=call_import_id)
