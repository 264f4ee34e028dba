from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What operators and the load balancer read: health checks and the worker heartbeat."""

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the heartbeat task beat runs)
