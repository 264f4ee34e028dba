"""The pure rules of outbound webhooks, without a database: the signature, the backoff, and
which URLs may receive webhooks."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest

from alerts.webhook_signing import (
    retry_delay_seconds,
    webhook_body,
    webhook_signature,
    webhook_signature_header,
)
from alerts.webhook_targets import webhook_host_problem, webhook_url_problem

SCHEDULE = (30.0, 120.0, 600.0, 3600.0, 21600.0)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"id":"k"}'
    expected = hmac.new(b"s3cret", b'1700000000.{"id":"k"}', hashlib.sha256).hexdigest()
    assert webhook_signature("s3cret", 1700000000, body) == expected
    assert webhook_signature_header(["s3cret"], 1700000000, body) == f"v1={expected}"


def test_two_secrets_give_two_signatures_the_current_first():
    header = webhook_signature_header(["new", "old"], 1, b"{}")
    new, old = webhook_signature("new", 1, b"{}"), webhook_signature("old", 1, b"{}")
    assert header == f"v1={new},v1={old}"
    with pytest.raises(ValueError):
        webhook_signature_header([], 1, b"{}")


def test_the_body_is_compact_sorted_utf8_json():
    assert webhook_body({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


@pytest.mark.parametrize(
    "attempt, jitter, seconds",
    [(1, 0.0, 30), (2, 0.0, 120), (3, 0.0, 600), (4, 0.0, 3600), (5, 0.0, 21600), (9, 0.0, 21600),
     (1, 0.5, 31.5), (5, 0.999, 21600 * 1.0999)],
)  # fmt: skip
def test_the_wait_after_a_failed_attempt_follows_the_schedule_plus_jitter(attempt, jitter, seconds):
    assert retry_delay_seconds(attempt, SCHEDULE, jitter) == pytest.approx(seconds)


def test_attempts_are_numbered_from_one_and_jitter_is_a_fraction():
    with pytest.raises(ValueError):
        retry_delay_seconds(0, SCHEDULE, 0.0)
    with pytest.raises(ValueError):
        retry_delay_seconds(1, SCHEDULE, 1.0)


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/ppc", "https://8.8.8.8:8443/x", "https://[2606:4700::1]/x"]
)
def test_public_https_urls_are_allowed_in_production(url):
    assert webhook_url_problem(url, allow_local=False) is None


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://hooks.example.com/ppc", "Use https"),
        ("ftp://hooks.example.com/", "Enter an https:// URL."),
        ("https:///nohost", "Enter an https:// URL."),
        ("https://localhost/x", "Use a public address"),
        ("https://127.0.0.1/x", "Use a public address"),
        ("https://10.1.2.3/x", "Use a public address"),
        ("https://192.168.0.10/x", "Use a public address"),
        ("https://169.254.169.254/latest/meta-data", "Use a public address"),
        ("https://[::1]/x", "Use a public address"),
        ("https://[fd00::1]/x", "Use a public address"),
        ("https://example.com:99999/", "Enter a valid URL."),
    ],
)
def test_private_and_plain_http_targets_are_refused_in_production(url, problem):
    assert webhook_url_problem(url, allow_local=False).startswith(problem)


def test_development_allows_private_targets_and_http_to_this_machine_only():
    assert webhook_url_problem("http://127.0.0.1:8123/hook", allow_local=True) is None
    assert webhook_url_problem("http://localhost/hook", allow_local=True) is None
    assert webhook_url_problem("https://10.1.2.3/x", allow_local=True) is None
    assert webhook_url_problem("http://10.1.2.3/x", allow_local=True).startswith("Use https")


def _resolving_to(monkeypatch, *addresses: str) -> None:
    infos = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443)) for address in addresses]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: infos)


def test_a_public_name_resolving_to_a_private_address_is_refused_before_sending(monkeypatch):
    # The name passed the check when saved; its DNS now points inside (rebinding).
    url = "https://hooks.example.com/ppc"
    assert webhook_url_problem(url, allow_local=False) is None
    _resolving_to(monkeypatch, "93.184.215.14", "10.0.0.5")
    assert webhook_host_problem(url, allow_local=False) == (
        "The host resolves to a non-public address (10.0.0.5)."
    )
    assert webhook_host_problem(url, allow_local=True) is None
    _resolving_to(monkeypatch, "93.184.215.14")
    assert webhook_host_problem(url, allow_local=False) is None
