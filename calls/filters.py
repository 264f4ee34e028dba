import datetime as dt

import django_filters
from django.db.models import QuerySet

from .models import Call, CallStatus


class CallFilter(django_filters.FilterSet):
    """Call list filters. Dates are days in the organization's time zone."""

    date_from = django_filters.DateFilter(method="filter_date_from", label="First day (inclusive)")
    date_to = django_filters.DateFilter(method="filter_date_to", label="Last day (inclusive)")
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    status = django_filters.MultipleChoiceFilter(choices=CallStatus.choices)
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    publisher = django_filters.NumberFilter(field_name="publisher_id")
    buyer = django_filters.NumberFilter(field_name="buyer_id")
    converted = django_filters.BooleanFilter()

    class Meta:
        model = Call
        fields = ["status", "campaign", "publisher", "buyer", "converted"]

    def _day_start(self, day: dt.date) -> dt.datetime:
        tz = self.request.tenant_tz  # set by the view from the tenant context
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz)

    def filter_date_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(started_at__gte=self._day_start(value))

    def filter_date_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(started_at__lt=self._day_start(value + dt.timedelta(days=1)))
