"""Health checks answered before the rest of the stack.

The load balancer and the compose healthcheck call them by the container's address, over
plain http: before SecurityMiddleware (which would redirect to https) and before anything
validates the Host header against ALLOWED_HOSTS.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import healthz, readyz

HEALTH_VIEWS = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = HEALTH_VIEWS.get(request.path)
        if view is not None:
            return view(request)
        return self.get_response(request)
