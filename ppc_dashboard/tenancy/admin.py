from django.contrib import admin

from .models import ApiKey, Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "currency", "created_at"]
    search_fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "timezone" in form.changed_data:
            from kpis.rollups import rollups_rebuild

            # Rollup days are local days: a new zone moves every call to another day/hour.
            rollups_rebuild(obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "organization", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
