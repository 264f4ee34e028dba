from rest_framework import serializers

from ppc_dashboard.tenancy.api import (
    TenantModelSerializer,
    TenantModelViewSet,
    crud_docs,
    request_tenant,
)

from .business_hours import BusinessHoursError, validate_business_hours
from .models import Buyer, TrackingNumber, phone_number_in_tenant


def _e164(serializer: serializers.Serializer, value: str) -> str:
    """The number in E.164, read in the tenant's country, as calls to it will be."""
    return phone_number_in_tenant(value, request_tenant(serializer.context["request"]).organization)


class BuyerSerializer(TenantModelSerializer):
    business_hours = serializers.JSONField(
        required=False,
        help_text='Weekday -> [["HH:MM","HH:MM"], ...] in the buyer\'s time zone; '
        "{} means always open.",
    )

    class Meta:
        model = Buyer
        fields = ["id", "name", "phone_number", "timezone", "business_hours", "created_at"]
        read_only_fields = ["id", "created_at"]
        unique_in_tenant = ["name"]
        extra_kwargs = {"phone_number": {"validators": []}}  # normalized below instead

    def validate_phone_number(self, value: str) -> str:
        return _e164(self, value) if value else value

    def validate_business_hours(self, value: object) -> object:
        # The field is declared above for its help text, which drops the model's validators.
        try:
            validate_business_hours(value)
        except BusinessHoursError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


@crud_docs(
    tag="buyers",
    one="buyer",
    many="buyers",
    about="Buyers: the call centers calls are routed to, with their phone number, time zone "
    "and weekly business hours.",
    rules="The name is unique in the organization; the phone number is stored in E.164 "
    "(read in the organization's country); business hours are weekday -> [[HH:MM, HH:MM]].",
)
class BuyerViewSet(TenantModelViewSet):
    """Buyers: the call centers calls are routed to."""

    queryset = Buyer.objects.all()
    serializer_class = BuyerSerializer
    filterset_fields = ["name"]


class TrackingNumberSerializer(TenantModelSerializer):
    class Meta:
        model = TrackingNumber
        fields = ["id", "number", "campaign", "publisher", "created_at"]
        read_only_fields = ["id", "created_at"]
        unique_in_tenant = ["number"]
        extra_kwargs = {"number": {"validators": []}}  # normalized below instead

    def validate_number(self, value: str) -> str:
        return _e164(self, value)


@crud_docs(
    tag="tracking-numbers",
    one="tracking number",
    many="tracking numbers",
    about="Tracking numbers: each maps the calls to it to its campaign and publisher.",
    rules="The number is stored in E.164 (read in the organization's country) and is unique "
    "in the organization; campaign and publisher are the organization's own.",
    referenced=False,  # its calls keep their campaign and publisher
)
class TrackingNumberViewSet(TenantModelViewSet):
    """Tracking numbers: each maps calls to its campaign and publisher."""

    queryset = TrackingNumber.objects.all()
    serializer_class = TrackingNumberSerializer
    filterset_fields = ["campaign", "publisher", "number"]
