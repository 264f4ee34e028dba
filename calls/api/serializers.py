"""API shapes. Call input is validated by calls.ingest (fast path); CallInputSerializer only
documents that input in the OpenAPI schema, and a test keeps the two in step."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ppc_dashboard.tenancy.api import TenantModelSerializer
from ppc_dashboard.tenancy.models import verdict_thresholds_class

from ..ad_spend import AD_SPEND_CLASH, ad_spend_clash_exists
from ..importers import PRESETS, ImportOptionsError
from ..models import AdSpend, Call, CallImport, CallStatus, Campaign
from ..services import call_import_options, campaign_save


class CampaignSerializer(TenantModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "vertical",
            "qualifying_seconds",
            "payout",
            "rpm_floor",
            "duplicate_window_days",
            "verdict_thresholds",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        unique_in_tenant = ["name"]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()

    def create(self, validated_data) -> Campaign:
        return campaign_save(Campaign(**validated_data))

    def update(self, instance: Campaign, validated_data) -> Campaign:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return campaign_save(instance)

    def validate_verdict_thresholds(self, value: dict) -> dict:
        # The campaign's overrides apply over the tenant's: they must agree with those, as
        # the settings page checks (the model validates each override alone).
        organization = self.context["view"].organization
        try:
            verdict_thresholds_class().from_overrides(
                organization.verdict_thresholds or None, value
            )
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class AdSpendSerializer(TenantModelSerializer):
    class Meta:
        model = AdSpend
        fields = ["id", "campaign", "publisher", "day", "amount", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        organization = self.context["view"].organization
        campaign = attrs.get("campaign", getattr(self.instance, "campaign", None))
        publisher = attrs.get("publisher", getattr(self.instance, "publisher", None))
        day = attrs.get("day", getattr(self.instance, "day", None))
        if ad_spend_clash_exists(
            organization,
            campaign=campaign,
            publisher=publisher,
            day=day,
            exclude_pk=getattr(self.instance, "pk", None),
        ):
            raise serializers.ValidationError({"day": [AD_SPEND_CLASH]})
        return attrs


def _lenient(description: str, *types: str) -> serializers.Field:
    """A field calls.ingest reads leniently (platforms send what they send): documented as
    the JSON types it accepts; null is read as absent."""
    schema = {"oneOf": [{"type": kind} for kind in types], "nullable": True}

    @extend_schema_field({**schema, "description": description})
    class LenientField(serializers.Field):
        pass

    return LenientField(required=False)


class CallInputSerializer(serializers.Serializer):
    """One call record as posted (documentation of the input accepted by calls.ingest)."""

    external_id = serializers.CharField(max_length=128, help_text="Your id for the call.")
    started_at = serializers.DateTimeField(
        help_text="ISO 8601 (naive times are in the organization's time zone) or epoch s/ms."
    )
    status = serializers.ChoiceField(choices=CallStatus.choices)
    duration_seconds = _lenient(
        'Whole seconds, up to a week: 95, "95", "1:35" or "00:01:35".',
        "integer",
        "number",
        "string",
    )
    campaign_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    campaign_name = serializers.CharField(required=False, max_length=200)
    publisher_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    publisher_name = serializers.CharField(required=False, max_length=200)
    buyer_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    buyer_name = serializers.CharField(required=False, max_length=200)
    tracking_number = serializers.CharField(
        required=False,
        max_length=32,
        help_text="The number dialed; a known one gives campaign and publisher.",
    )
    caller_number = serializers.CharField(required=False, max_length=64)
    caller_region = serializers.CharField(
        required=False, max_length=64, help_text="Caller state or region."
    )
    converted = _lenient("true/false, 1/0, yes/no.", "boolean", "integer", "string")
    converted_at = _lenient(
        "ISO 8601 (naive: the organization's time zone) or epoch s/ms.", "string", "number"
    )
    revenue = _lenient('0 or more, under 10,000,000,000; "$1,234.50" is read.', "string", "number")
    cost = _lenient("Publisher payout, as revenue.", "string", "number")
    tags = serializers.DictField(required=False, help_text="At most 50; see README.")


class CallIngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class CallSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", default=None, read_only=True)
    publisher_name = serializers.CharField(source="publisher.name", default=None, read_only=True)
    buyer_name = serializers.CharField(source="buyer.name", default=None, read_only=True)
    tracking_number = serializers.CharField(source="dialed_number", read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "external_id",
            "campaign",
            "campaign_name",
            "publisher",
            "publisher_name",
            "buyer",
            "buyer_name",
            "tracking_number",
            "caller_number",
            "caller_region",
            "started_at",
            "duration_seconds",
            "status",
            "converted",
            "converted_at",
            "revenue",
            "cost",
            "source",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ExplicitBooleanField(serializers.BooleanField):
    """A required boolean even in a form post, where DRF reads a missing one as an unticked
    checkbox (false)."""

    default_empty_html = serializers.empty


class ConversionInputSerializer(serializers.Serializer):
    # Required: an empty or garbled body must not mark (or unmark) a call converted.
    converted = ExplicitBooleanField(
        help_text="true records the conversion, false clears it; required."
    )
    revenue = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, required=False, allow_null=True
    )
    converted_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs["converted"] and attrs.get("converted_at"):
            raise serializers.ValidationError(
                {"converted_at": ["Only a converted call has a conversion time."]}
            )
        return attrs


class CallImportSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = CallImport
        fields = [
            "id",
            "format",
            "original_name",
            "create_missing",
            "options",
            "status",
            "rows_total",
            "rows_done",
            "rows_imported",
            "rows_failed",
            "rows_skipped",
            "progress",
            "errors",
            "detail",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, obj: CallImport) -> float | None:
        if not obj.rows_total:
            return None
        return round(obj.rows_done / obj.rows_total, 4)


class CallImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    # A choice, so the schema lists the formats (and clients and fuzzers can pick one).
    format = serializers.ChoiceField(
        choices=sorted(PRESETS),
        error_messages={
            "invalid_choice": f"Unknown format; use one of {', '.join(sorted(PRESETS))}."
        },
    )
    # A choice, not a BooleanField: a multipart form field is text, and these are the texts.
    create_missing = serializers.ChoiceField(
        choices=["true", "false", "1", "0"], default="false", help_text="true or false."
    )
    campaign = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Put every call in this campaign."
    )
    source_timezone = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="IANA zone of the file's times without an offset, when it is not the "
        "organization's (e.g. UTC for a PBX clock).",
    )
    columns = serializers.CharField(
        max_length=1000,
        required=False,
        default="",
        allow_blank=True,
        help_text="asterisk: the Master.csv column order, comma-separated CDR field names.",
    )
    internal_context = serializers.CharField(
        max_length=1000,
        required=False,
        default="",
        allow_blank=True,
        help_text="asterisk: comma-separated dcontexts of internal calls, which are skipped.",
    )

    def validate(self, attrs):
        """The options, checked against the format and the tenant (context `organization`)."""
        attrs["create_missing"] = attrs["create_missing"] in {"true", "1"}
        try:
            attrs["options"] = call_import_options(
                organization=self.context["organization"],
                import_format=attrs["format"],
                create_missing=attrs["create_missing"],
                campaign=attrs.pop("campaign"),
                source_timezone=attrs.pop("source_timezone"),
                columns=attrs.pop("columns"),
                internal_context=attrs.pop("internal_context"),
            )
        except ImportOptionsError as exc:
            raise serializers.ValidationError(
                {name: [message] for name, message in exc.errors.items()}
            ) from exc
        return attrs
