"""Reads of tenancy. Which organization a request acts for, and with which rights: the one
home of that decision. Pending invitations."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import WRITER_ROLES, ApiKey, Invitation, Membership, Organization, Role, hash_secret

SESSION_ORGANIZATION_KEY = "organization_id"
_CACHE_ATTR = "_tenant_context"


@dataclass(frozen=True)
class TenantContext:
    organization: Organization
    role: str
    api_key: ApiKey | None = None

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES


def memberships_for_user(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def _membership_for_session(request: HttpRequest) -> Membership | None:
    # Without a choice in the session (a new login), the organization the user last chose, so
    # a member of one tenant never has to choose, and a member of several lands where they were.
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    chosen_id = request.session.get(SESSION_ORGANIZATION_KEY)
    if chosen_id is not None:
        membership = memberships.filter(organization_id=chosen_id).first()
        if membership is not None:
            return membership
    return memberships.order_by(
        F("last_used_at").desc(nulls_last=True), "organization__name"
    ).first()


def tenant_context_for_request(request) -> TenantContext | None:
    """The tenant a request acts for: from its API key, else from the session's membership.

    Works for Django and DRF requests; the answer is cached on the underlying HttpRequest.
    """
    http_request = getattr(request, "_request", request)
    if hasattr(http_request, _CACHE_ATTR):
        return getattr(http_request, _CACHE_ATTR)
    context: TenantContext | None = None
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        # API keys are integration credentials: they may post data and change configuration.
        context = TenantContext(organization=auth.organization, role=Role.MANAGER, api_key=auth)
    else:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = _membership_for_session(http_request)
            if membership is not None:
                context = TenantContext(organization=membership.organization, role=membership.role)
    setattr(http_request, _CACHE_ATTR, context)
    return context


def tenant_context_forget(request: HttpRequest) -> None:
    """Drop the tenant context cached on a request, once its session chose another one."""
    if hasattr(request, _CACHE_ATTR):
        delattr(request, _CACHE_ATTR)


def invitations_pending(organization: Organization) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_organization(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
        .order_by("email")
    )


def invitation_for_token(raw_token: str) -> Invitation | None:
    """The pending invitation of a link's token, across all tenants (the token names its
    tenant); None for an unknown, used, revoked or expired one."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=hash_secret(raw_token))
        .first()
    )
    return invitation if invitation is not None and invitation.is_pending else None


def invitation_next_step(invitation: Invitation, user) -> str:
    """What the visitor of an invitation's link does next: "join" (logged in as the invited
    address), "wrong_account" (logged in as another), "log_in" (the address has an account)
    or "sign_up" (it has none)."""
    if user.is_authenticated:
        return "join" if (user.email or "").lower() == invitation.email else "wrong_account"
    if get_user_model().objects.filter(email__iexact=invitation.email).exists():
        return "log_in"
    return "sign_up"
