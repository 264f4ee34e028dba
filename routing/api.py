import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from ppc_dashboard.tenancy.api import (
    StrictCharField,
    TenantGenericViewSet,
    TenantModelSerializer,
    TenantModelViewSet,
    TenantRelatedField,
    UnknownFieldsRefusedMixin,
    crud_docs,
    list_errors_flat,
    request_tenant,
)

from .business_hours import BusinessHoursError, validate_business_hours
from .models import (
    Buyer,
    RoutingPlan,
    RoutingPlanTarget,
    TrackingNumber,
    geo_codes_normalized,
    phone_number_in_tenant,
    validate_geo_codes,
    validate_geo_lists,
)
from .services import NOTE_MAX_CHARS, PlanTargetInput, routing_plan_save


def _e164(serializer: serializers.Serializer, value: str) -> str:
    """The number in E.164, read in the tenant's country, as calls to it will be."""
    return phone_number_in_tenant(value, request_tenant(serializer.context["request"]).organization)


class GeoCodesField(serializers.JSONField):
    """Country and region codes, stored upper-case ("us-ca" is read as "US-CA") and once
    each, in the order sent; then checked by the model's rule."""

    def __init__(self, **kwargs):
        super().__init__(validators=[validate_geo_codes], **kwargs)

    def to_internal_value(self, data):
        return geo_codes_normalized(super().to_internal_value(data))


class BuyerSerializer(TenantModelSerializer):
    geo_allow = GeoCodesField(
        required=False,
        help_text='Only callers from these countries ("US") or regions ("US-CA"); [] means '
        "every caller. A caller whose place is unknown is refused by a non-empty list.",
    )
    geo_deny = GeoCodesField(
        required=False,
        help_text="Never callers from these countries or regions; wins over geo_allow.",
    )
    business_hours = serializers.JSONField(
        required=False,
        help_text='Weekday -> [["HH:MM","HH:MM"], ...] in the buyer\'s time zone; '
        "{} means always open.",
    )

    class Meta:
        model = Buyer
        fields = [
            "id",
            "name",
            "phone_number",
            "timezone",
            "business_hours",
            "active",
            "concurrency_cap",
            "hourly_cap",
            "daily_cap",
            "monthly_cap",
            "geo_allow",
            "geo_deny",
            "ring_timeout_seconds",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        unique_in_tenant = ["name"]
        extra_kwargs = {
            "phone_number": {"validators": []},  # normalized below instead
            "hourly_cap": {"help_text": "Calls sent per hour of its time zone; empty: no limit."},
            "daily_cap": {"help_text": "Calls sent per day of its time zone; empty: no limit."},
            "monthly_cap": {"help_text": "Calls sent per month of its time zone; empty: no limit."},
        }

    def validate_phone_number(self, value: str) -> str:
        return _e164(self, value) if value else value

    def validate_business_hours(self, value: object) -> object:
        # The field is declared above for its help text, which drops the model's validators.
        try:
            validate_business_hours(value)
        except BusinessHoursError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate(self, attrs):
        attrs = super().validate(attrs)
        allow = attrs.get("geo_allow", getattr(self.instance, "geo_allow", []))
        deny = attrs.get("geo_deny", getattr(self.instance, "geo_deny", []))
        try:
            validate_geo_lists(allow, deny)  # the model's rule, as the buyer screen applies it
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


@crud_docs(
    tag="buyers",
    one="buyer",
    many="buyers",
    about="Buyers: the call centers calls are routed to, with their phone number, time zone, "
    "weekly business hours and routing settings (active, concurrency and hourly/daily/monthly "
    "caps, geo allow/deny lists, ring timeout).",
    rules="The name is unique in the organization; the phone number is stored in E.164 "
    "(read in the organization's country); business hours are weekday -> [[HH:MM, HH:MM]]; "
    'geo codes are countries ("US") or regions ("US-CA"), stored upper-case, never both '
    "allowed and denied; caps count the calls sent in the buyer's own hour, day and month; "
    "the ring timeout is 5 to 120 seconds.",
)
class BuyerViewSet(TenantModelViewSet):
    """Buyers: the call centers calls are routed to."""

    queryset = Buyer.objects.all()
    serializer_class = BuyerSerializer
    filterset_fields = ["name"]


class TrackingNumberSerializer(TenantModelSerializer):
    class Meta:
        model = TrackingNumber
        fields = ["id", "number", "campaign", "publisher", "created_at"]
        read_only_fields = ["id", "created_at"]
        unique_in_tenant = ["number"]
        extra_kwargs = {"number": {"validators": []}}  # normalized below instead

    def validate_number(self, value: str) -> str:
        return _e164(self, value)


@crud_docs(
    tag="tracking-numbers",
    one="tracking number",
    many="tracking numbers",
    about="Tracking numbers: each maps the calls to it to its campaign and publisher.",
    rules="The number is stored in E.164 (read in the organization's country) and is unique "
    "in the organization; campaign and publisher are the organization's own.",
    referenced=False,  # its calls keep their campaign and publisher
)
class TrackingNumberViewSet(TenantModelViewSet):
    """Tracking numbers: each maps calls to its campaign and publisher."""

    queryset = TrackingNumber.objects.all()
    serializer_class = TrackingNumberSerializer
    filterset_fields = ["campaign", "publisher", "number"]


# --- Routing plans ------------------------------------------------------------------------


class PlanTargetInputSerializer(UnknownFieldsRefusedMixin, serializers.Serializer):
    # Plain numbers: routing_plan_save checks them (bounds, the tenant's buyers, duplicates)
    # and its messages name the target, so the API and the plan editor say the same thing.
    buyer = serializers.IntegerField(help_text="A buyer's id.")
    tier = serializers.IntegerField(default=1, help_text="1 (tried first) to 20.")
    weight = serializers.IntegerField(
        default=1, help_text="1 to 1000: the buyer's share of its tier's calls."
    )


class RoutingPlanInputSerializer(UnknownFieldsRefusedMixin, serializers.Serializer):
    campaign = TenantRelatedField(
        queryset=RoutingPlan._meta.get_field("campaign").related_model.objects.all()
    )
    targets = PlanTargetInputSerializer(
        many=True, help_text="The buyers of the plan with their tier and weight."
    )
    repeat_to_first_buyer = serializers.BooleanField(
        default=True,
        help_text="A repeat caller within the campaign's duplicate window goes to the buyer "
        "of their first call when that buyer can take it.",
    )
    note = StrictCharField(
        default="", allow_blank=True, max_length=NOTE_MAX_CHARS, help_text="What changed."
    )


class RoutingPlanTargetSerializer(serializers.ModelSerializer):
    buyer_name = serializers.CharField(source="buyer.name", read_only=True)

    class Meta:
        model = RoutingPlanTarget
        fields = ["buyer", "buyer_name", "tier", "weight"]
        read_only_fields = fields


class RoutingPlanSerializer(serializers.ModelSerializer):
    targets = RoutingPlanTargetSerializer(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="email", read_only=True, help_text="Who saved it (null: an API key)."
    )

    class Meta:
        model = RoutingPlan
        fields = [
            "id",
            "campaign",
            "version",
            "repeat_to_first_buyer",
            "note",
            "targets",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class RoutingPlanSavedSerializer(RoutingPlanSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text='What the plan leaves uncovered, e.g. "every target is closed on Sundays".',
    )

    class Meta(RoutingPlanSerializer.Meta):
        fields = [*RoutingPlanSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class RoutingPlanFilter(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(
        field_name="campaign_id", min_value=1, max_value=2**63 - 1
    )
    current = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_current",
        label="true: each campaign's current plan (its highest version) only; "
        "false: the earlier versions only",
    )

    class Meta:
        model = RoutingPlan
        fields = ["campaign", "version"]

    def filter_current(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        highest = Subquery(
            RoutingPlan.objects.filter(
                organization=OuterRef("organization"), campaign=OuterRef("campaign")
            )
            .order_by("-version")
            .values("version")[:1]
        )
        if value == "true":
            return queryset.filter(version=highest)
        return queryset.exclude(version=highest)


PLANS_ABOUT = (
    "Routing plans: per campaign, tiers of buyers tried in order, weighted within a tier. "
    "Versions are never edited: saving writes the campaign's next version, and every call "
    "records the version that routed it. A campaign's current plan is its highest version "
    "(`?campaign=<id>&current=true`)."
)


@extend_schema_view(
    list=extend_schema(
        tags=["routing-plans"],
        summary="List routing plan versions",
        description=f"{PLANS_ABOUT} Paginated; filter by campaign, version and current.",
    ),
    retrieve=extend_schema(
        tags=["routing-plans"],
        summary="Read a routing plan version",
        description=f"One version by its id. {PLANS_ABOUT}",
    ),
    create=extend_schema(
        tags=["routing-plans"],
        summary="Save a routing plan (a new version)",
        description="Write the campaign's next plan version: `targets` lists buyers with "
        "their tier (1 is tried first) and weight (their share within the tier). Refused "
        "(400, errors keyed `targets[i].buyer`, `.tier`, `.weight`) for a buyer that is not "
        "the organization's, is inactive, has no phone number or is listed twice, and for an "
        "empty plan. The answer's `warnings` say what the plan leaves uncovered (hours of the "
        "week no buyer is open in the organization's time zone, callers no buyer takes, no "
        "backup, caps); the plan is saved anyway. Owners, managers and API keys only.",
        request=RoutingPlanInputSerializer,
        responses={201: RoutingPlanSavedSerializer},
    ),
)
class RoutingPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantGenericViewSet
):
    """Routing plan versions: listed, read and saved as new versions, never changed."""

    queryset = RoutingPlan.objects.all()
    serializer_class = RoutingPlanSerializer
    filterset_class = RoutingPlanFilter

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("created_by").prefetch_related(
            Prefetch("targets", RoutingPlanTarget.objects.select_related("buyer"))
        )

    def create(self, request, *args, **kwargs):
        serializer = RoutingPlanInputSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # "targets[i].field", as routing_plan_save keys its own errors: one way to name a
            # target's field on this endpoint.
            raise serializers.ValidationError(list_errors_flat(serializer.errors, ["targets"]))
        data = serializer.validated_data
        try:
            result = routing_plan_save(
                organization=self.organization,
                campaign=data["campaign"],
                targets=[
                    PlanTargetInput(t["buyer"], t["tier"], t["weight"]) for t in data["targets"]
                ],
                repeat_to_first_buyer=data["repeat_to_first_buyer"],
                note=data["note"],
                # An API key (request.auth) is no person.
                created_by=None if request.auth is not None else request.user,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        plan = self.scope_queryset(RoutingPlan.objects.filter(pk=result.plan.pk)).get()
        plan.warnings = result.warnings
        return Response(RoutingPlanSavedSerializer(plan).data, status=status.HTTP_201_CREATED)
