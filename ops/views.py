"""/healthz (liveness) and /readyz (readiness) for the load balancer and the compose file."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import readiness


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is touched, so a dependency down never restarts it."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, else 503; every dependency's state in the body."""
    ready, checks = readiness()
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "10"
    return response
