"""The publisher setup screen's form: the rules of `POST /api/v1/publishers/`."""

from __future__ import annotations

from ppc_dashboard.tenancy.forms import TenantModelForm

from .models import Publisher


class PublisherForm(TenantModelForm):
    unique_in_tenant = ("name", "external_id")

    class Meta:
        model = Publisher
        fields = ["name", "external_id"]
        labels = {"external_id": "External id"}
        help_texts = {
            "external_id": "Optional. The publisher's id on your call platform (a Ringba or "
            "Retreaver sub id)."
        }
