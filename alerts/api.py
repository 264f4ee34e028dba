"""API of alerts.

Outbound webhooks: the tenant's endpoints (CRUD, secret rotation, a test event) and the
delivery log (read, filter, redeliver). Writes go through alerts.outbound, as the pages'.

Alert rules (/api/v1/alert-rules/, CRUD) and incidents (/api/v1/alerts/, list, read,
acknowledge).

Follow-ups: their rules per campaign, the list, and marking them worked (alerts.followups).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from calls.models import Campaign
from ppc_dashboard.tenancy.api import (
    TenantGenericViewSet,
    TenantModelSerializer,
    TenantModelViewSet,
    TenantReadOnlyViewSet,
    TenantRelatedField,
    UnknownFieldsRefusedMixin,
    crud_docs,
    request_tenant,
)
from ppc_dashboard.tenancy.errors import error_body
from ppc_dashboard.tenancy.pagination import CheckedCursorPagination

from . import rules
from .filters import FollowUpFilter
from .followup_rules import CONTACTED, LOST, RECOVERED
from .followups import FollowUpTransitionError, followup_transition
from .models import (
    ACKNOWLEDGER_ROLES,
    EVENT_TYPES,
    MAX_EMAIL_ADDRESSES,
    SUBSCRIBABLE_EVENT_TYPES,
    AlertIncident,
    AlertRule,
    FollowUp,
    FollowUpRule,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .outbound import (
    RedeliveryRefused,
    webhook_delivery_redeliver,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_send_test,
)
from .services import alert_incident_acknowledge, alert_rule_delete

ENDPOINT_TAG = "webhook-endpoints"
DELIVERY_TAG = "webhook-deliveries"


class WebhookEndpointSerializer(TenantModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENT_TYPES),
        allow_empty=False,
        default=list(SUBSCRIBABLE_EVENT_TYPES),
        help_text="The event types posted to this endpoint; all of them when left out.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "kind",
            "event_types",
            "active",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "created_at",
        ]
        unique_in_tenant = ["name"]

    def validate_event_types(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("An event type is listed twice.")
        return value


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret: returned only here and by rotate-secret; keep it.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


RotatedSecretSerializer = inline_serializer(
    "WebhookRotatedSecret",
    fields={
        "secret": serializers.CharField(help_text="The new secret, shown this once."),
        "previous_secret_expires_at": serializers.DateTimeField(
            help_text="Until then the replaced secret signs beside the new one."
        ),
    },
)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "status_code", "response_ms", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    idempotency_key = serializers.CharField(source="event.idempotency_key", read_only=True)
    endpoint_name = serializers.CharField(source="endpoint.name", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_type",
            "idempotency_key",
            "endpoint",
            "endpoint_name",
            "status",
            "attempts",
            "last_status_code",
            "last_response_ms",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


@crud_docs(
    tag=ENDPOINT_TAG,
    one="webhook endpoint",
    many="webhook endpoints",
    about="Webhook endpoints: where alerts and follow-ups are posted, as signed JSON "
    '(`signed_json`, see README "Outbound webhooks") or to a Slack-compatible incoming '
    "webhook (`slack`), for the event types each subscribes to. The secret is never read back: "
    "it is returned once, by the create and by rotate-secret.",
    rules="The name is unique in the organization; the URL is https to a public address; "
    f"event types among {', '.join(SUBSCRIBABLE_EVENT_TYPES)}.",
    referenced=False,  # its deliveries go with it
)
class WebhookEndpointViewSet(TenantModelViewSet):
    """Webhook endpoints of the organization."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["kind", "active"]

    @extend_schema(responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        created = WebhookEndpointCreatedSerializer(
            serializer.instance, context={"request": request}
        )
        return Response(created.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=[ENDPOINT_TAG],
        request=None,
        responses={200: RotatedSecretSerializer},
        summary="Rotate an endpoint's secret",
        description="A new signing secret, returned this once. The replaced secret keeps "
        "signing beside it for 24 hours (two `v1=` signatures), so the receiver can switch "
        "without missing a delivery.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        secret = webhook_endpoint_secret_rotate(endpoint=endpoint)
        return Response(
            {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}
        )

    @extend_schema(
        tags=[ENDPOINT_TAG],
        request=None,
        responses={202: WebhookDeliverySerializer},
        summary="Send a test event",
        description="Post a `test` event to this endpoint only (active or not), as every "
        "event is posted: signed, logged, retried on failure. Answers with the delivery; its "
        "outcome is in the delivery log.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = webhook_endpoint_send_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryFilter(django_filters.FilterSet):
    event_type = django_filters.ChoiceFilter(
        field_name="event__event_type", choices=[(name, name) for name in EVENT_TYPES]
    )

    class Meta:
        model = WebhookDelivery
        fields = ["status", "endpoint", "event_type"]


@extend_schema(tags=[DELIVERY_TAG])
class WebhookDeliveryViewSet(TenantReadOnlyViewSet):
    """The delivery log: newest first."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter

    def scope_queryset(self, queryset):
        return (
            queryset.select_related("event", "endpoint")
            .prefetch_related("attempt_log")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(
        summary="List webhook deliveries",
        description="Each event to each endpoint, newest first: status (pending, retrying, "
        "succeeded, failed), attempts, the last status code, response time and error, the next "
        "try, and every attempt. Filter by status, event_type and endpoint. Paginated.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Read a webhook delivery",
        description="One delivery with its attempt log (status code, response time, error).",
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        summary="Redeliver a webhook delivery",
        description="Send a failed (or still retrying) delivery again now: one more attempt. "
        "A delivery that succeeded is never sent again (409).",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        try:
            delivery = webhook_delivery_redeliver(delivery=self.get_object())
        except RedeliveryRefused as exc:
            return Response(error_body(str(exc), code="conflict"), status=status.HTTP_409_CONFLICT)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


# --- Alert rules and incidents ------------------------------------------------------------

THRESHOLDS_HELP = "; ".join(
    f"{kind}: "
    + ", ".join(f"{field.key} (default {field.default})" for field in fields)
    + (", verdicts (default [cut, fix])" if kind == rules.PUBLISHER_VERDICT else "")
    for kind, fields in rules.THRESHOLD_FIELDS.items()
)


@extend_schema_field({"type": "object", "additionalProperties": True})
class ThresholdsField(serializers.JSONField):
    pass


class AlertRuleSerializer(TenantModelSerializer):
    thresholds = ThresholdsField(
        required=False, help_text=f"Overrides of the kind's defaults. {THRESHOLDS_HELP}."
    )
    thresholds_in_force = serializers.SerializerMethodField(
        help_text="The defaults, the tenant default rule's overrides and this rule's, merged."
    )
    email_addresses = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        max_length=MAX_EMAIL_ADDRESSES,
        required=False,
        help_text=f"Addresses emailed besides the members (at most {MAX_EMAIL_ADDRESSES}).",
    )

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "kind",
            "campaign",
            "enabled",
            "thresholds",
            "thresholds_in_force",
            "cooldown_minutes",
            "email_members",
            "email_addresses",
            "webhooks",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "campaign": {
                "help_text": "null: the tenant's default for the kind; else this campaign's "
                "override of it."
            },
            "email_members": {"help_text": "Membership ids: these members get an email."},
            "webhooks": {
                "help_text": "Send alert.opened / alert.resolved to the outbound webhook endpoints."
            },
        }

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_thresholds_in_force(self, rule: AlertRule) -> dict:
        default = None
        if rule.campaign_id is not None:
            default = (
                AlertRule.objects.for_organization(rule.organization_id)
                .filter(kind=rule.kind, campaign__isnull=True)
                .values_list("thresholds", flat=True)
                .first()
            )
            return rules.thresholds_in_force(rule.kind, default, rule.thresholds)
        return rules.thresholds_in_force(rule.kind, rule.thresholds)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        campaign = attrs.get("campaign", getattr(self.instance, "campaign", None))
        thresholds = attrs.get("thresholds", getattr(self.instance, "thresholds", {}))
        try:
            attrs["thresholds"] = rules.thresholds_checked(kind, thresholds)
        except ValueError as exc:
            raise ValidationError({"thresholds": [str(exc)]}) from exc
        if campaign is not None and kind in rules.TENANT_ONLY_KINDS:
            raise ValidationError(
                {"campaign": [f"{kind} is judged for the whole organization: no campaign."]}
            )
        organization = request_tenant(self.context["request"]).organization
        clash = AlertRule.objects.for_organization(organization).filter(
            kind=kind, campaign=campaign
        )
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            where = f"campaign {campaign.pk}" if campaign else "the organization (default)"
            raise ValidationError({"kind": [f"A {kind} rule for {where} already exists."]})
        return attrs


@crud_docs(
    tag="alert-rules",
    one="alert rule",
    many="alert rules",
    about="Alert rules: a default per kind (campaign null) and per-campaign overrides of it, "
    "judged every minute from the rollups. Kinds: missed_call_rate, no_answer, "
    "rpm_below_floor, publisher_verdict, velocity_spike, kpis_stale.",
    rules="One rule per kind and campaign (one default per kind); kpis_stale takes no "
    "campaign; thresholds only the kind's keys, in their ranges; email_members are members "
    "of the organization.",
    referenced=False,
)
class AlertRuleViewSet(TenantModelViewSet):
    """Alert rules of the organization."""

    queryset = AlertRule.objects.all()
    serializer_class = AlertRuleSerializer
    filterset_fields = ["kind", "campaign", "enabled"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("email_members")

    def perform_destroy(self, instance: AlertRule) -> None:
        alert_rule_delete(instance)


class AlertIncidentSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()
    values = ThresholdsField(read_only=True, help_text="The numbers and threshold at opening.")
    last_values = ThresholdsField(read_only=True, help_text="The latest numbers while open.")

    class Meta:
        model = AlertIncident
        fields = [
            "id",
            "rule",
            "kind",
            "campaign",
            "publisher",
            "state",
            "summary",
            "values",
            "last_values",
            "opened_at",
            "last_seen_at",
            "resolved_at",
            "acknowledged_at",
            "acknowledged_by_name",
        ]
        read_only_fields = fields

    def get_state(self, incident: AlertIncident) -> str:
        return "open" if incident.is_open else "resolved"


class CanAcknowledge(permissions.BasePermission):
    """Owners, managers and analysts (and API keys) acknowledge; viewers only read."""

    message = "Only owners, managers and analysts can acknowledge alerts."

    def has_permission(self, request, view) -> bool:
        return request_tenant(request).role in ACKNOWLEDGER_ROLES


STATE_PARAM = OpenApiParameter(
    "state",
    OpenApiTypes.STR,
    enum=["open", "resolved"],
    description="Only open or only resolved incidents; absent: both.",
)


@extend_schema(tags=["alerts"])
@extend_schema_view(
    list=extend_schema(
        summary="List alerts",
        description="The incidents the alert rules opened, newest first, open and resolved, "
        "each with its numbers (`values` at opening, `last_values` while it held), when it "
        "opened, was last seen, resolved, and who acknowledged it.",
        parameters=[STATE_PARAM],
    ),
    retrieve=extend_schema(summary="Read an alert", description="One incident by its id."),
)
class AlertIncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Alert incidents of the organization."""

    queryset = AlertIncident.objects.all()
    serializer_class = AlertIncidentSerializer

    def scope_queryset(self, queryset):
        if self.action != "list":
            return queryset
        state = self.request.query_params.get("state", "")
        if state not in ("", "open", "resolved"):
            raise ValidationError({"state": ["Enter open or resolved."]})
        if state:
            queryset = queryset.filter(resolved_at__isnull=state == "open")
        return queryset

    @extend_schema(
        request=None,
        responses={200: AlertIncidentSerializer},
        summary="Acknowledge an alert",
        description="Say that someone is on it: records who (the member, or the API key's "
        "name) and when. The first acknowledgement stands; acknowledging again changes "
        "nothing. Owners, managers, analysts and API keys; viewers get 403.",
    )
    @action(detail=True, methods=["post"], permission_classes=[CanAcknowledge])
    def acknowledge(self, request, pk=None):
        incident = self.get_object()
        tenant = request_tenant(request)
        by_name = f"API key {tenant.api_key.name}" if tenant.api_key else ""
        user = None if tenant.api_key else request.user
        incident = alert_incident_acknowledge(incident, user=user, by_name=by_name)
        return Response(AlertIncidentSerializer(incident).data)


# --- Follow-ups ----------------------------------------------------------------------------


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


class FollowUpCursorPagination(CheckedCursorPagination):
    # Soonest due first; a follow-up's due time never changes once it is created.
    ordering = ("due_at", "id")
    page_size = 100


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
    pagination_class = FollowUpCursorPagination

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
