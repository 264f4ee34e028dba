"""The call log's filters, shared by the page, its CSV export and the API's call list.

- `date_from` / `date_to`: days in the tenant's time zone, inclusive.
- `started_after` / `started_before`: ISO 8601 instants.
- `status`: one or more (`?status=missed&status=no_buyer`).
- `campaign`, `publisher`, `buyer`: ids.
- `converted`, `is_repeat`: `true` or `false` (also 1/0, yes/no).
- `caller`: a whole number in any usual form (`+1 312-555-0100`, `(312) 555-0100`: read as
  calls are stored, US without a country code) matches that caller exactly; a fragment with at
  least one digit (`555-0100`, `0100`) matches the callers whose number contains its digits.
- `tag`: `key:value`, split at the first colon, repeatable (every one must match). The value
  matches a tag posted as that text, or as the number or boolean it spells (`score:5` finds
  `5` and `"5"`, `vip:true` finds `true` and `"true"`).

A value that is not valid is an error for its field (the API answers 400), never ignored.
"""

import datetime as dt
import json
import math
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from ppc_dashboard.tenancy.filters import TrueFalseFilter
from ppc_dashboard.tenancy.selectors import tenant_context_for_request
from routing.phone_numbers import whole_phone_to_e164

from .models import Call, CallStatus

_NOT_DIGITS = re.compile(r"\D")
_no_null_characters = ProhibitNullCharactersValidator()


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, in UTC. One that falls off the calendar in UTC is invalid
    (0001-01-01T00:00+05:00 would overflow in the query)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError("This date and time is out of range.", code="overflow") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 (NumberFilter alone would read `1.5` as id 1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class CallerField(forms.CharField):
    def validate(self, value):
        super().validate(value)
        if value and not _NOT_DIGITS.sub("", value):
            raise ValidationError("Enter a phone number or some of its digits.", code="invalid")


class CallerFilter(django_filters.CharFilter):
    field_class = CallerField


class TagsField(forms.Field):
    """Every `tag=key:value` of the query, as (key, value) pairs."""

    widget = forms.MultipleHiddenInput  # reads every `tag` of the query, not only the last

    def to_python(self, value) -> list[tuple[str, str]]:
        pairs = []
        for text in value or []:
            if not text:
                continue  # the page's empty tag box
            _no_null_characters(text)
            key, colon, tag_value = str(text).partition(":")
            if not colon or not key:
                raise ValidationError(
                    f"'{text}' is not a tag filter: write key:value, e.g. source:google.",
                    code="invalid",
                )
            pairs.append((key, tag_value))
        return pairs


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "pattern": "^[^:]+:"},
        "description": "A tag as key:value (split at the first colon); repeat for several, "
        'all must match. `score:5` matches the number 5 and the text "5", `vip:true` the '
        "boolean and the text.",
    }
)
class TagsFilter(django_filters.Filter):
    field_class = TagsField


def tag_value_candidates(text: str) -> list[object]:
    """The JSON values a tag filter's text stands for: the text, and the number or boolean
    it spells (tags are posted as strings, numbers or booleans)."""
    candidates: list[object] = [text]
    try:
        spelled = json.loads(text)
    except ValueError:
        return candidates
    # json reads NaN and Infinity too, which no tag holds (and jsonb cannot).
    if isinstance(spelled, bool | int) or (isinstance(spelled, float) and math.isfinite(spelled)):
        candidates.append(spelled)
    return candidates


class CallFilter(django_filters.FilterSet):
    """Call list filters (the module docstring says what each accepts)."""

    date_from = django_filters.DateFilter(method="filter_date_from", label="First day (inclusive)")
    date_to = django_filters.DateFilter(method="filter_date_to", label="Last day (inclusive)")
    started_after = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    status = django_filters.MultipleChoiceFilter(choices=CallStatus.choices)
    campaign = IdFilter(field_name="campaign_id")
    publisher = IdFilter(field_name="publisher_id")
    buyer = IdFilter(field_name="buyer_id")
    converted = TrueFalseFilter()
    is_repeat = TrueFalseFilter(
        label="Repeat calls (true) or first calls (false): KPIS.md repeat_calls"
    )
    caller = CallerFilter(
        method="filter_caller",
        label="Caller number, whole (exact) or some of its digits (contains)",
    )
    tag = TagsFilter(method="filter_tags")

    class Meta:
        model = Call
        fields = ["status", "campaign", "publisher", "buyer", "converted", "is_repeat"]

    def _day_start(self, day: dt.date) -> dt.datetime | None:
        """Midnight starting `day` in the tenant's zone, as UTC; None off the calendar's ends."""
        tenant = tenant_context_for_request(self.request)
        assert tenant is not None  # pages and the API refuse requests without a tenant
        try:
            return dt.datetime.combine(
                day, dt.time.min, tzinfo=tenant.organization.tzinfo
            ).astimezone(dt.UTC)
        except OverflowError:
            return None

    def filter_date_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        start = self._day_start(value)
        # Only the first days of year 1 overflow: every call is later.
        return queryset if start is None else queryset.filter(started_at__gte=start)

    def filter_date_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        if value == dt.date.max:
            return queryset
        end = self._day_start(value + dt.timedelta(days=1))
        return queryset if end is None else queryset.filter(started_at__lt=end)

    def filter_caller(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        tenant = tenant_context_for_request(self.request)
        assert tenant is not None  # pages and the API refuse requests without a tenant
        # Read in the tenant's country, as ingest stored the numbers.
        whole = whole_phone_to_e164(value, tenant.organization.country)
        if whole is not None:
            return queryset.filter(caller_number=whole)  # the (organization, caller) index
        return queryset.filter(caller_number__contains=_NOT_DIGITS.sub("", value))

    def filter_tags(self, queryset: QuerySet, name: str, value: list[tuple[str, str]]) -> QuerySet:
        for n, (key, text) in enumerate(value):
            # An expression, not `tags__<key>`: a key may hold "__" or name a lookup.
            alias = f"tag_filter_{n}"
            queryset = queryset.alias(**{alias: KeyTransform(key, "tags")}).filter(
                **{f"{alias}__in": tag_value_candidates(text)}
            )
        return queryset
