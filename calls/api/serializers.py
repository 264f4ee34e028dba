"""API shapes. Call input is validated by calls.ingest (fast path); CallInputSerializer only
documents that input in the OpenAPI schema, and a test keeps the two in step."""

from __future__ import annotations

import codecs

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ppc_dashboard.tenancy.api import TenantModelSerializer, UnknownFieldsRefusedMixin
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


def _lenient(description: str, *alternatives: dict, required: bool = False) -> serializers.Field:
    """A field calls.ingest reads leniently (platforms send what they send): documented as
    the JSON it accepts; null reads as absent."""
    schema = {"oneOf": list(alternatives), "nullable": not required, "description": description}

    @extend_schema_field(schema)
    class LenientField(serializers.Field):
        pass

    return LenientField(required=required)


NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
DIGITS = {"type": "string", "pattern": r"^\s*\d*\s*$"}


def _text(description: str, max_length: int) -> serializers.Field:
    # A number is read as the text it spells (str()), so it is documented too.
    return _lenient(description, {"type": "string", "maxLength": max_length}, NUMBER)


class CallInputSerializer(serializers.Serializer):
    """One call record as posted (documentation of the input accepted by calls.ingest)."""

    external_id = _lenient(
        "Your id for the call; unique in the organization.",
        {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"\S"},
        {"type": "integer", "minimum": 0},
        required=True,
    )
    started_at = _lenient(
        "ISO 8601 (naive times are in the organization's time zone) or epoch s/ms.",
        {"type": "string", "minLength": 1},
        NUMBER,
        required=True,
    )
    status = serializers.ChoiceField(choices=CallStatus.choices)
    duration_seconds = _lenient(
        'Whole seconds, up to a week: 95, "95", "1:35" or "00:01:35".',
        INTEGER,
        NUMBER,
        {"type": "string"},
    )
    campaign_id = _lenient("A campaign of the organization.", ID, DIGITS)
    campaign_name = _text("Read when campaign_id is not given.", 200)
    publisher_id = _lenient("A publisher of the organization.", ID, DIGITS)
    publisher_name = _text("Read when publisher_id is not given.", 200)
    buyer_id = _lenient("A buyer of the organization.", ID, DIGITS)
    buyer_name = _text("Read when buyer_id is not given.", 200)
    tracking_number = _text("The number dialed; a known one gives campaign and publisher.", 32)
    caller_number = _text("The caller's number, any usual form.", 64)
    caller_region = _text("Caller state or region.", 64)
    converted = _lenient(
        "true/false, 1/0, yes/no.", {"type": "boolean"}, INTEGER, {"type": "string"}
    )
    converted_at = _lenient(
        "ISO 8601 (naive: the organization's time zone) or epoch s/ms.", {"type": "string"}, NUMBER
    )
    revenue = _lenient(
        '0 or more, under 10,000,000,000; "$1,234.50" is read.', {"type": "string"}, NUMBER
    )
    cost = _lenient("Publisher payout, as revenue.", {"type": "string"}, NUMBER)
    tags = _lenient(
        "Name -> string, number or boolean; at most 50, names of 100 characters, values of 500.",
        {"type": "object", "maxProperties": 50},
        {"type": "string", "maxLength": 0},
    )


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


class ConversionInputSerializer(UnknownFieldsRefusedMixin, serializers.Serializer):
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
    errors = serializers.SerializerMethodField(
        help_text=f"The first {CallImport.ERROR_REPORT_LIMIT} row errors; errors_csv has all."
    )
    errors_total = serializers.IntegerField(read_only=True)
    errors_csv = serializers.SerializerMethodField(
        help_text="Every row error as CSV (row, column, message)."
    )
    read_as = serializers.CharField(
        source="file_shape_label",
        read_only=True,
        help_text='How the file was read, e.g. "UTF-8 with BOM, semicolon-separated".',
    )

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
            "calls_written",
            "rows_duplicate",
            "rows_failed",
            "rows_skipped",
            "progress",
            "encoding",
            "delimiter",
            "read_as",
            "errors",
            "errors_total",
            "errors_dropped",
            "errors_csv",
            "detail",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, obj: CallImport) -> float | None:
        if not obj.rows_total:
            return None
        return round(obj.rows_done / obj.rows_total, 4)

    def get_errors(self, obj: CallImport) -> list[dict]:
        return obj.errors[: CallImport.ERROR_REPORT_LIMIT]

    def get_errors_csv(self, obj: CallImport) -> str:
        return reverse("api:callimport-errors-csv", args=[obj.pk])


BINARY_SNIFF_BYTES = 64 * 1024


class CallImportInputSerializer(UnknownFieldsRefusedMixin, serializers.Serializer):
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

    def validate_file(self, upload):
        """A text file: NUL bytes outside UTF-16 (which starts with its BOM) mean binary data,
        which no text column can store (an image posted as a CSV used to end in a 500)."""
        sample = upload.read(BINARY_SNIFF_BYTES)
        upload.seek(0)
        if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise serializers.ValidationError("This is not a CSV file: it holds binary data.")
        return upload

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
