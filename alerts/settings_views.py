"""/settings/alerts/: the tenant's default rule of each kind and the campaign overrides.

Readable by every member, changed by owners and managers (`SettingsPageMixin`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DeleteView, TemplateView, UpdateView

from calls.models import Campaign
from ppc_dashboard.tenancy.pages import SettingsPageMixin

from . import rules
from .forms import AlertRuleForm
from .models import AlertRule
from .services import alert_rule_delete


class AlertRulesView(SettingsPageMixin, TemplateView):
    template_name = "settings/alert_rules.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        all_rules = list(
            self.tenant_queryset(AlertRule).select_related("campaign").order_by("kind", "id")
        )
        defaults = {rule.kind: rule for rule in all_rules if rule.campaign_id is None}
        kwargs["kinds"] = [
            {
                "kind": kind,
                "label": label,
                "rule": defaults.get(kind),
                "thresholds": rules.thresholds_in_force(
                    kind, defaults[kind].thresholds if kind in defaults else None
                ),
                "campaign_override": kind not in rules.TENANT_ONLY_KINDS,
            }
            for kind, label in rules.KIND_LABELS.items()
        ]
        kwargs["overrides"] = [rule for rule in all_rules if rule.campaign_id is not None]
        kwargs["campaigns"] = self.tenant_queryset(Campaign).order_by("name")
        return super().get_context_data(**kwargs)


class AlertRuleFormMixin(SettingsPageMixin):
    model = AlertRule
    form_class = AlertRuleForm
    template_name = "settings/alert_rule_form.html"

    def kind(self) -> str:
        raise NotImplementedError

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        kwargs["kind"] = self.kind()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs["kind_label"] = rules.KIND_LABELS[self.kind()]
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        rule = form.save()
        messages.success(self.request, f"Saved the rule {rule}.")
        return redirect("settings-alerts")


class AlertRuleCreateView(AlertRuleFormMixin, UpdateView):
    """A new rule of `?kind=`, for `?campaign=` when given (an override)."""

    def kind(self) -> str:
        kind = self.request.GET.get("kind", "")
        if kind not in rules.KIND_LABELS:
            raise Http404("No such alert kind.")
        return kind

    def get_object(self, queryset=None):
        return None

    def get_initial(self) -> dict[str, Any]:
        campaign = self.request.GET.get("campaign", "")
        if campaign.isdigit():
            found = self.tenant_queryset(Campaign).filter(pk=campaign).first()
            if found is not None:
                return {"campaign": found}
        return {}


class AlertRuleEditView(AlertRuleFormMixin, UpdateView):
    def get_object(self, queryset=None):
        if not hasattr(self, "_rule"):
            self._rule = get_object_or_404(self.tenant_queryset(AlertRule), pk=self.kwargs["pk"])
        return self._rule

    def kind(self) -> str:
        return self.get_object().kind


class AlertRuleDeleteView(SettingsPageMixin, DeleteView):
    writers_only = True
    template_name = "settings/confirm_delete.html"

    def get_queryset(self):
        return self.tenant_queryset(AlertRule)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("kind", "alert rule")
        kwargs.setdefault("cancel_url", "/settings/alerts/")
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        alert_rule_delete(self.object)
        messages.success(
            self.request, f"Deleted the rule {self.object}; its open alerts are resolved."
        )
        return redirect("settings-alerts")
