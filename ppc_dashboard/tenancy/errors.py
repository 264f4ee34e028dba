"""Every API error in one JSON shape, whoever raises it.

    {"detail": "What went wrong, for a person.",
     "code": "invalid",
     "errors": {"field": ["message", ...]}}

`detail` is always a sentence; `code` is a stable word a program can branch on (`ERROR_CODES`,
or DRF's own code of the exception); `errors` holds the messages by field (for a batch of
calls, by item index and then field) and is `{}` when no field is at fault. DRF's exceptions
(`tenancy.exceptions`), Django's 404/400/403/500 under the API's paths, the body-size
middleware, the throttles and the Twilio webhook all answer in it.

Messages are cut at `MESSAGE_MAX_CHARS`, a last guard behind the validators' own short quotes
of bad values: a megabyte posted in a field is never sent back.

No DRF import here: DRF's settings import the authentication classes, which answer with this.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, JsonResponse

# Paths whose errors are JSON (the pages keep Django's HTML error pages).
API_PATH_PREFIXES = ("/api/", "/hooks/")
# Seconds a client is asked to wait before retrying when the database is unavailable.
DATABASE_RETRY_AFTER = 5
# A message longer than this is cut (with an ellipsis).
MESSAGE_MAX_CHARS = 300

ERROR_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


def _clipped(message: object) -> str:
    text = str(message)
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 3] + "..."


def _clipped_errors(errors: object) -> object:
    if isinstance(errors, Mapping):
        return {_clipped(key): _clipped_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [_clipped_errors(item) for item in errors]
    return _clipped(errors)


def error_body(detail: str, *, code: str, errors: Mapping | None = None) -> dict:
    """The one error shape; messages are cut to a bounded length."""
    return {
        "detail": _clipped(detail),
        "code": code,
        "errors": _clipped_errors(dict(errors or {})),
    }


def error_response(
    status_code: int,
    detail: str,
    *,
    errors: Mapping | None = None,
    code: str | None = None,
    retry_after: int | None = None,
) -> JsonResponse:
    """An error answered outside DRF's views (middleware, webhooks, Django's handlers)."""
    response = JsonResponse(
        error_body(detail, code=code or ERROR_CODES.get(status_code, "error"), errors=errors),
        status=status_code,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)
