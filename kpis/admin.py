"""The kpis app's part of the Organization admin: new verdict thresholds are checked against
the campaigns' overrides, and a new time zone rebuilds the rollups."""

from django import forms
from django.contrib import admin
from django.db import transaction

from ppc_dashboard.tenancy.admin import OrganizationAdmin
from ppc_dashboard.tenancy.models import Organization

from .decisions import tenant_thresholds_conflicts
from .tasks import rollups_rebuild_full_task


class OrganizationForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and "verdict_thresholds" in cleaned:
            # The campaigns' overrides apply over the tenant's thresholds: a change of these
            # that a campaign's overrides would contradict is refused, naming the campaigns.
            conflicts = tenant_thresholds_conflicts(self.instance, cleaned["verdict_thresholds"])
            if conflicts:
                message = "These thresholds contradict campaign overrides; change those first."
                self.add_error("verdict_thresholds", [message, *conflicts])
        return cleaned


admin.site.unregister(Organization)


@admin.register(Organization)
class OrganizationWithKpisAdmin(OrganizationAdmin):
    form = OrganizationForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "timezone" in form.changed_data:
            # Rollup days are local days: a new zone moves every call to another day/hour.
            # A worker rebuilds them (minutes for a large tenant), once the new zone is saved.
            transaction.on_commit(lambda: rollups_rebuild_full_task.delay(obj.pk))
