from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the tasks that services enqueue by name)
