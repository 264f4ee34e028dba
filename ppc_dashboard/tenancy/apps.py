from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "ppc_dashboard.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects them)
