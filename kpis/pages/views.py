"""The analysis pages: overview, campaigns, publishers. Parse the shared filters, read the
KPIs through kpis.pages.page_data (selectors only), render."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.generic import TemplateView

from calls.models import Call, Campaign, Vertical
from calls.selectors import filter_choices, onboarding_steps
from kpis.routing_targets import campaign_plan_rules
from kpis.selectors import KpiFilter, kpi_freshness, report_tag_keys
from kpis.whatif import WHAT_IF_MODEL, WhatIfError, campaign_what_if
from ppc_dashboard.tenancy.pages import TenantPageMixin
from publishers.models import Publisher
from routing.models import Buyer

from .forms import WhatIfForm
from .page_data import (
    GEO_METRICS,
    campaign_list_page,
    campaign_page,
    geography_page,
    overview_page,
    page_filters_checked,
    publisher_page,
    publishers_page,
    tags_page,
)
from .page_filters import RANGE_PRESETS, PageFilters, page_filters_from_query
from .us_states import STATE_NAMES


class KpiPageMixin(TenantPageMixin):
    """Filter bar, filters from the URL, and the empty state of a tenant without calls."""

    show_campaign_filter = True

    # Query parameters of the page itself (not filters) that the filter bar keeps.
    preserved_parameters: tuple[str, ...] = ()

    def page_context(self, kpi_filter: KpiFilter) -> dict[str, Any]:
        raise NotImplementedError

    def preserve_query(self) -> list[tuple[str, str]]:
        return [
            (name, self.request.GET[name])
            for name in self.preserved_parameters
            if self.request.GET.get(name)
        ]

    @cached_property
    def filter_choices(self):
        return filter_choices(self.organization)

    @cached_property
    def page_filters(self) -> PageFilters:
        parsed = page_filters_from_query(self.request.GET, self.organization)
        return page_filters_checked(parsed, self.filter_choices)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = self.page_filters
        has_any_call = self.tenant_queryset(Call).exists()
        context.update(
            filters=filters,
            choices=self.filter_choices,
            range_presets=RANGE_PRESETS,
            verticals=Vertical.choices,
            show_campaign_filter=self.show_campaign_filter,
            nav_query=filters.query_string(),
            has_any_call=has_any_call,
            freshness=kpi_freshness(self.organization),
            report_tags=report_tag_keys(self.organization),
            us_state_codes=sorted(STATE_NAMES),
            preserve_query=self.preserve_query(),
        )
        if has_any_call:
            context.update(self.page_context(filters.kpi_filter))
        else:
            context["onboarding"] = onboarding_steps(self.organization)
        return context


class OverviewView(KpiPageMixin, TemplateView):
    """The overview. `?partial=1` answers only the first steps checklist of an empty tenant:
    its script (static/js/onboarding.js) polls it, as the call log polls its rows, so "first
    call" turns done, and the page reloads into its KPIs, while the manager watches."""

    template_name = "kpis/overview.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("partial") == "1":
            context = {"onboarding": onboarding_steps(self.organization)}
            return TemplateResponse(request, "kpis/_onboarding.html", context)
        return super().get(request, *args, **kwargs)

    def page_context(self, kpi_filter):
        return {"page": overview_page(self.organization, kpi_filter)}


class CampaignListView(KpiPageMixin, TemplateView):
    template_name = "kpis/campaign_list.html"

    def page_context(self, kpi_filter):
        campaigns = self.tenant_queryset(Campaign).order_by("name")
        return {"rows": campaign_list_page(self.organization, kpi_filter, campaigns)}


class CampaignDetailView(KpiPageMixin, TemplateView):
    template_name = "kpis/campaign_detail.html"
    show_campaign_filter = False  # the campaign is the one in the path

    def get(self, request, *args, **kwargs):
        self.campaign = get_object_or_404(self.tenant_queryset(Campaign), pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(campaign=self.campaign, **kwargs)

    def page_context(self, kpi_filter):
        return {
            "page": campaign_page(self.organization, self.campaign, kpi_filter),
            **self.what_if_context(kpi_filter),
        }

    def what_if_context(self, kpi_filter: KpiFilter) -> dict[str, Any]:
        """The what-if form (read with GET: it saves nothing) and, once submitted, the replay
        of the filter's days through the plan it edits."""
        plan, has_plan = campaign_plan_rules(self.organization, self.campaign)
        in_plan = {t.target_id: t.name for t in plan.targets}
        others = self.tenant_queryset(Buyer).exclude(id__in=in_plan).order_by("name")
        submitted = any(name.startswith(f"{WhatIfForm.prefix}-") for name in self.request.GET)
        form = WhatIfForm(
            self.request.GET if submitted else None,
            plan_buyers=sorted(in_plan.items(), key=lambda item: item[1]),
            other_buyers=[(b.id, b.name) for b in others],
        )
        result = None
        if submitted and form.is_valid():
            next_tier = max((t.tier for t in plan.targets), default=0) + 1
            try:
                result = campaign_what_if(
                    self.organization, self.campaign, kpi_filter, form.edits(next_tier)
                )
            except WhatIfError as exc:
                form.add_error(None, str(exc))
        return {
            "what_if_form": form,
            "what_if": result,
            "what_if_has_plan": has_plan,
            "what_if_model": WHAT_IF_MODEL,
            "filter_fields": list(QueryDict(self.page_filters.query_string()).items()),
        }


class PublisherDetailView(KpiPageMixin, TemplateView):
    template_name = "kpis/publisher_detail.html"

    def get(self, request, *args, **kwargs):
        self.publisher = get_object_or_404(self.tenant_queryset(Publisher), pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(publisher=self.publisher, **kwargs)

    def page_context(self, kpi_filter):
        return {"page": publisher_page(self.organization, self.publisher, kpi_filter)}


class PublisherListView(KpiPageMixin, TemplateView):
    template_name = "kpis/publisher_list.html"

    def page_context(self, kpi_filter):
        return {"page": publishers_page(self.organization, kpi_filter)}


class GeographyView(KpiPageMixin, TemplateView):
    """Calls, conversion, missed rate and RPM per caller state: tile-grid map and table.
    `?metric=` colours the map (calls, conversion_rate, missed_rate, rpm)."""

    template_name = "kpis/geography.html"
    preserved_parameters = ("metric",)

    def page_context(self, kpi_filter):
        metric = self.request.GET.get("metric", "")
        return {
            "page": geography_page(self.organization, kpi_filter, metric),
            "metrics": GEO_METRICS,
        }


class TagsView(KpiPageMixin, TemplateView):
    """KPIs per value of a report tag (`?key=`, the first report tag by default)."""

    template_name = "kpis/tags.html"
    preserved_parameters = ("key",)

    def page_context(self, kpi_filter):
        key = self.request.GET.get("key") or None
        return {"page": tags_page(self.organization, kpi_filter, key)}
