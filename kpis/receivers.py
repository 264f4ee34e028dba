"""The kpis app's answers to what other apps announce (connected in `KpisConfig.ready`)."""

from django.dispatch import receiver

from calls.signals import calls_changed, campaign_qualifying_changed

from .rollups import rollups_mark_calls_changed, rollups_mark_campaign_history


@receiver(calls_changed)
def _rollup_days_of_changed_calls(sender, *, organization, instants, **kwargs) -> None:
    rollups_mark_calls_changed(organization, instants)


@receiver(campaign_qualifying_changed)
def _rollup_days_of_requalified_campaign(sender, *, campaign, **kwargs) -> None:
    rollups_mark_campaign_history(campaign)
