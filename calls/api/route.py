"""POST /api/v1/route: where a call should go, for platforms that ask before dialing."""

from __future__ import annotations

import re

from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from ppc_dashboard.db import prepared_cursor
from ppc_dashboard.tenancy.api import (
    PlainFieldsCopiedMixin,
    StrictCharField,
    TenantViewSet,
    UnknownFieldsRefusedMixin,
    request_tenant,
)
from routing.models import TrackingNumber
from routing.phone_numbers import PhoneNumberError, caller_number_normalized, phone_to_e164
from routing.rules import Caller, SkipReason

from ..live_routing import RouteResult, caller_geo, route_call
from ..models import Campaign

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_REGION = re.compile(r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,3}$")


class RouteInputSerializer(
    PlainFieldsCopiedMixin, UnknownFieldsRefusedMixin, serializers.Serializer
):
    campaign = serializers.IntegerField(
        required=False, min_value=1, help_text="The campaign's id; or give tracking_number."
    )
    tracking_number = StrictCharField(
        required=False, max_length=32, help_text="The number called; gives the campaign."
    )
    caller_number = StrictCharField(required=False, allow_blank=True, max_length=32)
    caller_country = StrictCharField(
        required=False, allow_blank=True, max_length=2, help_text='ISO 3166-1: "US".'
    )
    caller_region = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=6,
        help_text='ISO 3166-2 ("US-CA") or a state of the caller\'s country ("CA").',
    )
    at = serializers.DateTimeField(
        required=False, help_text="When the call arrives (default: now). Hours and caps use it."
    )
    call_id = StrictCharField(
        required=False,
        max_length=64,
        help_text="Your id for the call. Given: the call is sent, taking a concurrency slot "
        "at the first destination that has one and counting toward its caps. Omitted: the "
        "answer is advice only and changes nothing.",
    )

    def validate_caller_country(self, value: str) -> str:
        if value and not _COUNTRY.match(value):
            raise serializers.ValidationError('Expected a country code, e.g. "US".')
        return value

    def validate_caller_region(self, value: str) -> str:
        if value and not _REGION.match(value):
            raise serializers.ValidationError('Expected a region code, e.g. "US-CA" or "CA".')
        return value

    def validate(self, attrs):
        organization = request_tenant(self.context["request"]).organization
        if ("campaign" in attrs) == ("tracking_number" in attrs):
            raise serializers.ValidationError(
                {"campaign": ["Give either campaign or tracking_number."]}
            )
        if "campaign" in attrs:
            attrs["campaign"] = _campaign(organization.pk, attrs["campaign"])
            if attrs["campaign"] is None:
                raise serializers.ValidationError({"campaign": ["No campaign with this id."]})
        else:
            attrs["campaign"] = _tracking_campaign(organization, attrs.pop("tracking_number"))
        try:
            attrs["caller_number"] = caller_number_normalized(
                attrs.get("caller_number", ""), organization.country
            )
        except PhoneNumberError as exc:
            raise serializers.ValidationError({"caller_number": [str(exc)]}) from exc
        return attrs


# Read on every decision: written out, as compiling the ORM's query cost more CPU than
# running it (as in routing.selectors), and only the fields a decision reads (the others
# load if asked, as with `.only()`). Scoped to the tenant like the rest.
_CAMPAIGN_FIELDS = ("id", "organization_id", "duplicate_window_days")
_CAMPAIGN_OF_TENANT = (
    f"SELECT {', '.join(_CAMPAIGN_FIELDS)} FROM {Campaign._meta.db_table} "
    "WHERE organization_id = %s AND id = %s"
)


def _campaign(organization_id: int, campaign_id: int) -> Campaign | None:
    with prepared_cursor() as cursor:
        cursor.execute(_CAMPAIGN_OF_TENANT, [organization_id, campaign_id])
        row = cursor.fetchone()
    return None if row is None else Campaign.from_db(connection.alias, _CAMPAIGN_FIELDS, row)


def _tracking_campaign(organization, number: str) -> Campaign:
    try:
        e164 = phone_to_e164(number, organization.country)
    except PhoneNumberError as exc:
        raise serializers.ValidationError({"tracking_number": [str(exc)]}) from exc
    tracking = (
        TrackingNumber.objects.for_organization(organization)
        .select_related("campaign")
        .filter(number=e164)
        .first()
    )
    if tracking is None:
        raise serializers.ValidationError({"tracking_number": [f"{e164} is not set up."]})
    return tracking.campaign


class RouteDestinationSerializer(serializers.Serializer):
    buyer = serializers.IntegerField()
    name = serializers.CharField()
    number = serializers.CharField(help_text="E.164, to dial.")
    tier = serializers.IntegerField()
    ring_timeout_seconds = serializers.IntegerField()


class RouteSkipSerializer(serializers.Serializer):
    buyer = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.ChoiceField(choices=[reason.value for reason in SkipReason])
    detail = serializers.CharField(help_text="Why, for a person.")


class RouteOutputSerializer(serializers.Serializer):
    plan_version = serializers.IntegerField(
        allow_null=True, help_text="The plan version that decided; null: the campaign has none."
    )
    destinations = RouteDestinationSerializer(many=True, help_text="Try them in this order.")
    skipped = RouteSkipSerializer(many=True)
    repeat_of = serializers.IntegerField(
        allow_null=True, help_text="The buyer of the caller's first call when this repeats it."
    )
    sent_to = serializers.IntegerField(
        allow_null=True, help_text="With call_id: the buyer whose slot the call took."
    )


def route_json(result: RouteResult) -> dict:
    names = {target.target_id: target.name for target in result.plan.targets} if result.plan else {}
    decision = result.decision
    return {
        "plan_version": result.plan.version if result.plan else None,
        "destinations": [
            {
                "buyer": target.target_id,
                "name": target.name,
                "number": target.destination,
                "tier": target.tier,
                "ring_timeout_seconds": target.ring_timeout_seconds,
            }
            for target in decision.destinations
        ],
        "skipped": [
            {
                "buyer": skip.target_id,
                "name": names.get(skip.target_id, ""),
                "reason": str(skip.reason),
                "detail": skip.detail,
            }
            for skip in decision.skipped
        ],
        "repeat_of": decision.repeat_of_target_id,
        "sent_to": result.sent_to.target_id if result.sent_to else None,
    }


class RouteViewSet(TenantViewSet):
    @extend_schema(
        request=RouteInputSerializer,
        responses={200: RouteOutputSerializer},
        tags=["routing"],
        summary="Route a call",
        description=(
            "Where a call to a campaign (or tracking number) should go now: the buyers to try "
            "in order (tiers ascending, a weighted draw within a tier, a repeat caller's first "
            "buyer first when the plan says so) and every buyer of the plan left out with why "
            "(inactive, no number, closed, geo, concurrency, hourly/daily/monthly cap). "
            "Without call_id nothing changes; with call_id the call is sent: it takes a "
            "concurrency slot at the first destination that has one (released when the slot "
            "expires: ring timeout plus the longest call) and counts toward its caps, and "
            "`destinations` starts at that buyer. A campaign without a routing plan answers "
            "plan_version null and no destinations."
        ),
    )
    def create(self, request):
        serializer = RouteInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        country, region = caller_geo(
            self.organization, data.get("caller_country", ""), data.get("caller_region", "")
        )
        result = route_call(
            organization=self.organization,
            campaign=data["campaign"],
            caller=Caller(number=data["caller_number"], country=country, region=region),
            at=data.get("at") or timezone.now(),
            call_sid=data.get("call_id", ""),
        )
        return Response(route_json(result))
