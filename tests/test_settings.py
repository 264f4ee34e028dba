"""Settings built from the environment, as a deployment sets it."""

import runpy

import pytest
from django.conf import settings as django_settings

# The variables these tests set; anything else comes from the test run's own environment.
ENVIRONMENT = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "TRUST_X_FORWARDED", "SECURE_SSL_REDIRECT")


def settings_from_environment(monkeypatch, **environ: str) -> dict:
    """ppc_dashboard/settings.py evaluated afresh with these environment variables."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    if environ.get("DEBUG") == "false":
        monkeypatch.setenv(
            "SECRET_KEY", "a-production-secret-key-for-the-settings-tests-0123456789"
        )
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(django_settings.BASE_DIR / "ppc_dashboard" / "settings.py"))


@pytest.mark.parametrize("debug", ["true", "false"])
def test_trust_x_forwarded_trusts_the_proxys_scheme_and_host_with_debug_on_and_off(
    monkeypatch, debug
):
    built = settings_from_environment(monkeypatch, DEBUG=debug, TRUST_X_FORWARDED="true")
    assert built["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert built["USE_X_FORWARDED_HOST"] is True


@pytest.mark.parametrize("debug", ["true", "false"])
def test_trust_x_forwarded_false_trusts_no_forwarded_header(monkeypatch, debug):
    built = settings_from_environment(monkeypatch, DEBUG=debug, TRUST_X_FORWARDED="false")
    assert "SECURE_PROXY_SSL_HEADER" not in built
    assert "USE_X_FORWARDED_HOST" not in built


def test_production_trusts_its_tls_proxy_unless_told_otherwise(monkeypatch):
    # DEBUG off has always meant "behind a TLS-terminating proxy" (docker-compose.yml).
    built = settings_from_environment(monkeypatch, DEBUG="false")
    assert built["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert built["USE_X_FORWARDED_HOST"] is True


def test_development_trusts_no_forwarded_header_unless_told(monkeypatch):
    built = settings_from_environment(monkeypatch, DEBUG="true")
    assert "SECURE_PROXY_SSL_HEADER" not in built
    assert "USE_X_FORWARDED_HOST" not in built
