from django.views.generic import DetailView, ListView

from ppc_dashboard.tenancy.pages import TenantPageMixin

from .filters import CallFilter
from .models import Call, CallStatus, Campaign


class CallListView(TenantPageMixin, ListView):
    """The call log, newest first, with the same filters as the API."""

    template_name = "calls/call_list.html"
    paginate_by = 50
    context_object_name = "calls"

    def get_queryset(self):
        self.request.tenant_tz = self.organization.tzinfo
        queryset = (
            self.tenant_queryset(Call)
            .select_related("campaign", "publisher", "buyer")
            .order_by("-started_at", "-id")
        )
        self.filterset = CallFilter(self.request.GET, queryset=queryset, request=self.request)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["campaigns"] = self.tenant_queryset(Campaign).only("id", "name")
        context["statuses"] = CallStatus.choices
        context["has_any_call"] = self.tenant_queryset(Call).exists()
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        return context


class CallDetailView(TenantPageMixin, DetailView):
    template_name = "calls/call_detail.html"
    context_object_name = "call"

    def get_queryset(self):
        return self.tenant_queryset(Call).select_related(
            "campaign", "publisher", "buyer", "tracking_number"
        )
