"""The scheduled reports: each ReportSubscription gets its report (its saved filters) by email,
XLSX attached, from 08:00 in the tenant's time zone: daily ones yesterday's, weekly ones last
week's (Monday to Sunday) on Mondays.

The beat task runs hourly and calls `reports_send_due(now)`. A period is sent at most once per
subscription: `last_sent_from` (the period's first local day) is claimed with one conditional
UPDATE before the mail goes out, so two overlapping runs cannot both send; a send that fails
gives its claim back, so the next hourly run retries it. Any run later on the same local day
catches up what an earlier one missed (beat down at 08:00, a failed send); from the next day
that period is no longer sent (a daily subscription gets the next day's instead).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse

from kpis.models import ReportFrequency, ReportSubscription
from kpis.pages.page_filters import page_filters_from_query
from kpis.selectors import KpiFilter
from ppc_dashboard.tenancy.models import Membership, Organization

from .subscriptions import report_unsubscribe_token
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

SEND_WEEKDAY = 0  # Monday, for weekly reports
SEND_HOUR = 8  # local time of the organization


def report_period_due(
    now: dt.datetime, organization: Organization, frequency: ReportFrequency | str
) -> tuple[dt.date, dt.date] | None:
    """The first and last local day of the report due at `now` (aware) for this tenant, or
    None: daily, yesterday's from 08:00 until midnight local; weekly, the last full week's
    (Monday to Sunday) on Monday from 08:00 until midnight local."""
    local = now.astimezone(organization.tzinfo)
    if local.hour < SEND_HOUR:
        return None
    if frequency == ReportFrequency.DAILY:
        yesterday = local.date() - dt.timedelta(days=1)
        return yesterday, yesterday
    if local.weekday() != SEND_WEEKDAY:
        return None
    return last_full_week(local.date())


def subscription_report_filter(
    subscription: ReportSubscription, first_day: dt.date, last_day: dt.date
) -> KpiFilter:
    """The subscription's saved filters over its period (its range, if it saved one, is
    replaced: a mail always covers one full day or week)."""
    query = QueryDict(subscription.filters, mutable=True)
    query["range"] = "custom"
    query["date_from"] = first_day.isoformat()
    query["date_to"] = last_day.isoformat()
    page_filters = page_filters_from_query(query, subscription.organization)
    if page_filters.errors:
        logger.warning(
            "Report subscription %s: ignored saved filters %s",
            subscription.pk,
            page_filters.errors,
        )
    return page_filters.kpi_filter


def _period_not_sent(first_day: dt.date) -> Q:
    return Q(last_sent_from__isnull=True) | Q(last_sent_from__lt=first_day)


def report_subscription_claim(*, subscription_id: int, first_day: dt.date) -> bool:
    """Mark the period starting `first_day` as sent if no run has yet; True if this caller
    won the claim.

    One conditional UPDATE: of two runs racing for the same subscription, exactly one sees
    its row updated.
    """
    claimed = (
        ReportSubscription.objects.filter(pk=subscription_id)
        .filter(_period_not_sent(first_day))
        .update(last_sent_from=first_day)
    )
    return claimed == 1


def _release_claim(subscription_id: int, first_day: dt.date, previous: dt.date | None) -> None:
    ReportSubscription.objects.filter(pk=subscription_id, last_sent_from=first_day).update(
        last_sent_from=previous
    )


def report_unsubscribe_url(subscription: ReportSubscription) -> str:
    token = report_unsubscribe_token(subscription)
    return settings.SITE_URL.rstrip("/") + reverse("report-unsubscribe", args=[token])


def report_message(
    report: WeeklyReport, subscription: ReportSubscription, frequency: ReportFrequency | str
) -> EmailMessage:
    organization = report.organization
    period = period_text(report.filters)
    kind = "Daily" if frequency == ReportFrequency.DAILY else "Weekly"
    lines = [
        f"{kind} report for {organization.name}, {period} ({organization.timezone}).",
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
    unsubscribe = report_unsubscribe_url(subscription)
    lines += [
        "",
        "The attached workbook has the breakdowns by campaign, publisher, buyer and day, and "
        "charts of the daily trend and the publishers' conversion.",
        "",
        f"To stop receiving this report: {unsubscribe}",
    ]
    message = EmailMessage(
        subject=f"{kind} report: {organization.name}, {period}",
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscription.recipient],
        # RFC 8058 one-click unsubscribe: mail clients offer it, and POST the link.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach(report_filename(report, "xlsx"), report_xlsx(report), XLSX_CONTENT_TYPE)
    return message


def _organizations_with_subscriptions():
    return Organization.objects.filter(
        id__in=ReportSubscription.objects.values("organization_id")
    ).order_by("id")


def _subscriptions_due(organization: Organization, frequency: str, first_day: dt.date):
    members = Membership.objects.for_organization(organization).values("user_id")
    return (
        ReportSubscription.objects.for_organization(organization)
        .filter(frequency=frequency)
        .filter(_period_not_sent(first_day))
        # A member who left the organization no longer receives its numbers; an address
        # outside it was subscribed as such.
        .filter(Q(user__isnull=True) | Q(user_id__in=members))
        .exclude(user__email="")
        .select_related("organization", "user")
        .order_by("id")
    )


def reports_send_due(now: dt.datetime) -> int:
    """Send every report due at `now` (aware), daily and weekly; returns how many mails went
    out."""
    sent = 0
    for organization in _organizations_with_subscriptions():
        for frequency in ReportFrequency:
            period = report_period_due(now, organization, frequency)
            if period is None:
                continue
            sent += _send_period(organization, frequency, *period)
    return sent


def _send_period(
    organization: Organization, frequency: ReportFrequency, first_day: dt.date, last_day: dt.date
) -> int:
    sent = 0
    reports: dict[str, WeeklyReport] = {}  # subscribers with the same filters share one
    for subscription in _subscriptions_due(organization, frequency, first_day):
        if not report_subscription_claim(subscription_id=subscription.pk, first_day=first_day):
            continue  # another run sent it
        try:
            if subscription.filters not in reports:
                kpi_filter = subscription_report_filter(subscription, first_day, last_day)
                reports[subscription.filters] = weekly_report_data(organization, kpi_filter)
            report_message(reports[subscription.filters], subscription, frequency).send()
        except Exception:
            logger.exception(
                "%s report of subscription %s (organization %s) failed; will retry",
                frequency.label,
                subscription.pk,
                organization.pk,
            )
            _release_claim(subscription.pk, first_day, subscription.last_sent_from)
            continue
        sent += 1
    return sent
