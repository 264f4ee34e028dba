import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now

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


# A country (ISO 3166-1 alpha-2, "US") or a region of one (ISO 3166-2, "US-CA").
_GEO_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
GEO_LIST_MAX = 300


def validate_geo_codes(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError('Expected a list of country or region codes, e.g. ["US-CA", "CA"].')
    if len(value) > GEO_LIST_MAX:
        raise ValidationError(f"At most {GEO_LIST_MAX} codes.")
    for code in value:
        if not isinstance(code, str) or not _GEO_CODE.match(code):
            shown = str(code)[:40]
            raise ValidationError(f'\'{shown}\' is not a country ("US") or region ("US-CA") code.')


def geo_codes_normalized(value: object) -> object:
    """A geo list as it is stored: codes stripped, upper-case ("us-ca" is "US-CA") and once
    each, in the order given. Anything but a list of strings is left for `validate_geo_codes`
    to refuse. The API and the buyer screen both store lists through this."""
    if isinstance(value, list) and all(isinstance(code, str) for code in value):
        return list(dict.fromkeys(code.strip().upper() for code in value))
    return value


def validate_geo_lists(allow: list[str], deny: list[str]) -> None:
    """A code is never both allowed and denied (the deny list would silently win)."""
    both = [code for code in allow if code in deny]
    if both:
        raise ValidationError({"geo_deny": f"{', '.join(both)} cannot be both allowed and denied."})


class Buyer(TenantModel):
    """A routing target: the call center a call is sent to, paying per qualified call.

    Its routing settings (caps, geo, ring timeout) apply in every plan that uses it; a cap
    counts the calls sent to it in the current hour, day or month of its own time zone."""

    name = models.CharField(max_length=200)
    phone_number = models.CharField(max_length=20, blank=True, validators=[validate_e164])
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    business_hours = models.JSONField(default=dict, blank=True, validators=[validate_hours])
    active = models.BooleanField(default=True, db_default=True)
    concurrency_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calls in progress at once; empty means no limit."
    )
    hourly_cap = models.PositiveIntegerField(null=True, blank=True)
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(null=True, blank=True)
    geo_allow = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_geo_codes],
        help_text="Only callers from these countries/regions; empty means everyone.",
    )
    geo_deny = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_geo_codes],
        help_text="Never callers from these countries/regions.",
    )
    ring_timeout_seconds = models.PositiveSmallIntegerField(
        default=20,
        db_default=20,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="Seconds to ring before failing over to the next target.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Live routing caches a plan's rules per plan and its buyers' last change (selectors).
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="buyer_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_geo_lists(self.geo_allow or [], self.geo_deny or [])

    def save(self, *args, **kwargs) -> None:
        # A save naming its fields still stamps the change: cached plan rules key on it.
        if kwargs.get("update_fields"):
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    @property
    def hours_summary(self) -> str:
        return hours_summary(self.business_hours)

    @property
    def routing_summary(self) -> str:
        """Its routing settings in words, for lists: "5 at once · 100/day · only US-CA"."""
        if not self.active:
            return "Inactive"
        parts = [
            f"{cap}{unit}"
            for cap, unit in (
                (self.concurrency_cap, " at once"),
                (self.hourly_cap, "/hour"),
                (self.daily_cap, "/day"),
                (self.monthly_cap, "/month"),
            )
            if cap is not None
        ]
        if self.geo_allow:
            parts.append("only " + ", ".join(self.geo_allow))
        if self.geo_deny:
            parts.append("not " + ", ".join(self.geo_deny))
        return " · ".join(parts) or "No caps"


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


class RoutingPlan(TenantModel):
    """One version of a campaign's routing plan. Versions are never edited: saving a plan
    writes the next version, and every call routed records the version that routed it. The
    campaign's current plan is its highest version."""

    campaign = models.ForeignKey(
        "calls.Campaign", on_delete=models.CASCADE, related_name="routing_plans"
    )
    version = models.PositiveIntegerField()
    repeat_to_first_buyer = models.BooleanField(
        default=True,
        help_text="A repeat caller within the campaign's duplicate window goes to the buyer "
        "of their first call when that buyer can take it.",
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "version"], name="routingplan_version_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} plan v{self.version}"


class RoutingPlanTarget(TenantModel):
    """A buyer in a plan: its tier (1 is tried first) and weight within the tier."""

    plan = models.ForeignKey(RoutingPlan, on_delete=models.CASCADE, related_name="targets")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="plan_targets")
    tier = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )

    class Meta:
        ordering = ["plan", "tier", "-weight", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "plan", "buyer"], name="routingplantarget_buyer_uniq"
            )
        ]


class RoutingSlot(TenantModel):
    """A call in progress at a buyer target (live routing without Redis): taken when the call
    is sent to it, released when its dial ends; a slot whose end never arrived stops counting
    at `expires_at`."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    call_sid = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "buyer", "call_sid"], name="routingslot_call_uniq"
            )
        ]


class RoutingCapCount(TenantModel):
    """Calls sent to a buyer target in one hour, day or month of its time zone (live routing
    without Redis); `period_key` names the period ("h:2026-11-01T01-05:00", "d:2026-11-01",
    "m:2026-11")."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    period_key = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "buyer", "period_key"], name="routingcapcount_period_uniq"
            )
        ]
