"""Celery tasks of the reports: thin wrappers around kpis.reports.mail."""

from celery import shared_task
from django.utils import timezone


# The name predates this module; beat schedules and queued messages use it.
@shared_task(name="kpis.tasks.weekly_reports_send_task", acks_late=True)
def weekly_reports_send_task() -> int:
    """Hourly: mail the reports due now (from 08:00 local: daily ones every day, weekly ones
    on Mondays)."""
    # Imported here so the report stack (openpyxl, plotly) loads only when a report is sent.
    from .mail import reports_send_due

    return reports_send_due(timezone.now())
