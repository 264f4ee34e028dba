from django.core.exceptions import ValidationError
from django.db import models

from ppc_dashboard.tenancy.models import Organization, TenantModel, validate_timezone

from .business_hours import BusinessHoursError, hours_summary, validate_business_hours
from .phone_numbers import PhoneNumberError, phone_to_e164


def phone_number_in_tenant(value: str, organization: Organization) -> str:
    """A number the tenant configures (a tracking number, a buyer's line) as it is stored:
    E.164, read in the tenant's country as calls to it will be. The API and the setup screens
    both call this; raises ValidationError saying why a number is refused."""
    try:
        return phone_to_e164(value, organization.country)
    except PhoneNumberError as exc:
        raise ValidationError(str(exc)) from exc


def validate_e164(value: str) -> None:
    try:
        if phone_to_e164(value) != value:
            raise ValidationError(f"'{value}' is not in E.164 form (e.g. +15551234567).")
    except PhoneNumberError as exc:
        raise ValidationError(str(exc)) from exc


def validate_hours(value: object) -> None:
    try:
        validate_business_hours(value)
    except BusinessHoursError as exc:
        raise ValidationError(str(exc)) from exc


class Buyer(TenantModel):
    """A routing target: the call center a call is sent to, paying per qualified call."""

    name = models.CharField(max_length=200)
    phone_number = models.CharField(max_length=20, blank=True, validators=[validate_e164])
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    business_hours = models.JSONField(default=dict, blank=True, validators=[validate_hours])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="buyer_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def hours_summary(self) -> str:
        return hours_summary(self.business_hours)


class TrackingNumber(TenantModel):
    """A number publishers advertise; a call to it belongs to its campaign and publisher."""

    number = models.CharField(max_length=20, validators=[validate_e164])
    campaign = models.ForeignKey(
        "calls.Campaign", on_delete=models.PROTECT, related_name="tracking_numbers"
    )
    publisher = models.ForeignKey(
        "publishers.Publisher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tracking_numbers",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="trackingnumber_org_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.number
