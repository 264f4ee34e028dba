"""The per-key rate limit counts every request once, even when many arrive at the same moment.

The counter lives in the Django cache (Redis in production); requests of one key racing each
other on several threads or processes must never get more than the limit through.
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import redis
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from ppc_dashboard.tenancy.authentication import ApiKeyUser
from ppc_dashboard.tenancy.services import api_key_create
from ppc_dashboard.tenancy.throttling import ApiKeyRateThrottle

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
THREADS = 8
LIMIT = 200
# A day's window: the test never straddles two windows (a fixed window starts at UTC 00:00).
RATE = f"{LIMIT}/day"


@pytest.fixture
def rate_of(monkeypatch):
    def set_rate(rate: str) -> None:
        monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": rate})

    return set_rate


@pytest.fixture
def redis_cache(settings):
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    # A prefix of its own, and only its own keys deleted: other runs may share this database.
    prefix = f"test-rate-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "ppc_dashboard.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _api_request(api_key) -> Request:
    http_request = APIRequestFactory().get("/api/v1/calls/")
    force_authenticate(http_request, user=ApiKeyUser(), token=api_key)
    return Request(http_request)


def _passed_through(api_key, requests_per_thread: int) -> int:
    """Requests of one key sent from THREADS threads at once: how many the throttle let in."""
    passed = []
    start = threading.Barrier(THREADS)

    def send() -> None:
        start.wait()
        count = 0
        for _ in range(requests_per_thread):
            if ApiKeyRateThrottle().allow_request(_api_request(api_key), None):
                count += 1
        passed.append(count)

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(passed)


@pytest.mark.parametrize("cache", ["redis", "locmem"])
def test_racing_requests_never_pass_more_than_the_limit(org, rate_of, request, cache):
    if cache == "redis":
        request.getfixturevalue("redis_cache")
    rate_of(RATE)
    api_key, _ = api_key_create(organization=org, name="busy integration")
    assert _passed_through(api_key, requests_per_thread=LIMIT // 2) == LIMIT


def test_each_key_has_a_limit_of_its_own(org, rate_of):
    rate_of("2/min")
    first, _ = api_key_create(organization=org, name="first")
    second, _ = api_key_create(organization=org, name="second")
    throttle = ApiKeyRateThrottle()
    allowed = [throttle.allow_request(_api_request(first), None) for _ in range(3)]
    assert allowed == [True, True, False]
    assert ApiKeyRateThrottle().allow_request(_api_request(second), None)


def test_retry_after_is_the_rest_of_the_window(org, rate_of):
    rate_of("1/min")
    api_key, _ = api_key_create(organization=org, name="integration")
    ApiKeyRateThrottle().allow_request(_api_request(api_key), None)
    throttle = ApiKeyRateThrottle()
    assert not throttle.allow_request(_api_request(api_key), None)
    assert 1 <= throttle.wait() <= 60


def test_the_redis_cache_keeps_one_client_and_counts_in_one_round_trip(redis_cache):
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client  # not a new client per operation
    commands = []
    execute = client.connection_pool.connection_class.send_packed_command

    def counted(connection, command, *args, **kwargs):
        commands.append(command)
        return execute(connection, command, *args, **kwargs)

    key = f"hits-{uuid.uuid4().hex}"
    cache.counter_hit(f"{key}-warm", 60)  # the connection's handshake, before counting
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client.connection_pool.connection_class, "send_packed_command", counted)
        assert [cache.counter_hit(key, 60) for _ in range(3)] == [1, 2, 3]
    assert len(commands) == 3  # one write to the socket a hit: SET NX EX and INCR piped
    assert cache.get(key) == 3
    assert 0 < client.ttl(cache.make_key(key)) <= 60
