"""Celery app. With no REDIS_URL, settings make every task run eagerly in-process."""

import logging
import os

from celery import Celery
from celery.worker.consumer import Consumer

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppc_dashboard.settings")

app = Celery("ppc_dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Packages inside an app hold tasks too.
app.autodiscover_tasks(["kpis.reports"])


def task_enqueue(name: str, *args: object, countdown: float | None = None) -> bool:
    """Enqueue a registered task by its name; False when the broker could not take it.

    Services enqueue through this rather than importing their task modules, which import the
    services: task modules stay leaves. Each app imports its tasks when it loads (its
    AppConfig.ready), so the name is registered in the web process too, where eager mode
    (no REDIS_URL) runs the task in place.

    A broker that is down is logged, not raised: what the task would do is already recorded
    in the database (dirty marks, a pending import) for beat's safety nets, and the request
    that wrote it must not turn into a 500 after its data committed.
    """
    task = app.tasks[name]
    if app.conf.task_always_eager:
        task.apply_async(args, countdown=countdown)  # in place: its errors are the caller's
        return True
    try:
        task.apply_async(args, countdown=countdown, retry=False)
    except Exception:
        logger.exception("could not enqueue %s%r: the broker is unreachable", name, args)
        return False
    return True


class BrokerLossSurvivingConsumer(Consumer):
    """The worker's consumer (`worker_consumer`), surviving Redis dropping while it holds
    unacknowledged tasks (a countdown refresh, a running import).

    On a lost connection Celery collects the broken connection, then closes it; the redis
    transport's close then tries to hand the held messages back through a connection already
    torn down and raises AttributeError, which no handler expects: "Unrecoverable error", the
    worker exits and KPIs stop refreshing (kombu 5.x). What failed is only that hand-back:
    the connection is gone either way, so the consumer goes on to reconnect. The messages
    stay in Redis's unacknowledged set, which hands them out again after the visibility
    timeout (if Redis kept them), and beat's safety nets redo their work in any case.
    """

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except Exception:
            logger.warning(
                "the broken broker connection could not be closed cleanly; reconnecting",
                exc_info=True,
            )
            self.connection = None
