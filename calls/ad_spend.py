"""Ad spend: the one way it is written (the per-day grid and the CSV upload), its rules, and
the grid's read.

Ad spend needs no rollup marks: `kpis.selectors` reads the AdSpend table itself (it already
is a daily rollup) in every report, so a write shows on the next page view, and the
freshness of the call rollups (`as_of`) does not depend on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from django.db import transaction

from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher

from .csv_reading import CsvFileError, CsvShape, csv_file_shape, csv_rows
from .importers.base import RowError, header_key
from .models import AdSpend, Campaign
from .parsing import parse_money

AD_SPEND_CLASH = "Ad spend for this campaign, publisher and day exists; update it."


def ad_spend_clash_exists(
    organization: Organization, *, campaign, publisher, day, exclude_pk=None
) -> bool:
    """Whether the tenant already has ad spend for this campaign, publisher and day (the API
    refuses a second row with AD_SPEND_CLASH; the grid and the CSV update that row)."""
    clash = AdSpend.objects.for_organization(organization).filter(
        campaign=campaign, publisher=publisher, day=day
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    return clash.exists()


@dataclass(frozen=True)
class AdSpendEntry:
    """One day's ad spend of a campaign (and publisher, or none); amount None removes it."""

    campaign: Campaign
    publisher: Publisher | None
    day: dt.date
    amount: Decimal | None


@dataclass(frozen=True)
class AdSpendWriteResult:
    written: int
    removed: int


def ad_spend_write(
    *, organization: Organization, entries: Iterable[AdSpendEntry]
) -> AdSpendWriteResult:
    """Set each entry's day to its amount (creating or updating the one row of that campaign,
    publisher and day), or remove the day's row where the amount is None. All or nothing.

    The grid and the CSV upload both write through here.
    """
    written = removed = 0
    with transaction.atomic():
        for entry in entries:
            if entry.campaign.organization_id != organization.pk or (
                entry.publisher is not None and entry.publisher.organization_id != organization.pk
            ):
                raise ValueError("ad spend's campaign and publisher must be the tenant's own")
            rows = AdSpend.objects.for_organization(organization).filter(
                campaign=entry.campaign, publisher=entry.publisher, day=entry.day
            )
            if entry.amount is None:
                removed += rows.delete()[0]
                continue
            if not rows.update(amount=entry.amount):
                AdSpend.objects.create(
                    organization=organization,
                    campaign=entry.campaign,
                    publisher=entry.publisher,
                    day=entry.day,
                    amount=entry.amount,
                )
            written += 1
    return AdSpendWriteResult(written=written, removed=removed)


def ad_spend_by_day(
    organization: Organization, *, campaign, publisher, days: list[dt.date]
) -> dict[dt.date, Decimal]:
    """The grid's read: the amount of each of `days` that has ad spend."""
    return dict(
        AdSpend.objects.for_organization(organization)
        .filter(campaign=campaign, publisher=publisher, day__in=days)
        .values_list("day", "amount")
    )


# --- CSV upload ----------------------------------------------------------------------------

# The columns of an ad spend CSV, each with the headers that name it (matched by header_key).
AD_SPEND_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "day": ("day", "date"),
    "campaign": ("campaign", "campaign_name"),
    "publisher": ("publisher", "publisher_name"),
    "amount": ("amount", "spend", "ad_spend"),
}
AD_SPEND_REQUIRED = ("day", "campaign", "amount")


@dataclass
class AdSpendImportReport:
    """An upload's outcome. Atomic: with any error nothing is written (a sheet loaded halfway
    would understate spend without anyone noticing); fixing the file and uploading it again
    gives the same rows as a first clean upload."""

    rows: int = 0
    written: int = 0
    errors: list[RowError] = field(default_factory=list)
    # How the file was read (its encoding and delimiter), once it could be.
    shape: CsvShape | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def ad_spend_import_csv(*, organization: Organization, binary: IO[bytes]) -> AdSpendImportReport:
    """Read a CSV of `day, campaign, publisher, amount` rows (header first; day as
    YYYY-MM-DD; campaign and publisher by name, publisher blank for campaign-wide spend;
    amount with or without currency symbol and thousands separators) and write every row
    through `ad_spend_write`, or none of them: errors name the row (the header is row 1) and
    the column as the file spells it, as the call import's do."""
    report = AdSpendImportReport()
    try:
        report.shape = csv_file_shape(binary)
    except CsvFileError as exc:
        report.errors = [RowError(1, "(file)", str(exc))]
        return report
    reader = csv_rows(binary, report.shape)
    header = next(reader, [])
    columns = _ad_spend_columns(header)
    missing = [name for name in AD_SPEND_REQUIRED if name not in columns]
    if missing:
        report.errors = [RowError(1, name, "missing column") for name in missing]
        return report
    campaigns = {c.name: c for c in Campaign.objects.for_organization(organization)}
    publishers = {p.name: p for p in Publisher.objects.for_organization(organization)}
    entries: list[AdSpendEntry] = []
    seen: dict[tuple, int] = {}
    for number, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        report.rows += 1
        row = {name: (values[i].strip() if i < len(values) else "") for name, i in columns.items()}

        def error(name: str, message: str, number: int = number) -> None:
            report.errors.append(RowError(number, header[columns[name]].strip(), message))

        day = _day(row["day"])
        if day is None:
            error("day", f"'{row['day']}' is not a date like 2026-11-02")
        campaign = campaigns.get(row["campaign"])
        if campaign is None:
            error("campaign", f"Unknown campaign '{row['campaign']}'. Create it first.")
        publisher = None
        if row.get("publisher"):
            publisher = publishers.get(row["publisher"])
            if publisher is None:
                error("publisher", f"Unknown publisher '{row['publisher']}'. Create it first.")
        amount = None
        if not row["amount"]:
            error("amount", "An amount is required.")
        else:
            try:
                amount = parse_money(row["amount"])
            except ValueError as exc:
                error("amount", str(exc))
        if report.errors and report.errors[-1].row == number:
            continue
        key = (campaign.pk, publisher.pk if publisher else None, day)  # type: ignore[union-attr]
        if key in seen:
            error("day", f"Repeats row {seen[key]} (same day, campaign and publisher).")
            continue
        seen[key] = number
        entries.append(AdSpendEntry(campaign, publisher, day, amount))  # type: ignore[arg-type]
    if not report.errors:
        report.written = ad_spend_write(organization=organization, entries=entries).written
    return report


def _ad_spend_columns(header: list[str]) -> dict[str, int]:
    """Column name -> its index in the header."""
    keys = [header_key(name) for name in header]
    found = {}
    for name, spellings in AD_SPEND_COLUMNS.items():
        for spelling in spellings:
            if header_key(spelling) in keys:
                found[name] = keys.index(header_key(spelling))
                break
    return found


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
