"""The scheduled weekly report: every Monday from 08:00 in the tenant's time zone, each
ReportSubscription gets last week's report (its saved filters) by email, XLSX attached.

The beat task runs hourly and calls `weekly_reports_send_due(now)`. A week is sent at most
once per subscription: `last_sent_week` (the Monday of the reported week) is claimed with one
conditional UPDATE before the mail goes out, so two overlapping runs cannot both send; a send
that fails gives its claim back, so the next hourly run retries it. Any run later on the same
Monday catches up what an earlier one missed (beat down at 08:00, a failed send); from Tuesday
the week is no longer sent.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.http import QueryDict

from kpis.models import ReportSubscription
from kpis.pages.page_filters import page_filters_from_query
from kpis.selectors import KpiFilter
from ppc_dashboard.tenancy.models import Membership, Organization

from .weekly import (
    XLSX_CONTENT_TYPE,
    WeeklyReport,
    filters_text,
    last_full_week,
    period_text,
    report_filename,
    report_summary_lines,
    report_xlsx,
    weekly_report_data,
)

logger = logging.getLogger(__name__)

SEND_WEEKDAY = 0  # Monday
SEND_HOUR = 8  # local time of the organization


def report_week_due(now: dt.datetime, organization: Organization) -> dt.date | None:
    """The Monday of the week whose report is due at `now` (aware) for this tenant, or None.

    Due on the tenant's local Monday from 08:00 until midnight; the report covers the last
    full local week (Monday to Sunday).
    """
    local = now.astimezone(organization.tzinfo)
    if local.weekday() != SEND_WEEKDAY or local.hour < SEND_HOUR:
        return None
    return last_full_week(local.date())[0]


def subscription_report_filter(subscription: ReportSubscription, week_start: dt.date) -> KpiFilter:
    """The subscription's saved filters over the week starting `week_start` (its range, if it
    saved one, is replaced: a weekly mail always covers one full week)."""
    query = QueryDict(subscription.filters, mutable=True)
    query["range"] = "custom"
    query["date_from"] = week_start.isoformat()
    query["date_to"] = (week_start + dt.timedelta(days=6)).isoformat()
    page_filters = page_filters_from_query(query, subscription.organization)
    if page_filters.errors:
        logger.warning(
            "Report subscription %s: ignored saved filters %s",
            subscription.pk,
            page_filters.errors,
        )
    return page_filters.kpi_filter


def _week_not_sent(week_start: dt.date) -> Q:
    return Q(last_sent_week__isnull=True) | Q(last_sent_week__lt=week_start)


def report_subscription_claim(*, subscription_id: int, week_start: dt.date) -> bool:
    """Mark the week as sent if no run has yet; True if this caller won the claim.

    One conditional UPDATE: of two runs racing for the same subscription, exactly one sees
    its row updated.
    """
    claimed = (
        ReportSubscription.objects.filter(pk=subscription_id)
        .filter(_week_not_sent(week_start))
        .update(last_sent_week=week_start)
    )
    return claimed == 1


def _release_claim(
    subscription_id: int, week_start: dt.date, previous_week: dt.date | None
) -> None:
    ReportSubscription.objects.filter(pk=subscription_id, last_sent_week=week_start).update(
        last_sent_week=previous_week
    )


def weekly_report_message(report: WeeklyReport, to: str) -> EmailMessage:
    organization = report.organization
    period = period_text(report.filters)
    lines = [
        f"Weekly report for {organization.name}, {period} ({organization.timezone}).",
        f"Filters: {filters_text(report)}",
        f"Compared with {period_text(report.previous_filters)}.",
        "",
    ]
    summary = report_summary_lines(report)
    width = max(len(line.header) for line in summary)
    for line in summary:
        lines.append(
            f"{line.header:<{width}}  {line.current:>14}  (previous {line.previous}, "
            f"change {line.change})"
        )
    lines += ["", "The attached workbook has the breakdowns by campaign, publisher, buyer and day."]
    message = EmailMessage(
        subject=f"Weekly report: {organization.name}, {period}",
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach(report_filename(report, "xlsx"), report_xlsx(report), XLSX_CONTENT_TYPE)
    return message


def _organizations_with_subscriptions():
    return Organization.objects.filter(
        id__in=ReportSubscription.objects.values("organization_id")
    ).order_by("id")


def weekly_reports_send_due(now: dt.datetime) -> int:
    """Send every weekly report due at `now` (aware); returns how many mails went out."""
    sent = 0
    for organization in _organizations_with_subscriptions():
        week_start = report_week_due(now, organization)
        if week_start is None:
            continue
        members = Membership.objects.for_organization(organization).values("user_id")
        subscriptions = (
            ReportSubscription.objects.for_organization(organization)
            .filter(_week_not_sent(week_start))
            # A subscriber who left the organization no longer receives its numbers.
            .filter(user_id__in=members)
            .exclude(user__email="")
            .select_related("organization", "user")
            .order_by("id")
        )
        reports: dict[str, WeeklyReport] = {}  # subscribers with the same filters share one
        for subscription in subscriptions:
            if not report_subscription_claim(
                subscription_id=subscription.pk,
                week_start=week_start,
            ):
                continue  # another run sent it
            try:
                if subscription.filters not in reports:
                    kpi_filter = subscription_report_filter(subscription, week_start)
                    reports[subscription.filters] = weekly_report_data(organization, kpi_filter)
                weekly_report_message(reports[subscription.filters], subscription.user.email).send()
            except Exception:
                logger.exception(
                    "Weekly report of subscription %s (organization %s) failed; will retry",
                    subscription.pk,
                    organization.pk,
                )
                _release_claim(subscription.pk, week_start, subscription.last_sent_week)
                continue
            sent += 1
    return sent
