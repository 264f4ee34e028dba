from django.http import HttpRequest

from .selectors import memberships_for_user, tenant_context_for_request


def current_organization(request: HttpRequest) -> dict:
    context = tenant_context_for_request(request)
    user = getattr(request, "user", None)
    return {
        "tenant": context,
        "current_organization": context.organization if context else None,
        "user_memberships": memberships_for_user(user) if user is not None else [],
    }
