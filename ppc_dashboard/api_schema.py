"""drf-spectacular post-processing: what every operation may answer besides its success.

Each operation documents the error statuses it can answer with the one error shape
(`tenancy/errors.py`, the `Error` component), and ids carry the bounds the server enforces, so
the schema is what the server does (schemathesis checks it: tests/test_openapi.py).
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django.conf import settings

from ppc_dashboard.tenancy.errors import ERROR_CODES

MAX_ID = 2**63 - 1  # bigint primary keys
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every API error: a sentence, a stable code, and the messages by field.",
    "required": ["detail", "code", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "example": "invalid",
            "description": "A stable word: "
            + ", ".join(sorted({*ERROR_CODES.values(), "parse_error", "authentication_failed"})),
        },
        "errors": {
            "type": "object",
            "description": "Field -> messages (a batch of calls: item index -> field -> "
            "messages); empty when no field is at fault.",
            "additionalProperties": True,
        },
    },
}
ERROR_DESCRIPTIONS = {
    400: "Invalid input: the fields at fault are named in `errors`.",
    401: "No API key, or a wrong or revoked one.",
    403: "The key or member may not do this.",
    404: "No such row in the organization (or an invalid cursor).",
    409: "Rows still reference what was to be deleted; nothing was deleted.",
    411: "A chunked body this server cannot read; send a Content-Length.",
    413: "The body is over the size limit.",
    415: "The body's content type is not one the endpoint reads.",
    429: "Over the rate limit or the failed-lookup limit; see Retry-After.",
    500: "A fault of ours, logged.",
    503: "The database is unavailable; nothing was written. Retry after Retry-After.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}


def _error_statuses(method: str, operation: dict) -> list[int]:
    statuses = [400, 401, 403, 404, 429, 500, 503]
    if "requestBody" in operation or method in {"post", "put", "patch"}:
        statuses += [411, 413, 415]
    if method == "delete":
        statuses.append(409)
    return sorted(statuses)


# Query filters and body fields that name a row by id.
ID_NAMES = frozenset({"campaign", "publisher", "buyer", "campaign_id", "publisher_id", "buyer_id"})
# JSON fields that hold an object (never null, never a list).
OBJECT_FIELDS = frozenset({"verdict_thresholds", "business_hours", "tags", "thresholds"})
_DECIMAL_PATTERN = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


# Query parameters whose empty value is refused rather than read as absent.
NOT_EMPTY_QUERY = frozenset({"page_size", "status"})


def _bounded_ids(operation: dict) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "query" and parameter.get("name") not in NOT_EMPTY_QUERY:
            # Filters read `?date_from=` as no filter, as forms submit an empty field.
            parameter["allowEmptyValue"] = True
        if schema.get("type") not in ("integer", "number"):
            continue
        if parameter.get("in") == "path" or parameter.get("name") in ID_NAMES:
            schema.update(type="integer", minimum=1, maximum=MAX_ID)


def _decimal_pattern(pattern: str) -> str:
    """drf-spectacular's decimal pattern allows "", "-" and "."; at least one digit is due."""
    match = _DECIMAL_PATTERN.match(pattern)
    if match is None:
        return pattern
    whole, fraction = match.groups()
    return rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{fraction}}})?|\.\d{{1,{fraction}}})$"


def _true_properties(component: dict) -> None:
    """Field schemas as the server checks them: decimals with a digit, ids with bounds, JSON
    objects as objects, time zones as the IANA names the server accepts."""
    for name, schema in component.get("properties", {}).items():
        if schema.get("readOnly"):
            continue
        if schema.get("format") == "decimal" and "pattern" in schema:
            pattern = _decimal_pattern(schema["pattern"])
            if schema.get("nullable"):
                pattern = f"^$|{pattern}"  # "" reads as null, as DRF does
            # A JSON number is read as the amount it spells, too.
            text = {"type": "string", "format": "decimal", "pattern": pattern}
            for key in ("type", "format", "pattern"):
                schema.pop(key)
            schema["oneOf"] = [text, {"type": "number"}]
        elif name in ID_NAMES and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=MAX_ID)
        elif name in OBJECT_FIELDS:
            schema["type"] = "object"
            schema.pop("nullable", None)
        elif name == "timezone" and schema.get("type") == "string":
            schema["enum"] = sorted(zoneinfo.available_timezones())


def _one_call_or_a_batch(result: dict) -> None:
    """POST /calls/ takes one call object or a list of up to CALLS_BATCH_MAX_ITEMS."""
    operation = result.get("paths", {}).get("/api/v1/calls/", {}).get("post")
    if not operation:
        return
    content = operation["requestBody"]["content"]["application/json"]
    batch = content["schema"]
    if batch.get("type") == "array":
        content["schema"] = {
            "oneOf": [batch["items"], {**batch, "maxItems": settings.CALLS_BATCH_MAX_ITEMS}]
        }
    # drf-spectacular wraps each example of a many=True request in a list; the view's
    # examples are whole bodies already (one object, or a list for a batch).
    for example in content.get("examples", {}).values():
        value = example.get("value")
        if isinstance(value, list) and len(value) == 1:
            example["value"] = value[0]


def error_responses(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS entry: the Error component and each operation's error answers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        _true_properties(component)
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False  # UnknownFieldsRefusedMixin, ingest
    schemas["Error"] = ERROR_SCHEMA
    _one_call_or_a_batch(result)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _bounded_ids(operation)
            for status in _error_statuses(method, operation):
                documented = operation["responses"].get(str(status), {})
                response: dict[str, Any] = {
                    "description": documented.get("description")
                    or ERROR_DESCRIPTIONS.get(status, ""),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                if status in (429, 503):
                    response["headers"] = RETRY_AFTER
                operation["responses"][str(status)] = response
    return result
