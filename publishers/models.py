from django.db import models
from django.db.models import Q

from ppc_dashboard.tenancy.models import TenantModel


class Publisher(TenantModel):
    """An affiliate that drives calls to tracking numbers and is paid per call."""

    name = models.CharField(max_length=200)
    # The publisher's id on the platform the tenant already uses (a Ringba/Retreaver sub id).
    external_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="publisher_org_name_uniq"
            ),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="publisher_org_external_id_uniq",
            ),
        ]

    def __str__(self) -> str:
        return self.name
