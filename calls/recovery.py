"""What follow-ups (the alerts app) record on the calls they recover, for the KPIs to count.

The alerts app owns follow-ups; the KPI engine may not import it, so the facts it counts live
on the call: `followup_at` (a follow-up was created for it), `recovered_at` and
`recovered_revenue`. Each write marks the call's rollup day dirty, like any change to a call.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ppc_dashboard.tenancy.models import Organization

from .models import Call
from .signals import calls_changed


def _call_locked(call_id: int, organization_id: int) -> Call:
    return Call.objects.for_organization(organization_id).select_for_update().get(pk=call_id)


def calls_followup_mark(*, organization: Organization, call_ids: list[int], at: dt.datetime) -> int:
    """Record that follow-ups were created for these calls (a call's first one's time is
    kept); returns how many calls were marked now."""
    with transaction.atomic():
        calls = Call.objects.for_organization(organization).filter(
            pk__in=call_ids, followup_at__isnull=True
        )
        instants = list(calls.values_list("started_at", flat=True))
        marked = calls.update(followup_at=at, updated_at=timezone.now())
        if marked:
            calls_changed.send(sender=Call, organization=organization, instants=instants)
    return marked


def call_recovery_record(*, call: Call, at: dt.datetime | None, revenue: Decimal) -> None:
    """Record (at: the time) or undo (at: None) the recovery of a call and its revenue.

    The recovered revenue is kept apart from the call's own `revenue`, which its integrator
    owns: a re-post of the call rewrites that, never this.
    """
    with transaction.atomic():
        locked = _call_locked(call.pk, call.organization_id)
        locked.recovered_at = at
        locked.recovered_revenue = revenue if at is not None else Decimal("0")
        locked.save(update_fields=["recovered_at", "recovered_revenue", "updated_at"])
        calls_changed.send(
            sender=Call, organization=locked.organization, instants=[locked.started_at]
        )
