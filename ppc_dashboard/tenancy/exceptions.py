"""DRF's EXCEPTION_HANDLER and Django's error handlers, answering in the one error shape of
`tenancy.errors`. An unavailable database is a 503 with `Retry-After`; any other unhandled
exception under the API's paths is a logged JSON 500 (Django logs it, then calls
`server_error`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

import psycopg
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from .errors import DATABASE_RETRY_AFTER, ERROR_CODES, error_body, error_response, is_api_request
from .validation import protected_delete_message

DATABASE_ERRORS = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

logger = logging.getLogger(__name__)


def _drf_error_body(exc: exceptions.APIException, status_code: int) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, Mapping) else {"non_field_errors": exc.detail}
        return error_body("The request is invalid; see errors.", code="invalid", errors=errors)
    detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    code = exc.detail.code if isinstance(exc.detail, exceptions.ErrorDetail) else None
    return error_body(
        str(detail),
        code=code or ERROR_CODES.get(status_code, "error"),
        # A parser's refusal (tenancy.parsers.BodyRejected) names the fields at fault.
        errors=getattr(exc, "errors", None),
    )


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: DRF's handling, then the one shape; the database's being
    unavailable is a 503 to retry. Anything else unhandled propagates to `server_error`."""
    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting a campaign that still has calls, say: the data stays, the client is told why.
        return Response(
            error_body(protected_delete_message(exc), code="conflict"),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DATABASE_ERRORS):
        logger.warning("API request answered 503, the database is unavailable: %s", exc)
        set_rollback()
        return Response(
            error_body(DATABASE_UNAVAILABLE, code="unavailable"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    # As DRF's own handler does, so the shape below sees the API exception.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = _drf_error_body(exc, response.status_code)
    return response


DATABASE_UNAVAILABLE = "The database is unavailable; nothing was written. Retry shortly."


# Django's error handlers (`handler404` ... in the root URL conf): JSON under the API's paths,
# Django's own pages elsewhere.


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """Called by Django inside the `except` of an unhandled exception, so it can tell an
    unavailable database (503, Retry-After) from a fault of ours (500)."""
    if not is_api_request(request):
        return defaults.server_error(request, template_name)
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return error_response(503, DATABASE_UNAVAILABLE, retry_after=DATABASE_RETRY_AFTER)
    return error_response(500, "Server error; the fault is logged. Retry later or contact us.")


def page_not_found(request: HttpRequest, exception: Exception, template_name: str = "404.html"):
    if not is_api_request(request):
        return defaults.page_not_found(request, exception, template_name)
    return error_response(404, "No such endpoint.")


def bad_request(request: HttpRequest, exception: Exception, template_name: str = "400.html"):
    if not is_api_request(request):
        return defaults.bad_request(request, exception, template_name)
    return error_response(400, "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception, template_name: str = "403.html"):
    if not is_api_request(request):
        return defaults.permission_denied(request, exception, template_name)
    return error_response(403, "You do not have permission to perform this action.")
