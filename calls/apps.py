from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the tasks that services enqueue by name)
