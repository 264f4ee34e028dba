"""Which organization a request acts for, and with which rights. The one home of that decision."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from .models import WRITER_ROLES, ApiKey, Membership, Organization, Role

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
    # Falls back to the user's first organization, so a member of one tenant never has to choose.
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    chosen_id = request.session.get(SESSION_ORGANIZATION_KEY)
    if chosen_id is not None:
        membership = memberships.filter(organization_id=chosen_id).first()
        if membership is not None:
            return membership
    return memberships.order_by("organization__name").first()


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


def organization_switch(request: HttpRequest, organization_id: int) -> Organization | None:
    """Switch the session to another organization the user belongs to; None if not a member."""
    membership = (
        Membership.objects.filter(user=request.user, organization_id=organization_id)
        .select_related("organization")
        .first()
    )
    if membership is None:
        return None
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    if hasattr(request, _CACHE_ATTR):
        delattr(request, _CACHE_ATTR)
    return membership.organization
