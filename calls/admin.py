from collections import defaultdict

from django.contrib import admin

from ppc_dashboard.tenancy.models import Organization

from .models import AdSpend, Call, CallImport, Campaign
from .services import calls_delete


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "vertical", "qualifying_seconds", "payout", "status"]
    list_filter = ["vertical", "status", "organization"]
    search_fields = ["name"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["external_id", "organization", "campaign", "publisher", "started_at", "status"]
    list_filter = ["status", "source", "organization"]
    search_fields = ["external_id", "caller_number"]
    raw_id_fields = ["campaign", "publisher", "buyer", "tracking_number"]
    date_hierarchy = "started_at"

    # Deletes go through the service so the days' KPIs and repeat flags follow (the nightly
    # re-derivation only covers the last few days).
    def delete_model(self, request, obj: Call) -> None:
        calls_delete(organization=obj.organization, external_ids=[obj.external_id])

    def delete_queryset(self, request, queryset) -> None:
        by_organization: dict[int, list[str]] = defaultdict(list)
        for organization_id, external_id in queryset.values_list("organization", "external_id"):
            by_organization[organization_id].append(external_id)
        organizations = Organization.objects.in_bulk(list(by_organization))
        for organization_id, external_ids in by_organization.items():
            calls_delete(organization=organizations[organization_id], external_ids=external_ids)


@admin.register(AdSpend)
class AdSpendAdmin(admin.ModelAdmin):
    list_display = ["day", "organization", "campaign", "publisher", "amount"]
    raw_id_fields = ["campaign", "publisher"]


@admin.register(CallImport)
class CallImportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "organization", "format", "status", "rows_imported"]
    readonly_fields = ["errors"]
