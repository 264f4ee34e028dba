import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField

from .models import Call, CallStatus


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
    """A row id: a whole number (NumberFilter alone would read `1.5` as id 1)."""

    field_class = forms.IntegerField


class CallFilter(django_filters.FilterSet):
    """Call list filters. Dates are days in the organization's time zone."""

    date_from = django_filters.DateFilter(method="filter_date_from", label="First day (inclusive)")
    date_to = django_filters.DateFilter(method="filter_date_to", label="Last day (inclusive)")
    started_after = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    status = django_filters.MultipleChoiceFilter(choices=CallStatus.choices)
    campaign = IdFilter(field_name="campaign_id")
    publisher = IdFilter(field_name="publisher_id")
    buyer = IdFilter(field_name="buyer_id")
    converted = django_filters.BooleanFilter()

    class Meta:
        model = Call
        fields = ["status", "campaign", "publisher", "buyer", "converted"]

    def _day_start(self, day: dt.date) -> dt.datetime | None:
        """Midnight starting `day` in the tenant's zone, as UTC; None off the calendar's ends."""
        tz = self.request.tenant_tz  # set by the view from the tenant context
        try:
            return dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
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
