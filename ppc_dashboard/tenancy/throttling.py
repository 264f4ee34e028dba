from rest_framework.throttling import SimpleRateThrottle

from .selectors import tenant_context_for_request


class ApiKeyRateThrottle(SimpleRateThrottle):
    """One bucket per API key (or per logged-in user), kept in the Django cache (Redis in prod)."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        context = tenant_context_for_request(request)
        if context is not None and context.api_key is not None:
            ident = f"key-{context.api_key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
