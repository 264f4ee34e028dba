"""API of follow-ups: their rules per campaign, the list, and marking them worked."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from calls.models import Campaign
from ppc_dashboard.tenancy.api import (
    TenantGenericViewSet,
    TenantModelSerializer,
    TenantModelViewSet,
    TenantRelatedField,
    UnknownFieldsRefusedMixin,
    crud_docs,
    request_tenant,
)

from .filters import FollowUpFilter
from .followup_rules import CONTACTED, LOST, RECOVERED
from .followups import FollowUpTransitionError, followup_transition
from .models import FollowUp, FollowUpRule


class FollowUpRuleSerializer(TenantModelSerializer):
    campaign = TenantRelatedField(queryset=Campaign.objects.all())

    class Meta:
        model = FollowUpRule
        fields = [
            "id",
            "campaign",
            "on_missed",
            "missed_delay_minutes",
            "on_not_converted",
            "not_converted_minutes",
            "fallback_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        unique_in_tenant = ["campaign"]


@crud_docs(
    tag="follow-ups",
    one="follow-up rule",
    many="follow-up rules",
    about="Follow-up rules, one per campaign: a missed call (any status but answered) gets a "
    "follow-up due `missed_delay_minutes` after it ends; an answered call still not converted "
    "`not_converted_minutes` after it ends gets one then. Due times fall in the call's buyer's "
    "hours, or in `fallback_hours` (organization time zone; empty: at once) without a buyer.",
    rules="One rule per campaign; delays are whole minutes up to a week.",
    referenced=False,
)
class FollowUpRuleViewSet(TenantModelViewSet):
    queryset = FollowUpRule.objects.all()
    serializer_class = FollowUpRuleSerializer
    filterset_fields = ["campaign"]

    def scope_queryset(self, queryset):
        return queryset.select_related("campaign").order_by("id")


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FollowUpSerializer(serializers.ModelSerializer):
    campaign = NamedSerializer()
    publisher = NamedSerializer(allow_null=True)
    buyer = NamedSerializer(allow_null=True)
    call = serializers.CharField(source="call.external_id", help_text="The call's external_id")
    call_started_at = serializers.DateTimeField(source="call.started_at")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "status",
            "reason",
            "caller_number",
            "due_at",
            "campaign",
            "publisher",
            "buyer",
            "call",
            "call_started_at",
            "contacted_at",
            "contacted_by",
            "closed_at",
            "closed_by",
            "recovered_revenue",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class FollowUpNoteSerializer(UnknownFieldsRefusedMixin, serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class FollowUpRecoveredSerializer(FollowUpNoteSerializer):
    revenue = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=0,
        help_text="What the recovered caller brought (counts in the call's revenue)",
    )


TRANSITION_DOC = (
    "A follow-up goes open -> contacted -> recovered or lost (open may go straight to "
    "recovered or lost); recovered and lost are final. Any other change is a 400 with code "
    "`invalid` naming `status`. Publishes a `followup.updated` webhook event."
)


@extend_schema(tags=["follow-ups"])
@extend_schema_view(
    list=extend_schema(
        summary="List follow-ups",
        description="The organization's follow-ups (callers to call back), soonest due first, "
        "filtered by status (repeatable), reason, campaign, publisher, buyer or due_before.",
    ),
    retrieve=extend_schema(summary="Read a follow-up", description="One follow-up by its id."),
)
class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter

    def scope_queryset(self, queryset):
        return queryset.select_related("campaign", "publisher", "buyer", "call")

    def _transition(self, request, status: str, input_class) -> Response:
        followup = self.get_object()
        body = input_class(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = request_tenant(request)
        actor = f"API key {tenant.api_key.name}" if tenant.api_key else request.user.email
        try:
            followup = followup_transition(
                followup=followup, status=status, actor=actor, **body.validated_data
            )
        except FollowUpTransitionError as exc:
            raise serializers.ValidationError({"status": [str(exc)]}) from exc
        return Response(FollowUpSerializer(followup).data)

    @extend_schema(
        request=FollowUpNoteSerializer,
        responses={200: FollowUpSerializer},
        summary="Mark a follow-up contacted",
        description=f"The caller was reached (or tried). {TRANSITION_DOC}",
    )
    @action(detail=True, methods=["post"])
    def contacted(self, request, pk=None):
        return self._transition(request, CONTACTED, FollowUpNoteSerializer)

    @extend_schema(
        request=FollowUpRecoveredSerializer,
        responses={200: FollowUpSerializer},
        summary="Mark a follow-up recovered",
        description="The caller converted after all: `revenue` is attributed to the call, so "
        "the KPIs of its campaign and publisher count it (recovered, recovered_revenue, and "
        f"revenue). {TRANSITION_DOC}",
    )
    @action(detail=True, methods=["post"])
    def recovered(self, request, pk=None):
        return self._transition(request, RECOVERED, FollowUpRecoveredSerializer)

    @extend_schema(
        request=FollowUpNoteSerializer,
        responses={200: FollowUpSerializer},
        summary="Mark a follow-up lost",
        description=f"The caller will not convert. {TRANSITION_DOC}",
    )
    @action(detail=True, methods=["post"])
    def lost(self, request, pk=None):
        return self._transition(request, LOST, FollowUpNoteSerializer)
