"""Celery app. With no REDIS_URL, settings make every task run eagerly in-process."""

import logging
import os

from celery import Celery

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
