"""Writes for tenants, members, invitations and API keys, shared by the admin commands and the
pages."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Role,
    hash_api_key,
    hash_secret,
)
from .selectors import SESSION_ORGANIZATION_KEY, tenant_context_forget


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

    For the operator's commands (`create_user`, the demo) only: on the pages, people join
    through an invitation they accept, never by someone else naming their address.
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


# Every API request authenticates by its key, and the lookup (a query, two model instances)
# was a fifth of a small request's CPU. Each process remembers the keys it found, with their
# organization, for API_KEY_CACHE_SECONDS. Revoking a key, or saving a key or an organization,
# forgets them all at once in the process that did it (tenancy.receivers) and in the others
# within those seconds. Only found keys are remembered: a wrong key always asks the database
# (after the failure limit per address, see authentication).
API_KEYS_REMEMBERED_MAX = 10_000
_api_keys_remembered: dict[str, tuple[float, ApiKey]] = {}


def api_key_remembered(raw_key: str) -> ApiKey | None:
    """The key found for `raw_key` within the last API_KEY_CACHE_SECONDS in this process."""
    key_hash = hash_api_key(raw_key)  # the raw key is not kept beyond its request
    entry = _api_keys_remembered.get(key_hash)
    if entry is None:
        return None
    found_at, api_key = entry
    if time.monotonic() - found_at > settings.API_KEY_CACHE_SECONDS:
        _api_keys_remembered.pop(key_hash, None)
        return None
    return api_key


def api_key_lookup(raw_key: str) -> ApiKey | None:
    """The active key matching a raw key, across all tenants (the key names its tenant), read
    from the database; remembered by `api_key_remembered` when found."""
    if not raw_key.startswith("ppc_"):
        return None
    key_hash = hash_api_key(raw_key)
    api_key = (
        ApiKey.objects.select_related("organization")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .first()
    )
    if api_key is not None and settings.API_KEY_CACHE_SECONDS > 0:
        if len(_api_keys_remembered) >= API_KEYS_REMEMBERED_MAX:
            _api_keys_remembered.clear()
        _api_keys_remembered[key_hash] = (time.monotonic(), api_key)
    return api_key


def api_keys_forget() -> None:
    """Forget every remembered key (a key or an organization changed)."""
    _api_keys_remembered.clear()


def organization_twilio_auth_token_set(*, organization: Organization, auth_token: str) -> None:
    """The token Twilio signs the tenant's webhooks with ("": none; every Twilio request is
    then refused)."""
    organization.twilio_auth_token = auth_token
    organization.save(update_fields=["twilio_auth_token"])


def organization_switch(request: HttpRequest, organization_id: int) -> Organization | None:
    """Switch the session to another organization the user belongs to; None if not a member.

    The choice is remembered on the membership too, for the user's next login.
    """
    membership = (
        Membership.objects.filter(user=request.user, organization_id=organization_id)
        .select_related("organization")
        .first()
    )
    if membership is None:
        return None
    Membership.objects.filter(pk=membership.pk).update(last_used_at=timezone.now())
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    tenant_context_forget(request)
    return membership.organization


# --- Invitations ---------------------------------------------------------------------------


class InvitationNotPending(Exception):
    """The invitation was used, revoked or expired in the meantime."""


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    invited_by: AbstractBaseUser,
    site_url: str,
) -> Invitation:
    """Invite an address to join with a role, and email it the link (`site_url` is where the
    site is, e.g. "https://calls.example.com").

    The same whether or not the address has an account: nobody is made a member until they
    accept. An open invitation of the same address is revoked, so only the newest link works.
    If the mail cannot be sent, nothing is written.
    """
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    email = email.strip().lower()
    now = timezone.now()
    Invitation.objects.for_organization(organization).filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    raw_token = Invitation.generate_token()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_secret(raw_token),
        invited_by=invited_by,
        expires_at=now + settings.INVITATION_MAX_AGE,
    )
    context = {
        "invitation": invitation,
        "organization": organization,
        "role": Role(role).label,
        "accept_url": site_url.rstrip("/") + reverse("invitation-accept", args=[raw_token]),
    }
    send_mail(
        subject=f"You are invited to {organization.name} on ppc-dashboard",
        message=render_to_string("tenancy/invitation_email.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    return invitation


def _invitation_locked_pending(invitation: Invitation) -> Invitation:
    # Locked, so two acceptances of one link at once cannot both pass.
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_pending:
        raise InvitationNotPending()
    return locked


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """The invited user joins with the invitation's role, and the link is used up.

    Only the user whose email the invitation names may accept it. Someone who became a member
    in the meantime keeps their role. The organization becomes the one they last used.
    """
    locked = _invitation_locked_pending(invitation)
    if (user.email or "").lower() != locked.email:
        raise ValueError("This invitation is for another email address.")
    now = timezone.now()
    membership, _ = Membership.objects.get_or_create(
        organization_id=locked.organization_id, user=user, defaults={"role": locked.role}
    )
    membership.last_used_at = now
    membership.save(update_fields=["last_used_at"])
    locked.accepted_at = now
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_accept_with_new_account(
    *, invitation: Invitation, password: str
) -> tuple[AbstractBaseUser, Membership]:
    """Create the account of an invited address that has none, and accept the invitation."""
    locked = _invitation_locked_pending(invitation)
    user_model = get_user_model()
    if user_model.objects.filter(email__iexact=locked.email).exists():
        raise ValueError("This address has an account: log in to accept.")
    user = user_model.objects.create_user(
        username=locked.email, email=locked.email, password=password
    )
    return user, invitation_accept(invitation=locked, user=user)


def invitation_revoke(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
