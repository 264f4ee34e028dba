"""Writes of the KPI engine's own settings: the tenant's report tags."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import transaction

from ppc_dashboard.tenancy.models import Organization

from .models import REPORT_TAGS_MAX, CallRollupDailyCampaign, CallRollupDailyTag, ReportTag
from .rollups import rollups_mark_dirty

# Letters, digits, spaces, "_", "-" and "."; no ":" (a tag filter is key:value, split at the
# first colon), no leading or trailing space; as import columns and the API name tags.
REPORT_TAG_KEY = re.compile(r"[A-Za-z0-9_.-](?:[A-Za-z0-9_. -]{0,62}[A-Za-z0-9_.-])?")


def report_tag_key_error(key: str) -> str | None:
    """Why `key` cannot be a report tag key, or None."""
    if not key:
        return "A tag key cannot be blank."
    if len(key) > 64:
        return f"'{key[:20]}...' is longer than 64 characters."
    if not REPORT_TAG_KEY.fullmatch(key):
        return (
            f"'{key}' is not a tag key: use letters, digits, spaces, '_', '-' or '.', "
            "without a colon or spaces at either end."
        )
    return None


def report_tags_errors(keys: Sequence[str]) -> list[str]:
    """Every reason the list cannot be the tenant's report tags (empty: it can)."""
    errors = [error for key in keys if (error := report_tag_key_error(key))]
    if len(keys) > REPORT_TAGS_MAX:
        errors.append(f"At most {REPORT_TAGS_MAX} report tags ({len(keys)} given).")
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            errors.append(f"'{key}' is named twice.")
        seen.add(key)
    return errors


def report_tags_set(*, organization: Organization, keys: Sequence[str]) -> bool:
    """Make `keys` the tenant's report tags, in this order; returns whether they changed.

    A key added has no rollup rows yet: every day with calls is marked dirty, in this
    transaction, and the refresh rolls it up. A key removed has its rows deleted.
    """
    errors = report_tags_errors(keys)
    if errors:
        raise ValueError(" ".join(errors))
    with transaction.atomic():
        tags = ReportTag.objects.for_organization(organization)
        current = list(tags.order_by("position").values_list("key", flat=True))
        if current == list(keys):
            return False
        tags.delete()
        ReportTag.objects.bulk_create(
            ReportTag(organization=organization, key=key, position=position)
            for position, key in enumerate(keys)
        )
        removed = set(current) - set(keys)
        if removed:
            CallRollupDailyTag.objects.for_organization(organization).filter(
                tag_key__in=removed
            ).delete()
        if set(keys) - set(current):
            days = (
                CallRollupDailyCampaign.objects.for_organization(organization)
                .values_list("day", flat=True)
                .distinct()
            )
            rollups_mark_dirty(organization.pk, list(days))
    return True
