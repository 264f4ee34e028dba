"""Writes for tenants, members and API keys, shared by the admin commands and the pages."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import ApiKey, Membership, Organization, Role, hash_api_key


def organization_create(
    *,
    slug: str,
    name: str,
    timezone: str = "America/New_York",
    currency: str = "USD",
    country: str = "US",
) -> Organization:
    organization = Organization(
        slug=slug, name=name, timezone=timezone, currency=currency, country=country.upper()
    )
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def user_create_with_membership(
    *, email: str, organization: Organization, role: str, password: str | None = None
) -> tuple[AbstractBaseUser, str | None]:
    """Create (or reuse) the user with this email and make them a member.

    Returns the user and the password that was generated, if one was.
    """
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    generated = None
    if user is None:
        generated = None if password else secrets.token_urlsafe(12)
        user = user_model.objects.create_user(
            username=email.lower(), email=email.lower(), password=password or generated
        )
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return user, generated


def api_key_create(
    *, organization: Organization, name: str, created_by: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    raw_key, prefix = ApiKey.generate()
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(raw_key),
        created_by=created_by,
    )
    return api_key, raw_key


def api_key_lookup(raw_key: str) -> ApiKey | None:
    """The active key matching a raw key, across all tenants (the key names its tenant)."""
    if not raw_key.startswith("ppc_"):
        return None
    return (
        ApiKey.objects.select_related("organization")
        .filter(key_hash=hash_api_key(raw_key), revoked_at__isnull=True)
        .first()
    )
