from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "ppc_dashboard.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
