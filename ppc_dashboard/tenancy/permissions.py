from rest_framework import permissions

from .selectors import tenant_context_for_request


class IsOrganizationMember(permissions.BasePermission):
    """Any member may read; writes need a writer role (owner, manager) or an API key."""

    message = "You are not a member of an organization with the rights for this action."

    def has_permission(self, request, view) -> bool:
        context = tenant_context_for_request(request)
        if context is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return context.can_write
