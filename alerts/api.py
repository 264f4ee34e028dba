"""The alerts API: /api/v1/alert-rules/ (CRUD) and /api/v1/alerts/ (incidents, acknowledge)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ppc_dashboard.tenancy.api import (
    TenantGenericViewSet,
    TenantModelSerializer,
    TenantModelViewSet,
    crud_docs,
    request_tenant,
)

from . import rules
from .models import ACKNOWLEDGER_ROLES, MAX_EMAIL_ADDRESSES, AlertIncident, AlertRule
from .services import alert_incident_acknowledge, alert_rule_delete

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
