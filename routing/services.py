"""Writes of the routing app beyond one object's save: tracking numbers pasted in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from ppc_dashboard.tenancy.models import Organization

from .models import TrackingNumber, phone_number_in_tenant

# A paste is one request's work: a tenant with more numbers sends them to the API in batches.
TRACKING_NUMBER_PASTE_MAX_LINES = 1000


@dataclass(frozen=True)
class PastedLine:
    line: int  # 1-based, as the text box shows it
    text: str
    number: str = ""  # E.164, when the line is a number
    reason: str = ""  # why the line was refused, or whose number it already is


@dataclass
class TrackingNumberPasteReport:
    """What a paste did, line by line. Partial by design: the valid new numbers are added,
    the lines already there and the invalid ones are listed, and pasting the same text again
    adds nothing twice."""

    added: list[PastedLine] = field(default_factory=list)
    existing: list[PastedLine] = field(default_factory=list)
    invalid: list[PastedLine] = field(default_factory=list)


def tracking_numbers_paste(
    *, organization: Organization, text: str, campaign, publisher=None
) -> TrackingNumberPasteReport:
    """Add one tracking number per non-blank line of `text`, in any usual formatting, read in
    the tenant's country (the rule of the API, `phone_number_in_tenant`), each assigned to
    `campaign` and `publisher` (both the tenant's own). A number the tenant already has is
    left as it is (its campaign too) and reported, as is a line repeating an earlier one.
    """
    if campaign.organization_id != organization.pk or (
        publisher is not None and publisher.organization_id != organization.pk
    ):
        raise ValueError("the campaign and publisher must be the organization's own")
    report = TrackingNumberPasteReport()
    seen: dict[str, int] = {}
    candidates: list[PastedLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        value = raw.strip()
        if not value:
            continue
        try:
            e164 = phone_number_in_tenant(value, organization)
        except ValidationError as exc:
            report.invalid.append(PastedLine(number, value, reason=" ".join(exc.messages)))
            continue
        if e164 in seen:
            reason = f"repeats line {seen[e164]}"
            report.existing.append(PastedLine(number, value, e164, reason))
            continue
        seen[e164] = number
        candidates.append(PastedLine(number, value, e164))
    with transaction.atomic():
        stored = dict(
            TrackingNumber.objects.for_organization(organization)
            .filter(number__in=seen)
            .values_list("number", "campaign__name")
        )
        new = []
        for line in candidates:
            if line.number in stored:
                reason = f"already in campaign {stored[line.number]}"
                report.existing.append(PastedLine(line.line, line.text, line.number, reason))
            else:
                report.added.append(line)
                new.append(
                    TrackingNumber(
                        organization=organization,
                        number=line.number,
                        campaign=campaign,
                        publisher=publisher,
                    )
                )
        TrackingNumber.objects.bulk_create(new)
    report.existing.sort(key=lambda line: line.line)
    return report
