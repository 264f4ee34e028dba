"""django-csp's middleware, with the site's header built once per process.

No view here uses a nonce or a per-view policy (django-csp's decorators), so every response
carries the same header; django-csp builds it anew for each one (a dataclass to dict, every
directive copied and joined), 5% of an API request's CPU in a profile of POST /api/v1/route.
A request that asked for a nonce, a response a decorator marked, or settings that exclude
paths go the library's own way, so its behaviour is unchanged.
"""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

# What django-csp's decorators (csp_exempt, csp_update, csp_replace, csp) set on a response.
_VIEW_POLICY_ATTRIBUTES = tuple(
    f"_csp_{what}{suffix}"
    for what in ("exempt", "config", "update", "replace")
    for suffix in ("", "_ro")
)
_DEBUG_PAGE_STATUSES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)

# The site-wide policy as built from the settings: {"headers": [(header, value), ...]}, or
# {"headers": None} when the settings exclude paths (the library then decides per request).
_built: dict[str, list[tuple[str, str]] | None] = {}


@receiver(setting_changed)
def _built_forget(setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


def site_policy_headers() -> list[tuple[str, str]] | None:
    """The site-wide policy's headers as django-csp builds them from the settings; None when
    the settings exclude some paths from it."""
    if "headers" not in _built:
        names = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
        if any((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") for name in names):
            _built["headers"] = None
        else:
            built = [(HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True))]
            _built["headers"] = [(header, value) for header, value in built if value]
    return _built["headers"]


class CSPMiddleware(LibraryCSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        headers = site_policy_headers()
        if (
            headers is None
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _VIEW_POLICY_ATTRIBUTES)
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in _DEBUG_PAGE_STATUSES:
            return response  # Django's debug pages hold inline script, as the library allows
        for header, value in headers:
            if header not in response:
                response[header] = value
        # As the library: a nonce asked for after this could no longer reach the header.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
