from django.http import HttpResponse
from django.views.generic import DetailView, ListView, View

from ppc_dashboard.tenancy.pages import TenantPageMixin

from .call_log_csv import call_log_csv_response
from .filters import CallFilter
from .models import Call, CallStatus
from .selectors import filter_choices


class CallLogMixin(TenantPageMixin):
    """The call log's rows: the tenant's calls, newest first, narrowed by the query's filters."""

    def call_filter(self) -> CallFilter:
        calls = self.tenant_queryset(Call).order_by("-started_at", "-id")
        return CallFilter(self.request.GET, queryset=calls, request=self.request)


class CallListView(CallLogMixin, ListView):
    """The call log, newest first, with the same filters as the API.

    `?partial=1` answers only the table rows of the same filters and page: the page's script
    swaps them in every few seconds, so a live campaign can be watched.
    """

    template_name = "calls/call_list.html"
    partial_template_name = "calls/_call_rows.html"
    paginate_by = 50
    context_object_name = "calls"

    @property
    def is_partial(self) -> bool:
        return self.request.GET.get("partial") == "1"

    def get_template_names(self):
        return [self.partial_template_name if self.is_partial else self.template_name]

    def get_queryset(self):
        self.filterset = self.call_filter()
        if not self.filterset.is_valid():
            # Listing the calls without the filter the page could not read would mislead.
            return Call.objects.none()
        return self.filterset.qs.select_related("campaign", "publisher", "buyer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filters_valid"] = self.filterset.is_valid()
        if self.is_partial:
            return context
        context["filter"] = self.filterset
        context["choices"] = filter_choices(self.organization)
        context["statuses"] = CallStatus.choices
        context["selected_statuses"] = self.request.GET.getlist("status")
        context["tag_filters"] = self.request.GET.getlist("tag") or [""]
        context["has_any_call"] = self.tenant_queryset(Call).exists()
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("partial", None)
        context["query_without_page"] = query.urlencode()
        return context


class CallExportView(CallLogMixin, View):
    """The call log of these filters as CSV, streamed (calls/call_log_csv.py)."""

    def get(self, request, *args, **kwargs):
        filterset = self.call_filter()
        if not filterset.is_valid():
            # Never the whole log for a filter that could not be read.
            errors = "\n".join(f"{f}: {' '.join(e)}" for f, e in filterset.errors.items())
            return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
        return call_log_csv_response(filterset.qs, self.organization)


class CallDetailView(TenantPageMixin, DetailView):
    template_name = "calls/call_detail.html"
    context_object_name = "call"

    def get_queryset(self):
        return self.tenant_queryset(Call).select_related(
            "campaign", "publisher", "buyer", "tracking_number"
        )
