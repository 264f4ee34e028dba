from celery import shared_task

from .rollups import rollups_refresh, rollups_refresh_started


@shared_task(acks_late=True)
def rollups_refresh_task(organization_id: int) -> int:
    rollups_refresh_started(organization_id)
    return rollups_refresh(organization_id)
