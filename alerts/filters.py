"""The follow-up list's filters, shared by the page and the API: `status` (repeat it for
several), `reason`, `campaign`, `publisher`, `buyer` (ids), `due_before` (an ISO 8601 instant:
the follow-ups due by then). An invalid value is a 400 naming the field, never ignored."""

import django_filters

from calls.filters import IdFilter, UtcIsoDateTimeFilter

from .models import FollowUp, FollowUpReason, FollowUpStatus


class FollowUpFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FollowUpStatus.choices)
    reason = django_filters.ChoiceFilter(choices=FollowUpReason.choices)
    campaign = IdFilter(field_name="campaign_id")
    publisher = IdFilter(field_name="publisher_id")
    buyer = IdFilter(field_name="buyer_id")
    due_before = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="lte")

    class Meta:
        model = FollowUp
        fields = ["status", "reason", "campaign", "publisher", "buyer"]
