from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo tenant: its generator and `manage.py seed_demo`. It builds on every app and no
    app imports it."""

    name = "demo"
