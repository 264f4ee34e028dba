"""The API's JSON parser: DRF's, with bounds on what a body may hold.

Refused with a 400 naming where it is (`BodyRejected`), before any field is validated:
- nesting deeper than `MAX_JSON_DEPTH` (a body nested a thousand deep used to overflow the
  stack while it was parsed or saved);
- text holding a lone UTF-16 surrogate (`"\\ud800"`): no UTF-8 text can hold it, so the
  database would refuse it in the middle of a write;
- numbers that no field can hold: infinite (`1e999`) or beyond 64-bit integers.
Fields bound their own values further (lengths, ranges); these bounds hold for every field,
including the free-form ones (`tags`, `verdict_thresholds`, `business_hours`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 20
MAX_JSON_INTEGER = 2**63 - 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyRejected(ParseError):
    """A request body refused while it was parsed, with the fields at fault if known."""

    def __init__(self, detail: str, errors: Mapping | None = None):
        super().__init__(detail)
        self.errors = dict(errors or {})


def _where(path: Sequence[str | int]) -> str:
    return ".".join(str(step) for step in path) or "the body"


def _errors_at(path: Sequence[str | int], message: str) -> dict:
    """Errors keyed as the validators key them: by field, or by item index then field (a batch
    of calls); deeper places are named in the message."""
    if not path:
        return {"non_field_errors": [message]}
    head, *rest = path
    if isinstance(head, int) and rest:
        return {str(head): {str(rest[0]): [message]}}
    return {str(head): [message]}


def json_bounds_problem(data: object) -> tuple[Sequence[str | int], str] | None:
    """The first place in parsed JSON that breaks a bound, and what is wrong there."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return path, f"Text at {_where(path)} holds a lone surrogate; send valid Unicode."
        elif isinstance(value, float):
            if not math.isfinite(value):
                return path, f"The number at {_where(path)} is out of range."
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_JSON_INTEGER:
                return path, f"The number at {_where(path)} is out of range."
        elif isinstance(value, dict | list):
            if len(path) >= MAX_JSON_DEPTH:
                return path, f"JSON is nested deeper than {MAX_JSON_DEPTH} levels."
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _LONE_SURROGATE.search(key):
                    return path, f"A name in {_where(path)} holds a lone surrogate."
                stack.append((item, (*path, key)))
    return None


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise BodyRejected(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
            ) from exc
        problem = json_bounds_problem(data)
        if problem is not None:
            path, message = problem
            raise BodyRejected(message, errors=_errors_at(path, message))
        return data
