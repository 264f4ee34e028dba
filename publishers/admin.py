from django.contrib import admin

from .models import Publisher


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "external_id"]
    search_fields = ["name", "external_id"]
