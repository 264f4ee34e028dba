from django.contrib import admin

from .models import Buyer, TrackingNumber


@admin.register(Buyer)
class BuyerAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "phone_number", "timezone"]
    search_fields = ["name"]


@admin.register(TrackingNumber)
class TrackingNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "organization", "campaign", "publisher"]
    raw_id_fields = ["campaign", "publisher"]
