from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from ppc_dashboard.tenancy.api import TenantGenericViewSet, TenantModelViewSet
from ppc_dashboard.tenancy.errors import error_body
from ppc_dashboard.tenancy.pagination import CheckedCursorPagination

from ..call_log_csv import CALL_LOG_CSV_HEADER, call_log_csv_response
from ..filters import CallFilter
from ..import_errors_csv import import_errors_csv_response
from ..importers import PRESETS
from ..ingest import ConversionUpdate, call_conversion_record, call_ingest_batch
from ..models import AdSpend, Call, CallImport, Campaign
from ..services import call_import_start, calls_delete
from .serializers import (
    AdSpendSerializer,
    CallImportInputSerializer,
    CallImportSerializer,
    CallIngestResultSerializer,
    CallInputSerializer,
    CallSerializer,
    CampaignSerializer,
    ConversionInputSerializer,
)


class CampaignViewSet(TenantModelViewSet):
    """Campaigns with their qualifying threshold, payout and RPM floor."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["name", "vertical", "status"]


class AdSpendViewSet(TenantModelViewSet):
    """Ad spend per campaign (and optionally publisher) per day."""

    queryset = AdSpend.objects.all()
    serializer_class = AdSpendSerializer
    filterset_fields = ["campaign", "publisher", "day"]


class CallCursorPagination(CheckedCursorPagination):
    ordering = ("-started_at", "-id")
    page_size = 100


class FirstRendererNegotiation(BaseContentNegotiation):
    """The export answers CSV, or JSON for an error, whatever the client accepts: a client
    that sends `Accept: text/csv` would otherwise get a 406 from the JSON-only API."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


CREATE_MISSING_PARAM = OpenApiParameter(
    "create_missing", bool, description="Create campaigns, publishers and buyers named but unknown."
)


class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Call records: post one or a batch, list, read, and record a late conversion."""

    queryset = Call.objects.all()
    serializer_class = CallSerializer
    filterset_class = CallFilter
    pagination_class = CallCursorPagination
    lookup_field = "external_id"
    # No NUL: PostgreSQL text cannot hold it, so such an id can only be missing (404, not 500).
    lookup_value_regex = r"[^/\x00]+"

    def scope_queryset(self, queryset):
        return queryset.select_related("campaign", "publisher", "buyer")

    @extend_schema(
        request=CallInputSerializer(many=True),
        parameters=[CREATE_MISSING_PARAM],
        responses={
            201: CallIngestResultSerializer,
            400: OpenApiResponse(
                description="Nothing was written; errors by field (for a list: by item index, "
                "then field)."
            ),
        },
        description=(
            "Post one call (an object) or up to 5,000 (a list). Idempotent by external_id: a "
            "re-post updates the call. A list is atomic: one invalid item rejects it with "
            "errors keyed by item index and field."
        ),
    )
    def create(self, request, *args, **kwargs):
        payload = request.data
        single = isinstance(payload, dict)
        items = [payload] if single else payload
        if not isinstance(items, list):
            return Response(
                error_body("Send a call object or a list of call objects.", code="invalid"),
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(items) > settings.CALLS_BATCH_MAX_ITEMS:
            return Response(
                error_body(
                    f"A batch holds at most {settings.CALLS_BATCH_MAX_ITEMS} calls; "
                    f"this one has {len(items)}.",
                    code="invalid",
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        flag = request.query_params.get("create_missing", "").lower()
        if flag not in {"", "true", "false", "1", "0"}:
            return Response(
                error_body(
                    "The request is invalid; see errors.",
                    code="invalid",
                    errors={"create_missing": ["Must be true or false."]},
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        create_missing = flag in {"true", "1"}
        result = call_ingest_batch(
            organization=self.organization, items=items, create_missing=create_missing
        )
        if not result.ok:
            errors = result.errors[0] if single else {str(i): e for i, e in result.errors.items()}
            detail = (
                "The call is invalid; nothing was written."
                if single
                else f"{len(result.errors)} of {len(items)} calls are invalid; nothing was written."
            )
            return Response(error_body(detail, code="invalid", errors=errors), status=400)
        return Response(
            {"created": result.created, "updated": result.updated}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="No call with this external_id")},
        description=(
            "Delete a call (a data correction). The KPIs of its day follow, however old the "
            "call, and so do the repeat flags of its caller's other calls."
        ),
    )
    def destroy(self, request, external_id: str | None = None):
        deleted = calls_delete(organization=self.organization, external_ids=[external_id or ""])
        if not deleted:
            return Response(
                error_body("No call with this external_id.", code="not_found"), status=404
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="calls_export_csv",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The calls as CSV, streamed (columns in the description).",
            ),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description="A filter is invalid: its errors, by its name."
            ),
        },
        description=(
            "The calls of the list's filters as one CSV download, newest first, streamed "
            "(no pagination; a million rows are fine). Times in the organization's time zone "
            "with their offset (ISO 8601), money as plain decimals, booleans true/false, "
            "tags as one JSON object per call. Columns: "
            + ", ".join(f"`{name}`" for name in CALL_LOG_CSV_HEADER)
            + ". Cells a spreadsheet would run as a formula start with a `'`."
        ),
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"export\.csv",
        content_negotiation_class=FirstRendererNegotiation,
    )
    def export(self, request):
        return call_log_csv_response(self.filter_queryset(self.get_queryset()), self.organization)

    @extend_schema(
        request=ConversionInputSerializer,
        responses={200: CallSerializer},
        description="Record the conversion of a call that was posted earlier.",
    )
    @action(detail=True, methods=["post"], url_path="conversion")
    def conversion(self, request, external_id: str | None = None):
        serializer = ConversionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        call = call_conversion_record(
            organization=self.organization,
            external_id=external_id or "",
            update=ConversionUpdate(**serializer.validated_data),
        )
        if call is None:
            return Response(
                error_body("No call with this external_id.", code="not_found"), status=404
            )
        call = get_object_or_404(self.get_queryset(), pk=call.pk)
        return Response(CallSerializer(call).data)


class CallImportViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    """CSV imports: upload an export from another platform and follow its progress."""

    queryset = CallImport.objects.all()
    serializer_class = CallImportSerializer
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        request={"multipart/form-data": CallImportInputSerializer},
        responses={201: CallImportSerializer, 202: CallImportSerializer},
        description=(
            "Upload a CSV export. `format` is one of: " + ", ".join(sorted(PRESETS)) + ". "
            "Small files are imported before the response (201); larger ones run in the "
            "background (202): poll the import for rows_done / rows_total and the row errors."
        ),
    )
    def create(self, request, *args, **kwargs):
        serializer = CallImportInputSerializer(
            data=request.data, context={"organization": self.organization}
        )
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        call_import = call_import_start(
            organization=self.organization,
            upload=upload,
            import_format=serializer.validated_data["format"],
            create_missing=serializer.validated_data["create_missing"],
            options=serializer.validated_data["options"],
            created_by=request.user if getattr(request.user, "pk", None) else None,
        )
        call_import.refresh_from_db()
        finished = call_import.status in {"done", "failed"}
        return Response(
            CallImportSerializer(call_import).data,
            status=status.HTTP_201_CREATED if finished else status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        operation_id="imports_errors_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Every row error of the import: columns `row`, `column`, `message`. "
                "Header X-Errors-Dropped: errors beyond the kept 100,000 (counted, not listed).",
            )
        },
        description="The import's row errors as a CSV download, all of them.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"errors\.csv",
        url_name="errors-csv",
        content_negotiation_class=FirstRendererNegotiation,
    )
    def errors_csv(self, request, pk=None):
        return import_errors_csv_response(self.get_object())
