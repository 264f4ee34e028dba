"""Celery app. With no REDIS_URL, settings make every task run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppc_dashboard.settings")

app = Celery("ppc_dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Packages inside an app hold tasks too.
app.autodiscover_tasks(["kpis.reports"])


def task_enqueue(name: str, *args: object, countdown: float | None = None) -> None:
    """Enqueue a registered task by its name.

    Services enqueue through this rather than importing their task modules, which import the
    services: task modules stay leaves. Each app imports its tasks when it loads (its
    AppConfig.ready), so the name is registered in the web process too, where eager mode
    (no REDIS_URL) runs the task in place.
    """
    app.tasks[name].apply_async(args, countdown=countdown)
