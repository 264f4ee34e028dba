"""Request-level tenancy and size limits."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse

from .errors import error_response

IMPORT_PATH_PREFIX = "/api/v1/imports"
# A chunked body is copied to memory up to this size, to a temporary file beyond it.
SPOOL_MEMORY_BYTES = 2 * 1024 * 1024
READ_PIECE_BYTES = 64 * 1024


class RequestBodyLimitMiddleware:
    """Refuse bodies over the limit with 413 from Content-Length, before anything reads them.

    A chunked body (`Transfer-Encoding: chunked`, no Content-Length) would otherwise read as
    empty: Django reads Content-Length bytes. Where the server decodes the chunks and marks the
    input's end (`wsgi.input_terminated`, as gunicorn does), the body is read here up to the
    limit (413 past it) and handed on with its length; where it does not (runserver), it is
    refused with 411, asking for a Content-Length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = (
            settings.IMPORT_MAX_BYTES
            if request.path.startswith(IMPORT_PATH_PREFIX)
            else settings.API_MAX_BODY_BYTES
        )
        if not request.META.get("CONTENT_LENGTH") and "chunked" in (
            request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            refusal = self._read_chunked_body(request, limit)
            if refusal is not None:
                return refusal
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "Invalid Content-Length header.")
        if length < 0:
            return error_response(400, "Invalid Content-Length header.")
        if length > limit:
            return _too_large(limit, f"Request body of {length} bytes")
        return self.get_response(request)

    @staticmethod
    def _read_chunked_body(request: HttpRequest, limit: int) -> HttpResponse | None:
        if not request.META.get("wsgi.input_terminated"):
            return error_response(
                411,
                "A chunked request body cannot be read by this server; send the body with a "
                "Content-Length header.",
                code="length_required",
            )
        source = request.META["wsgi.input"]
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        size = 0
        while piece := source.read(min(READ_PIECE_BYTES, limit + 1 - size)):
            spool.write(piece)
            size += len(piece)
            if size > limit:
                spool.close()
                return _too_large(limit, "The chunked request body")
        spool.seek(0)
        request._stream = LimitedStream(spool, size)
        request.META["CONTENT_LENGTH"] = str(size)
        return None


def _too_large(limit: int, what: str) -> HttpResponse:
    return error_response(413, f"{what} is over the limit of {limit} bytes.", code="too_large")
