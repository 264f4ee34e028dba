from django.contrib import admin

from .models import AdSpend, Call, CallImport, Campaign


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


@admin.register(AdSpend)
class AdSpendAdmin(admin.ModelAdmin):
    list_display = ["day", "organization", "campaign", "publisher", "amount"]
    raw_id_fields = ["campaign", "publisher"]


@admin.register(CallImport)
class CallImportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "organization", "format", "status", "rows_imported"]
    readonly_fields = ["errors"]
