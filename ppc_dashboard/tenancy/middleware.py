"""Request-level tenancy and size limits."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

IMPORT_PATH_PREFIX = "/api/v1/imports"


class RequestBodyLimitMiddleware:
    """Refuse bodies over the limit with 413 from Content-Length, before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = (
            settings.IMPORT_MAX_BYTES
            if request.path.startswith(IMPORT_PATH_PREFIX)
            else settings.API_MAX_BODY_BYTES
        )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body of {length} bytes is over the limit of {limit} bytes."},
                status=413,
            )
        return self.get_response(request)
