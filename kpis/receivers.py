"""The kpis app's answers to what other apps announce (connected in `KpisConfig.ready`)."""

from django.db import transaction
from django.dispatch import receiver

from calls.signals import calls_bulk_written, calls_changed, campaign_qualifying_changed

from .rollups import (
    rollups_mark_calls_changed,
    rollups_mark_campaign_history,
    rollups_schedule_refresh,
)


@receiver(calls_changed)
def _rollup_days_of_changed_calls(
    sender, *, organization, instants, deferred=False, **kwargs
) -> None:
    rollups_mark_calls_changed(organization, instants, schedule=not deferred)


@receiver(calls_bulk_written)
def _rollup_refresh_after_bulk_write(sender, *, organization, **kwargs) -> None:
    organization_id = organization.pk
    transaction.on_commit(lambda: rollups_schedule_refresh(organization_id))


@receiver(campaign_qualifying_changed)
def _rollup_days_of_requalified_campaign(sender, *, campaign, **kwargs) -> None:
    rollups_mark_campaign_history(campaign)
