"""The weekly report as a print-friendly page, a CSV and an XLSX download, for the filters in
the query string (default: the last full local week), for members of the tenant only; and the
report mails' unsubscribe link, for whoever holds the mail."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from calls.models import Vertical
from calls.selectors import filter_choices
from kpis.pages.page_data import verdict_groups
from kpis.pages.page_filters import RANGE_PRESETS, PageFilters
from kpis.pages.us_states import STATE_NAMES
from kpis.selectors import report_tag_keys
from ppc_dashboard.tenancy.pages import TenantPageMixin

from .subscriptions import UnsubscribeTokenInvalid, report_subscription_for_token
from .weekly import (
    XLSX_CONTENT_TYPE,
    WeeklyReport,
    report_csv,
    report_filename,
    report_filters_from_query,
    report_summary_lines,
    report_tables,
    report_xlsx,
    weekly_report_data,
)


class WeeklyReportMixin(TenantPageMixin):
    """Ids of another tenant (or of nothing) are kept in the filter, not dropped: the
    selectors then answer no rows, where falling back to "all" would report other numbers
    than the ones asked for."""

    def page_filters(self) -> PageFilters:
        today = self.organization.local_today()
        return report_filters_from_query(self.request.GET, self.organization, today=today)

    def weekly_report(self, page_filters: PageFilters) -> WeeklyReport:
        return weekly_report_data(self.organization, page_filters.kpi_filter)


class WeeklyReportPageView(WeeklyReportMixin, TemplateView):
    template_name = "kpis/report_print.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page_filters = self.page_filters()
        report = self.weekly_report(page_filters)
        context.update(
            page_filters=page_filters,
            report=report,
            summary=report_summary_lines(report),
            tables=report_tables(report),
            verdict_groups=verdict_groups(report.verdicts.campaigns, report.verdicts.publishers),
            # The shared filter bar (templates/partials/filter_bar.html) and the nav links.
            filters=page_filters,
            choices=filter_choices(self.organization),
            range_presets=RANGE_PRESETS,
            verticals=Vertical.choices,
            show_campaign_filter=True,
            nav_query=page_filters.query_string(),
            report_tags=report_tag_keys(self.organization),
            us_state_codes=sorted(STATE_NAMES),
        )
        return context


class _WeeklyReportDownloadView(WeeklyReportMixin, View):
    extension = ""
    content_type = ""

    def render(self, report: WeeklyReport) -> str | bytes:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        page_filters = self.page_filters()
        if page_filters.errors:
            # A file for other filters than asked would be read as the asked ones: refuse.
            problems = "\n".join(f"{name}: {error}" for name, error in page_filters.errors.items())
            return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
        report = self.weekly_report(page_filters)
        response = HttpResponse(self.render(report), content_type=self.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=report_filename(report, self.extension)
        )
        return response


class WeeklyReportCsvView(_WeeklyReportDownloadView):
    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def render(self, report: WeeklyReport) -> str:
        return report_csv(report)


class WeeklyReportXlsxView(_WeeklyReportDownloadView):
    extension = "xlsx"
    content_type = XLSX_CONTENT_TYPE

    def render(self, report: WeeklyReport) -> bytes:
        return report_xlsx(report)


@method_decorator(csrf_exempt, name="dispatch")
class ReportUnsubscribeLinkView(View):
    """/reports/unsubscribe/<token>/, the link in every report mail: no login, the signed
    token says which subscription (kpis.reports.subscriptions). A GET asks (mail scanners open
    links), a POST stops the report. CSRF-exempt for RFC 8058's one-click POST from mail
    clients: a forged request would need the token, which is the whole secret."""

    template_name = "kpis/report_unsubscribe.html"

    def dispatch(self, request, token: str):
        try:
            self.subscription = report_subscription_for_token(token)
        except UnsubscribeTokenInvalid:
            response = render(request, self.template_name, {"state": "invalid"}, status=400)
        else:
            response = super().dispatch(request, token)
        add_never_cache_headers(response)  # the page carries the link's secret in its URL
        return response

    def get(self, request, token: str):
        state = "ask" if self.subscription is not None else "done"
        return render(request, self.template_name, {"state": state, "s": self.subscription})

    def post(self, request, token: str):
        if self.subscription is not None:
            self.subscription.delete()
        return render(request, self.template_name, {"state": "done"})
