"""Organizations (tenants), their members, invitations and API keys, and the tenant-owned base
model.

Every tenant-owned table inherits `TenantModel`: a non-null `organization` foreign key, and a
manager whose querysets are scoped with `.for_organization(org)`. Unique constraints on
tenant-owned tables always include `organization`, so the schema can be distributed by tenant.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.module_loading import import_string
from phonenumbers import SUPPORTED_REGIONS


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone name (e.g. America/New_York).")


def validate_currency(value: str) -> None:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValidationError(f"'{value}' is not an ISO 4217 currency code (e.g. USD).")


def validate_country(value: str) -> None:
    # The countries whose phone numbers phonenumbers can read: the reason the setting exists.
    if value not in SUPPORTED_REGIONS:
        raise ValidationError(f"'{value}' is not an ISO 3166 country code (e.g. US, GB, DE).")


def verdict_thresholds_class() -> Any:
    """The class that knows the verdict thresholds: `settings.VERDICT_THRESHOLDS_CLASS`.

    Tenants and campaigns store overrides of the verdict thresholds, but what makes one valid
    is the kpis app's to say, and tenancy imports no app: the setting ties the two, as
    AUTH_USER_MODEL ties auth to a user model.
    """
    return import_string(settings.VERDICT_THRESHOLDS_CLASS)


def validate_verdict_overrides(value: object) -> None:
    """A tenant's overrides: each valid, and consistent over the KPIS.md defaults."""
    try:
        verdict_thresholds_class().from_overrides(value, None)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def validate_campaign_verdict_overrides(value: object) -> None:
    """A campaign's overrides, each alone: whether they agree with each other depends on the
    tenant's overrides beneath them, checked where both are known (forms, serializers)."""
    try:
        verdict_thresholds_class().checked_overrides(value, "campaign")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    # Phone numbers without a country code (a PBX's local numbers) are read in this country.
    country = models.CharField(max_length=2, default="US", validators=[validate_country])
    # Twilio status callbacks arrive at /hooks/twilio/<webhook_token>/ and are verified with
    # the tenant's own Twilio auth token.
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    twilio_auth_token = models.CharField(max_length=128, blank=True)
    # Overrides of the KPIS.md verdict defaults for the whole tenant (kpis.verdicts keys).
    verdict_thresholds = models.JSONField(
        default=dict, blank=True, validators=[validate_verdict_overrides]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_today(self) -> dt.date:
        """Today in the organization's time zone: the day its date filters end on."""
        return timezone.now().astimezone(self.tzinfo).date()


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization | int) -> TenantQuerySet:
        return self.filter(organization=organization)


class TenantModel(models.Model):
    """Abstract base of every tenant-owned table."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    ANALYST = "analyst", "Analyst"
    VIEWER = "viewer", "Viewer"


# Roles allowed to change configuration and post data from a logged-in session.
WRITER_ROLES = frozenset({Role.OWNER, Role.MANAGER})


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the user last chose this organization (switched to it, joined it): where they land
    # at their next login, which the session does not survive.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_org_user_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} as {self.role}"

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES


class Invitation(TenantModel):
    """An emailed, expiring, single-use link to join the organization with a role.

    Only the hash of the link's token is kept. An invitation is pending until it is accepted
    (`accepted_at`), revoked (`revoked_at`) or past `expires_at`; an address has at most one
    open invitation per organization (inviting it again revokes the earlier one).
    """

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, db_index=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_org_open_email_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization_id} as {self.role}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and timezone.now() < self.expires_at
        )

    @staticmethod
    def generate_token() -> str:
        return secrets.token_urlsafe(32)


API_KEY_PREFIX_LEN = 8


def hash_secret(raw_secret: str) -> str:
    """The stored form of a random secret (API keys, invitation links).

    They carry 256 bits of randomness, so a fast hash is enough (no password stretching).
    """
    return hashlib.sha256(raw_secret.encode()).hexdigest()


hash_api_key = hash_secret  # the name the API key code and its tests know it by


class ApiKey(TenantModel):
    """A per-tenant API key. The full key is shown once at creation; only its hash is kept."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=API_KEY_PREFIX_LEN)
    key_hash = models.CharField(max_length=64, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "prefix"], name="apikey_org_prefix_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate() -> tuple[str, str]:
        """A new raw key and its visible prefix: `ppc_<prefix>_<secret>`."""
        prefix = secrets.token_hex(API_KEY_PREFIX_LEN // 2)
        return f"ppc_{prefix}_{secrets.token_urlsafe(32)}", prefix

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    def mark_used(self) -> None:
        # Throttled to one write a minute per key, so hot ingest paths do not write on each call.
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
