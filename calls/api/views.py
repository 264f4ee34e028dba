from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, parsers, status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from ppc_dashboard.tenancy.api import TenantGenericViewSet, TenantModelViewSet, crud_docs
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


@crud_docs(
    tag="campaigns",
    one="campaign",
    many="campaigns",
    about="Campaigns with their vertical, qualifying seconds, payout, RPM floor, duplicate "
    "window and verdict thresholds.",
    rules="The name is unique in the organization.",
)
class CampaignViewSet(TenantModelViewSet):
    """Campaigns with their qualifying threshold, payout and RPM floor."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["name", "vertical", "status"]


@crud_docs(
    tag="ad-spend",
    one="day of ad spend",
    many="ad spend rows",
    about="Ad spend per campaign (and optionally publisher) per local day.",
    rules="The campaign and the publisher must be the organization's own.",
    referenced=False,
)
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


CALL_EXAMPLE = {
    "external_id": "ringba-7f3c2a",
    "started_at": "2026-11-30T14:05:09Z",
    "status": "answered",
    "duration_seconds": 143,
    "campaign_name": "Medicare Q4",
    "publisher_name": "Acme Media",
    "tracking_number": "+18005550123",
    "caller_number": "+14155550199",
    "converted": True,
    "revenue": "45.00",
    "cost": "30.00",
}
CALL_BATCH_EXAMPLE = [
    CALL_EXAMPLE,
    {
        "external_id": "ringba-7f3c2b",
        "started_at": "2026-11-30T14:07:41Z",
        "status": "missed",
        "duration_seconds": 0,
        "campaign_name": "Medicare Q4",
        "publisher_name": "Acme Media",
        "caller_number": "+14155550142",
    },
]


@extend_schema(tags=["calls"])
@extend_schema_view(
    list=extend_schema(
        summary="List calls",
        description="The organization's calls, newest first, with cursor pagination "
        "(`cursor`, `page_size`) and the filters below (dates are the organization's local "
        "days).",
    ),
    retrieve=extend_schema(
        summary="Read a call",
        description="One call by the external_id it was posted with.",
    ),
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
        summary="Post one call or a batch",
        description=(
            f"Post one call (an object) or up to {settings.CALLS_BATCH_MAX_ITEMS:,} (a list); "
            f"the body is at most {settings.API_MAX_BODY_BYTES:,} bytes (413 past it). "
            "Idempotent by external_id: a re-post updates the call. A list is atomic: one "
            "invalid item rejects it with errors keyed by item index and field, and nothing is "
            "written. Campaign, publisher and buyer are named by id or by name; "
            "`create_missing=true` creates the ones named that do not exist yet."
        ),
        examples=[
            OpenApiExample(
                "A batch of two calls",
                value=CALL_BATCH_EXAMPLE,
                request_only=True,
                description="Both are written, or neither.",
            ),
            OpenApiExample("One call", value=CALL_EXAMPLE, request_only=True),
            OpenApiExample(
                "Result",
                value={"created": 2, "updated": 0},
                response_only=True,
                status_codes=["201"],
            ),
        ],
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
        summary="Delete a call",
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
        summary="Export calls as CSV",
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
        summary="Record a late conversion",
        description="Record the conversion (converted, converted_at, revenue) of a call that "
        "was posted earlier, by its external_id; the KPIs of its day follow. 404 when no call "
        "has this external_id in the organization.",
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


@extend_schema(tags=["imports"])
@extend_schema_view(
    list=extend_schema(
        summary="List imports",
        description="The organization's CSV imports, newest first, with their status and progress.",
    ),
    retrieve=extend_schema(
        summary="Follow an import",
        description="One import: status, rows_done / rows_total, counts and the first row "
        "errors (row number, column, message). Poll it after a 202.",
    ),
)
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
        summary="Upload a CSV export",
        description=(
            "Upload a CSV export as multipart/form-data: the `file` and its `format`, one of: "
            + ", ".join(sorted(PRESETS))
            + f". The body is at most {settings.IMPORT_MAX_BYTES:,} bytes (413 past it). "
            "Small files are imported before the response (201); larger ones run in the "
            "background (202): poll the import for rows_done / rows_total and the row errors. "
            "Rows are idempotent by external_id, as posted calls are; an invalid row is "
            "reported with its row number and column and the valid rows are imported."
        ),
        examples=[
            OpenApiExample(
                "A Ringba export",
                value={"format": "ringba", "file": "(the CSV file)", "create_missing": True},
                request_only=True,
                media_type="multipart/form-data",
                description="curl -H 'X-Api-Key: <key>' -F format=ringba -F create_missing=true "
                "-F file=@calls.csv https://<host>/api/v1/imports/",
            )
        ],
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
        summary="Download an import's row errors",
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
