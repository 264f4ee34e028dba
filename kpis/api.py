"""KPI API: /api/v1/kpis/ by filter and grouping, verdicts, threshold finder, reallocation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from calls.models import Campaign, Vertical
from ppc_dashboard.tenancy.api import TenantViewSet, list_errors_flat
from ppc_dashboard.tenancy.permissions import IsOrganizationMember
from ppc_dashboard.tenancy.selectors import tenant_context_for_request
from routing.business_hours import BusinessHoursError, validate_business_hours

from .coverage import campaign_coverage
from .decisions import reallocation_report, threshold_suggestions, verdicts_report
from .selectors import (
    AD_SPEND_NOT_ATTRIBUTED,
    GroupBy,
    KpiFilter,
    KpiQueryError,
    KpiRow,
    kpi_cut_at_hour,
    kpi_filter_so_far,
    kpi_freshness,
    kpi_json_value,
    kpi_view_error,
    kpis_as_dict,
    kpis_report,
    report_tag_filter,
    report_tag_keys,
)
from .whatif import (
    MAX_WHAT_IF_DAYS,
    WHAT_IF_MODEL,
    TargetAdd,
    WhatIf,
    WhatIfEdits,
    WhatIfError,
    campaign_what_if,
)

# group_by: a GroupBy but "tag", or "tag:<report tag key>" (its key checked per tenant).
_UNKEYED_GROUPINGS = [g.value for g in GroupBy if g is not GroupBy.TAG]
GROUP_BY_PATTERN = rf"^({'|'.join(_UNKEYED_GROUPINGS)}|tag:.+)$"
GROUP_BY_HELP = (
    f"'{{value}}' is not a grouping: one of {', '.join(_UNKEYED_GROUPINGS)}, or "
    "tag:<report tag key>."
)
DEFAULT_DAYS = 30
MAX_ID = 2**63 - 1
MAX_DAYS = 731


class KpiQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(
        required=False, help_text="First local day (default: 29 days before date_to)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last local day, inclusive (default: today)."
    )
    campaign = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    publisher = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    buyer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    vertical = serializers.ChoiceField(choices=Vertical.choices, required=False)
    region = serializers.CharField(
        required=False,
        max_length=64,
        trim_whitespace=False,
        help_text="The caller's state or region as calls carry it (`caller_region`), e.g. IL.",
    )
    tag = serializers.CharField(
        required=False,
        help_text=(
            "A report tag as key:value (split at the first colon), e.g. source:google; the "
            "key must be one of the organization's report tags. Numbers and booleans match as "
            'they are spelt (score:5 counts 5 and "5").'
        ),
    )
    group_by = serializers.CharField(
        required=False,
        default=GroupBy.NONE.value,
        validators=[RegexValidator(GROUP_BY_PATTERN, "Not a grouping.")],
        help_text=(
            "none, campaign, publisher, buyer, day, hour_of_week, campaign_publisher, region, "
            "or tag:<key> with one of the organization's report tag keys (e.g. tag:source)."
        ),
    )

    def to_internal_value(self, data):
        # Name what a bad grouping should be before the pattern's terse message does.
        value = data.get("group_by") if hasattr(data, "get") else None
        if isinstance(value, str) and value and not re.fullmatch(GROUP_BY_PATTERN, value):
            raise serializers.ValidationError({"group_by": [GROUP_BY_HELP.format(value=value)]})
        return super().to_internal_value(data)

    def validate_group_by(self, value: str) -> str:
        name, _, key = value.partition(":")
        if name == GroupBy.TAG.value:
            keys = report_tag_keys(self.context["organization"])
            try:
                report_tag_filter(f"{key}:", keys)
            except KpiQueryError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_tag(self, value: str) -> tuple[str, str]:
        try:
            return report_tag_filter(value, report_tag_keys(self.context["organization"]))
        except KpiQueryError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def grouping(self) -> tuple[GroupBy, str | None]:
        """The GroupBy and, for tag:<key>, the tag key."""
        name, _, key = self.validated_data["group_by"].partition(":")
        return GroupBy(name), (key if name == GroupBy.TAG.value else None)

    def to_filter(self, organization) -> KpiFilter:
        data = self.validated_data
        today = organization.local_today()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["Must not be after date_to."]})
        if (date_to - date_from).days >= MAX_DAYS:
            raise serializers.ValidationError({"date_from": [f"At most {MAX_DAYS} days."]})
        kpi_filter = KpiFilter(
            date_from=date_from,
            date_to=date_to,
            campaign_id=data.get("campaign"),
            publisher_id=data.get("publisher"),
            buyer_id=data.get("buyer"),
            vertical=data.get("vertical"),
            region=data.get("region"),
            tag=data.get("tag"),
        )
        group_by, tag_key = self.grouping()
        error = kpi_view_error(kpi_filter, group_by, tag_key)
        if error:
            field = (
                "group_by"
                if group_by is not GroupBy.NONE
                else "region"
                if kpi_filter.region is not None
                else "tag"
            )
            raise serializers.ValidationError({field: [error]})
        return kpi_filter_so_far(kpi_filter, organization)


class KpisSerializer(serializers.Serializer):
    """The KPIs of KPIS.md (documentation of the response shape)."""

    calls = serializers.IntegerField()
    answered = serializers.IntegerField()
    missed = serializers.IntegerField(help_text="calls - answered")
    qualified = serializers.IntegerField()
    conversions = serializers.IntegerField()
    talk_seconds = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=20, decimal_places=4)
    spend = serializers.DecimalField(
        max_digits=20, decimal_places=4, help_text="Per-call cost plus ad spend"
    )
    average_duration = serializers.FloatField(allow_null=True, help_text="seconds")
    qualified_rate = serializers.FloatField(allow_null=True, help_text="% of answered")
    conversion_rate = serializers.FloatField(allow_null=True, help_text="% of calls")
    conversion_rate_ci = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="95% Wilson interval, %"
    )
    cost_per_call = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    cpa = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    missed_rate = serializers.FloatField(allow_null=True, help_text="% of calls")
    missed_rate_ci = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    rpm = serializers.DecimalField(
        max_digits=20, decimal_places=4, allow_null=True, help_text="revenue per talk minute"
    )
    profit = serializers.DecimalField(max_digits=20, decimal_places=4)
    roi = serializers.FloatField(allow_null=True, help_text="%")
    repeat_rate = serializers.FloatField(allow_null=True, help_text="% of calls")
    short_call_rate = serializers.FloatField(allow_null=True, help_text="% of answered")
    followups = serializers.IntegerField(help_text="Calls that got a follow-up (call back)")
    recovered = serializers.IntegerField(
        help_text="Calls recovered through their follow-up (not in `conversions`)"
    )
    recovered_revenue = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        help_text="Revenue of the recovered calls; a part of `revenue` (and so of profit)",
    )
    recovery_rate = serializers.FloatField(allow_null=True, help_text="% of followups")


class KpiRowSerializer(KpisSerializer):
    key = serializers.JSONField(
        help_text=(
            "id, date, {weekday, hour}, {campaign, publisher} or null (no publisher, say); "
            '"ad_spend" for the row of ad spend that names no publisher (grouped by publisher, '
            "buyer, hour_of_week, region or tag; within a campaign as its publisher): spend "
            "only, no calls. By region or tag: the region or the tag's value as text, null "
            "for the calls without one"
        )
    )
    label = serializers.CharField()


UNTIL_HOUR_HELP = (
    "A range that ends today is partial: date_to counts its local hours before this one "
    "(the end of the current hour), and so does the previous period's last day. Null: whole "
    "days (a buyer view counts date_to whole: hourly rollups carry no buyer)."
)


class FreshnessSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="Every write before this instant is counted")
    pending = serializers.BooleanField(help_text="A recomputation is pending")
    pending_days = serializers.IntegerField(help_text="Local days waiting to be recomputed")
    stale = serializers.BooleanField(help_text="More than 60 s behind the writes")
    reason = serializers.CharField(help_text="Why the numbers are behind; empty when not")


class PreviousPeriodSerializer(KpisSerializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    until_hour = serializers.IntegerField(allow_null=True, help_text=UNTIL_HOUR_HELP)


class KpiReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    timezone = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    until_hour = serializers.IntegerField(allow_null=True, help_text=UNTIL_HOUR_HELP)
    freshness = FreshnessSerializer()
    group_by = serializers.CharField()
    totals = KpisSerializer()
    previous = PreviousPeriodSerializer()
    rows = KpiRowSerializer(many=True)


def _row_as_dict(row: KpiRow, group_by: GroupBy) -> dict[str, Any]:
    key = row.key
    if isinstance(key, dt.date):
        key = key.isoformat()
    elif key == AD_SPEND_NOT_ATTRIBUTED:
        pass  # "ad_spend": a row of spend only, whatever the grouping
    elif group_by is GroupBy.CAMPAIGN_PUBLISHER:
        key = {"campaign": key[0], "publisher": key[1]}
    elif group_by is GroupBy.HOUR_OF_WEEK:
        key = {"weekday": key[0], "hour": key[1]}
    return {"key": key, "label": row.label, **kpis_as_dict(row.kpis)}


class ReportSchema(AutoSchema):
    """A KPI endpoint's `list` answers one report object, not a list of them."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class KpiQueryViewSet(TenantViewSet):
    """Base of the KPI endpoints: the filter query string, validated once, as a KpiFilter."""

    schema = ReportSchema()

    def kpi_query(self, request) -> tuple[KpiQuerySerializer, KpiFilter]:
        # An empty parameter is an absent one, as in the list endpoints' filters.
        query = KpiQuerySerializer(
            data={name: value for name, value in request.query_params.items() if value != ""},
            context={"organization": self.organization},
        )
        query.is_valid(raise_exception=True)
        # Before any number is read: a refresh committing between the two reads would
        # otherwise give `pending: false` next to numbers from before it.
        self.freshness = kpi_freshness(self.organization)
        return query, query.to_filter(self.organization)

    def period(self, filters: KpiFilter, cut_at_hour: int | None) -> dict[str, Any]:
        """The range the numbers cover and how fresh they are (KPIS.md "Periods")."""
        freshness = self.freshness
        return {
            "date_from": filters.date_from,
            "date_to": filters.date_to,
            "until_hour": cut_at_hour,
            "freshness": {
                "as_of": freshness.as_of,
                "pending": freshness.pending,
                "pending_days": freshness.pending_days,
                "stale": freshness.stale,
                "reason": freshness.reason,
            },
        }


class KpiViewSet(KpiQueryViewSet):
    """KPIs of KPIS.md from the rollups: totals, previous period and grouped rows."""

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: KpiReportSerializer},
        tags=["kpis"],
        summary="KPIs over a date range",
        description=(
            "KPIs for the organization over local days [date_from, date_to], optionally "
            "filtered by campaign, publisher, buyer or vertical and grouped by campaign, "
            "publisher, buyer, day, hour_of_week (local weekday 0=Monday and hour) or "
            "campaign_publisher (each publisher within each campaign), region (the caller's "
            "state or region) or tag:<key> (the values of a report tag), and filtered by "
            "region or a report tag (tag=key:value); region and tag views read daily rollups "
            "without buyer or hour, so they count date_to whole and cannot be combined with "
            "buyer, hour_of_week or each other, and leave ad spend (which has neither) "
            "out of a filter and in a row of its own when grouped. Money is "
            "a decimal string in the organization's currency; rates are percentages; a KPI "
            "with an empty denominator is null. `previous` covers the same number of days "
            "just before. A range that ends today is partial: it and its previous period are "
            "cut at the end of the current local hour (`until_hour`). `freshness` says up to "
            "when writes are counted and whether a recomputation is pending or stale."
        ),
    )
    def list(self, request):
        query, filters = self.kpi_query(request)
        organization = self.organization
        group_by, tag_key = query.grouping()
        try:
            report = kpis_report(organization, filters, group_by, tag_key)
        except KpiQueryError as exc:
            raise serializers.ValidationError({"group_by": [str(exc)]}) from exc
        previous_filters = filters.previous_period()
        previous = kpis_report(organization, previous_filters)
        return Response(
            {
                "currency": organization.currency,
                "timezone": organization.timezone,
                **self.period(filters, report.cut_at_hour),
                "group_by": query.validated_data["group_by"],
                "totals": kpis_as_dict(report.totals.kpis),
                "previous": {
                    "date_from": previous_filters.date_from,
                    "date_to": previous_filters.date_to,
                    "until_hour": previous.cut_at_hour,
                    **kpis_as_dict(previous.totals.kpis),
                },
                "rows": [_row_as_dict(row, group_by) for row in report.rows],
            }
        )


def _verdict_as_dict(entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "name": entity.name,
        **({"campaign_id": entity.campaign_id} if entity.campaign_id is not None else {}),
        "verdict": entity.verdict.label,
        "reasons": entity.verdict.reasons,
        "notes": entity.verdict.notes,
        "velocity_spikes": [
            {
                "hour": s.hour.isoformat(),
                "calls": s.calls,
                "trailing_mean": round(s.trailing_mean, 2),
            }
            for s in entity.spikes
        ],
        "kpis": kpis_as_dict(entity.kpis),
    }


class VerdictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    campaign_id = serializers.IntegerField(required=False)
    verdict = serializers.ChoiceField(choices=["scale", "watch", "fix", "cut"])
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why this verdict, the deciding ones first"
    )
    notes = serializers.ListField(
        child=serializers.CharField(),
        help_text="Facts that did not decide the verdict (spike hours under the share, ...)",
    )
    velocity_spikes = serializers.ListField(child=serializers.DictField())
    kpis = KpisSerializer()


class VerdictsResponseSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    until_hour = serializers.IntegerField(allow_null=True, help_text=UNTIL_HOUR_HELP)
    freshness = FreshnessSerializer()
    campaigns = VerdictSerializer(many=True)
    publishers = VerdictSerializer(many=True, help_text="Across campaigns")
    publishers_by_campaign = VerdictSerializer(many=True, help_text="Within each campaign")


class VerdictsViewSet(KpiQueryViewSet):
    """Scale / watch / fix / cut per campaign and per publisher, with reasons."""

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: VerdictsResponseSerializer},
        tags=["verdicts"],
        summary="Verdicts per campaign and publisher",
        description=(
            "Verdicts of KPIS.md for campaigns, publishers overall and publishers within each "
            "campaign, over the filter's local days. Each verdict carries its reasons as "
            "sentences with the numbers behind them. group_by is ignored."
        ),
    )
    def list(self, request):
        _, filters = self.kpi_query(request)
        report = verdicts_report(self.organization, filters)
        return Response(
            {
                **self.period(filters, kpi_cut_at_hour(filters)),
                "campaigns": [_verdict_as_dict(v) for v in report.campaigns],
                "publishers": [_verdict_as_dict(v) for v in report.publishers],
                "publishers_by_campaign": [
                    _verdict_as_dict(v)
                    for verdicts in report.publishers_by_campaign.values()
                    for v in verdicts
                ],
            }
        )


class ThresholdSuggestionsViewSet(KpiQueryViewSet):
    """The qualifying-threshold finder: conversion by talk-time bucket per campaign."""

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: dict},
        tags=["qualifying-thresholds"],
        summary="Suggested qualifying thresholds",
        description=(
            "Per campaign: answered calls and conversions per duration bucket (0-30, 30-60, "
            "60-90, 90-120, 120-180, 180-300, 300+ s); the suggested qualifying threshold, "
            "the largest bucket edge below which calls hold at most 5% of the conversions "
            "(null with fewer than 30 conversions), with `reason`; and `tradeoff`, the "
            "suggestion against the threshold in force: conversions kept, the change in "
            "qualified (paid) calls and what it saves or costs at the campaign's payout."
        ),
    )
    def list(self, request):
        _, filters = self.kpi_query(request)
        try:
            suggestions = threshold_suggestions(self.organization, filters)
        except KpiQueryError as exc:
            field = "region" if filters.region is not None else "tag"
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        return Response(
            {
                # Talk-time buckets are daily: the finder counts whole days.
                **self.period(filters, None),
                "campaigns": [
                    {
                        "campaign_id": s.campaign_id,
                        "campaign_name": s.campaign_name,
                        "qualifying_seconds": s.qualifying_seconds,
                        "suggested_seconds": s.suggested_seconds,
                        "reason": s.reason,
                        "tradeoff": s.tradeoff,
                        "buckets": [
                            {
                                "label": b.label,
                                "low_seconds": b.low_seconds,
                                "answered": b.answered,
                                "conversions": b.conversions,
                                "conversion_rate": kpi_json_value(b.conversion_rate),
                            }
                            for b in s.buckets
                        ],
                    }
                    for s in suggestions
                ],
            }
        )


def _performance(p) -> dict[str, Any]:
    return {
        "publisher_id": p.publisher_id,
        "name": p.name,
        "verdict": p.verdict.label,
        "conversion_rate": kpi_json_value(p.kpis.conversion_rate),
        "rpm": kpi_json_value(p.kpis.rpm),
        "spend": kpi_json_value(p.kpis.spend),
        "calls": p.kpis.calls,
    }


class ReallocationViewSet(KpiQueryViewSet):
    """Budget reallocation: best vs worst publisher per campaign and the spend a cut frees."""

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: dict},
        tags=["reallocation"],
        summary="Budget reallocation between publishers",
        description=(
            "Per campaign: the spread between the best and the worst publisher by conversion "
            "rate and by RPM (publishers with at least 30 calls), the publishers whose verdict "
            "is cut, and the spend cutting them would free."
        ),
    )
    def list(self, request):
        _, filters = self.kpi_query(request)
        campaigns = []
        for item in reallocation_report(self.organization, filters):
            r = item.reallocation
            campaigns.append(
                {
                    "campaign_id": item.campaign_id,
                    "campaign_name": item.campaign_name,
                    "conversion_spread": r.conversion
                    and {
                        "best": _performance(r.conversion.best),
                        "worst": _performance(r.conversion.worst),
                        "points": round(r.conversion.points, 4),
                    },
                    "rpm_spread": r.rpm
                    and {
                        "best": _performance(r.rpm.best),
                        "worst": _performance(r.rpm.worst),
                        "amount": kpi_json_value(r.rpm.amount),
                    },
                    "cut": [_performance(p) for p in r.cut],
                    "freed_spend": kpi_json_value(r.freed_spend),
                }
            )
        return Response({**self.period(filters, kpi_cut_at_hour(filters)), "campaigns": campaigns})


# --- What-if --------------------------------------------------------------------------------


class MembersMayReplay(IsOrganizationMember):
    """A what-if is posted (its edits are a body) but writes nothing: any member may run it."""

    def has_permission(self, request, view) -> bool:
        return tenant_context_for_request(request) is not None


class WhatIfAddSerializer(serializers.Serializer):
    buyer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    tier = serializers.IntegerField(min_value=1, max_value=20, default=1)
    weight = serializers.IntegerField(min_value=1, max_value=1000, default=1)


class WhatIfChangeSerializer(serializers.Serializer):
    """A plan target's settings as the edit would have them; a field left out keeps its value,
    a cap sent as null is unlimited."""

    buyer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    business_hours = serializers.JSONField(
        required=False,
        help_text='Weekday -> [open, close] ranges in the buyer\'s zone, e.g. {"mon": '
        '[["09:00", "21:00"]]}; a weekday left out is closed, {} is around the clock.',
    )
    concurrency_cap = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100000
    )
    hourly_cap = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**7
    )
    daily_cap = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**7
    )
    monthly_cap = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**8
    )
    tier = serializers.IntegerField(required=False, min_value=1, max_value=20)
    weight = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    active = serializers.BooleanField(required=False)

    def validate_business_hours(self, value):
        try:
            validate_business_hours(value)
        except BusinessHoursError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class WhatIfRequestSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    date_from = serializers.DateField(
        required=False, help_text="First local day (default: 29 days before date_to)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last local day, inclusive (default: yesterday)."
    )
    add_targets = WhatIfAddSerializer(many=True, required=False, default=list)
    remove_targets = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=100,
        help_text="Buyer ids to take out of the plan.",
    )
    changes = WhatIfChangeSerializer(many=True, required=False, default=list)

    def validate(self, data):
        if len(data["add_targets"]) > 50 or len(data["changes"]) > 100:
            raise serializers.ValidationError("At most 50 targets added and 100 changes.")
        organization = self.context["organization"]
        date_to = data.get("date_to") or organization.local_today() - dt.timedelta(days=1)
        date_from = data.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["Must not be after date_to."]})
        if (date_to - date_from).days >= MAX_WHAT_IF_DAYS:
            raise serializers.ValidationError({"date_from": [f"At most {MAX_WHAT_IF_DAYS} days."]})
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def edits(self) -> WhatIfEdits:
        data = self.validated_data
        changes: dict[int, dict[str, Any]] = {}
        for change in data["changes"]:
            fields = dict(change)
            buyer = fields.pop("buyer")
            if "business_hours" in fields:
                fields["hours"] = fields.pop("business_hours")
            changes.setdefault(buyer, {}).update(fields)
        return WhatIfEdits(
            add=tuple(TargetAdd(a["buyer"], a["tier"], a["weight"]) for a in data["add_targets"]),
            remove=frozenset(data["remove_targets"]),
            changes=changes,
        )


# The what-if request's lists of edits: their errors are keyed per item, "changes[i].field".
WHAT_IF_EDITS = ("add_targets", "remove_targets", "changes")


def _what_if_error_key(data: dict, error: WhatIfError) -> str:
    """The request's item an edit error is about, keyed as the field errors are:
    "add_targets[i].buyer", "remove_targets[i]", "changes[i].buyer"."""
    for index, item in enumerate(data.get(error.edit, ())):
        if error.edit == "remove_targets" and item == error.buyer_id:
            return f"remove_targets[{index}]"
        if isinstance(item, Mapping) and item.get("buyer") == error.buyer_id:
            return f"{error.edit}[{index}].buyer"
    return error.edit


class ReplaySerializer(serializers.Serializer):
    calls = serializers.FloatField()
    answered = serializers.FloatField()
    missed = serializers.FloatField()
    missed_rate = serializers.FloatField(allow_null=True, help_text="Percent.")
    decisions = serializers.IntegerField(help_text="route_decide calls the replay made.")


class TargetOddsSerializer(serializers.Serializer):
    buyer = serializers.IntegerField()
    name = serializers.CharField()
    answer_probability = serializers.FloatField()
    sent = serializers.IntegerField(help_text="Calls sent to it over the range.")
    answered = serializers.IntegerField()


class WhatIfResponseSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = serializers.CharField()
    plan_version = serializers.IntegerField(
        allow_null=True, help_text="null: no plan yet, every active buyer replayed in one tier."
    )
    observed = ReplaySerializer(help_text="What the rollups recorded (decisions: 0).")
    before = ReplaySerializer(help_text="The current plan replayed by the model.")
    after = ReplaySerializer(help_text="The edited plan replayed by the model.")
    recovered_calls = serializers.FloatField()
    recovered_revenue = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    revenue_per_answered = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True
    )
    prior_answer_probability = serializers.FloatField()
    targets = TargetOddsSerializer(many=True)
    model = serializers.CharField(help_text="The model's assumptions, in words.")


def _replay_dict(result) -> dict[str, Any]:
    return {
        "calls": round(result.calls, 2),
        "answered": round(result.answered, 2),
        "missed": round(result.missed, 2),
        "missed_rate": None if result.missed_rate is None else round(result.missed_rate, 2),
        "decisions": result.decisions,
    }


def what_if_as_dict(organization, campaign_id: int, filters: KpiFilter, result: WhatIf) -> dict:
    observed_rate = (
        result.observed_missed / result.observed_calls * 100 if result.observed_calls else None
    )
    return {
        "campaign": campaign_id,
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "currency": organization.currency,
        "plan_version": result.before_plan.version if result.has_plan else None,
        "observed": {
            "calls": result.observed_calls,
            "answered": result.observed_calls - result.observed_missed,
            "missed": result.observed_missed,
            "missed_rate": None if observed_rate is None else round(observed_rate, 2),
            "decisions": 0,
        },
        "before": _replay_dict(result.before),
        "after": _replay_dict(result.after),
        "recovered_calls": round(result.recovered_calls, 2),
        "recovered_revenue": kpi_json_value(result.recovered_revenue),
        "revenue_per_answered": kpi_json_value(result.revenue_per_answered),
        "prior_answer_probability": round(result.prior, 4),
        "targets": [
            {
                "buyer": o.target_id,
                "name": o.name,
                "answer_probability": round(o.probability, 4),
                "sent": o.sent,
                "answered": o.answered,
            }
            for o in result.odds
        ],
        "model": WHAT_IF_MODEL,
    }


def _tenant_campaign(organization, campaign_id: int) -> Campaign:
    """The tenant's campaign of that id; another tenant's is refused as a missing one (400)."""
    campaign = Campaign.objects.for_organization(organization).filter(pk=campaign_id).first()
    if campaign is None:
        raise serializers.ValidationError({"campaign": ["No such campaign."]})
    return campaign


class WhatIfViewSet(TenantViewSet):
    permission_classes = [MembersMayReplay]
    schema = ReportSchema()

    @extend_schema(
        request=WhatIfRequestSerializer,
        responses={200: WhatIfResponseSerializer},
        tags=["what-if"],
        summary="Replay a campaign's past calls through an edited routing plan",
        description=(
            "Replays the campaign's arrivals over local days [date_from, date_to] (at most "
            f"{MAX_WHAT_IF_DAYS}) through its current routing plan and through the plan with "
            "the edits applied (targets added as backups, removed, or with new hours, caps, "
            "concurrency, tier or weight), with the routing decision function, and answers "
            "the missed calls and missed-call rate of both, and the revenue the edit would "
            "likely have recovered (recovered answered calls x the campaign's revenue per "
            "answered call). Nothing is saved. " + WHAT_IF_MODEL
        ),
    )
    def create(self, request):
        query = WhatIfRequestSerializer(
            data=request.data, context={"organization": self.organization}
        )
        if not query.is_valid():
            raise serializers.ValidationError(list_errors_flat(query.errors, WHAT_IF_EDITS))
        data = query.validated_data
        campaign = _tenant_campaign(self.organization, data["campaign"])
        filters = KpiFilter(date_from=data["date_from"], date_to=data["date_to"])
        try:
            result = campaign_what_if(self.organization, campaign, filters, query.edits())
        except WhatIfError as exc:
            raise serializers.ValidationError({_what_if_error_key(data, exc): [str(exc)]}) from exc
        return Response(what_if_as_dict(self.organization, campaign.id, filters, result))


# --- Coverage -------------------------------------------------------------------------------


class CoverageQuerySerializer(serializers.Serializer):
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    date_from = serializers.DateField(
        required=False, help_text="First local day (default: 29 days before date_to)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last local day, inclusive (default: today)."
    )

    def validate(self, data):
        organization = self.context["organization"]
        date_to = data.get("date_to") or organization.local_today()
        date_from = data.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["Must not be after date_to."]})
        if (date_to - date_from).days >= MAX_DAYS:
            raise serializers.ValidationError({"date_from": [f"At most {MAX_DAYS} days."]})
        data["date_from"], data["date_to"] = date_from, date_to
        return data


class CoverageCellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="Local weekday, 0 = Monday.")
    hour = serializers.IntegerField(help_text="Local hour, 0-23.")
    open_targets = serializers.ListField(child=serializers.CharField())
    capacity = serializers.IntegerField(
        allow_null=True, help_text="Concurrency caps summed; null: unlimited."
    )
    calls = serializers.IntegerField()
    missed = serializers.IntegerField()
    peak_demand = serializers.IntegerField(
        allow_null=True, help_text="Estimated calls at once in the busiest instance."
    )
    flag = serializers.ChoiceField(choices=["none", "thin"], allow_null=True)
    reason = serializers.CharField()
    missed_revenue = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)


class CoverageResponseSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    plan_version = serializers.IntegerField(allow_null=True)
    revenue_per_answered = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True
    )
    missed_in_flagged = serializers.IntegerField()
    revenue_in_flagged = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    cells = CoverageCellSerializer(many=True, help_text="168 cells, Monday 00:00 first.")


class CoverageViewSet(TenantViewSet):
    schema = ReportSchema()

    @extend_schema(
        parameters=[CoverageQuerySerializer],
        responses={200: CoverageResponseSerializer},
        tags=["what-if"],
        summary="Routing coverage of a campaign per local hour of the week",
        description=(
            "For each local weekday x hour (the organization's zone) over [date_from, "
            "date_to]: the targets of the campaign's current routing plan (every active buyer "
            "when it has none) open at the middle of that hour on every such day, their "
            "capacity (concurrency caps summed, null when one is unlimited), the calls that "
            "arrived and were missed, and a flag for hours with calls and no target open "
            "(`none`) or thin coverage (`thin`: a single target, or capacity below the "
            "estimated peak of calls at once), with the missed calls x the campaign's revenue "
            "per answered call."
        ),
    )
    def list(self, request):
        query = CoverageQuerySerializer(
            data={name: value for name, value in request.query_params.items() if value != ""},
            context={"organization": self.organization},
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        campaign = _tenant_campaign(self.organization, data["campaign"])
        filters = KpiFilter(date_from=data["date_from"], date_to=data["date_to"])
        coverage = campaign_coverage(self.organization, campaign, filters)
        return Response(
            {
                "campaign": campaign.id,
                "date_from": filters.date_from,
                "date_to": filters.date_to,
                "timezone": self.organization.timezone,
                "currency": self.organization.currency,
                "plan_version": coverage.plan_version,
                "revenue_per_answered": kpi_json_value(coverage.revenue_per_answered),
                "missed_in_flagged": coverage.missed_in_flagged,
                "revenue_in_flagged": kpi_json_value(coverage.revenue_in_flagged),
                "cells": [
                    {
                        "weekday": cell.weekday,
                        "hour": cell.hour,
                        "open_targets": list(cell.open_targets),
                        "capacity": cell.capacity,
                        "calls": cell.calls,
                        "missed": cell.missed,
                        "peak_demand": cell.peak_demand,
                        "flag": cell.flag.value if cell.flag else None,
                        "reason": cell.reason,
                        "missed_revenue": kpi_json_value(cell.missed_revenue),
                    }
                    for row in coverage.grid
                    for cell in row
                ],
            }
        )
