"""Request counting against abuse: the per-key API rate limit, failed credential lookups per
client address, and the client's address itself (which the login lockout uses too).

Every counter is a fixed window in the Django cache (Redis in production). `window_hit` counts
and `window_hits` reads; they are the only functions here that talk to the cache. A hit
creates the window's key with its expiry (SET NX EX on Redis) and counts (INCR) in one round
trip (`_counter_hit`), so each request is counted exactly once
however many processes and threads race, where a read-modify-write of a list (DRF's
SimpleRateThrottle) loses counts. The locmem cache of development and tests makes both
operations atomic within its process.

With the cache unreachable (Redis down) both fail open: they log a warning and count nothing,
so every limit lets requests through. Refusing every request, or answering 500, would take
the API down with Redis; the limits are a guard against abuse, not the data's integrity.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from rest_framework.throttling import SimpleRateThrottle

from .errors import error_response
from .selectors import tenant_context_for_request

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The address of the client, the one every per-address limit counts against.

    Behind the TLS proxy that TRUST_X_FORWARDED trusts, it is the last address of
    X-Forwarded-For: the one the proxy itself saw (earlier ones are whatever the client sent).
    """
    if settings.TRUST_X_FORWARDED:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def _window(key: str, window_seconds: int) -> tuple[str, int]:
    """The cache key of the current window of `key`, and the whole seconds until it ends.

    Windows start at multiples of their length since the epoch (a minute's window on the
    minute).
    """
    now = time.time()
    window = int(now // window_seconds)
    return f"{key}:{window}", max(1, math.ceil((window + 1) * window_seconds - now))


def window_hit(key: str, window_seconds: int) -> tuple[int, int]:
    """Count one hit on `key` in the current fixed window of `window_seconds`.

    Returns the hits counted in this window so far, this one included, and the whole seconds
    until the window ends.
    """
    window_key, seconds_left = _window(key, window_seconds)
    try:
        # Kept one window longer than it counts, so a late hit (clocks of two servers a little
        # apart) never finds its key expired between its creation and its count.
        hits = _counter_hit(window_key, 2 * window_seconds)
    except Exception as exc:  # the cache is down: fail open (see the module docstring)
        _cache_unavailable(key, exc)
        return 0, seconds_left
    return hits, seconds_left


def _counter_hit(key: str, timeout: int) -> int:
    """Count one hit on `key`, created with `timeout` seconds to live by its first hit; the
    hits so far. One round trip on the production cache (`RedisCache.counter_hit` of
    ppc_dashboard.redis_cache, found by name: tenancy imports nothing of the project's),
    `add` then `incr` on any other (atomic within the process on locmem)."""
    counter_hit = getattr(cache, "counter_hit", None)  # `cache` is a proxy: no isinstance
    if counter_hit is not None:
        return counter_hit(key, timeout)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr: this hit opens the window again
        cache.add(key, 1, timeout=timeout)
        return 1


def window_hits(key: str, window_seconds: int) -> tuple[int, int]:
    """The hits counted on `key` in the current window, and the seconds until it ends."""
    window_key, seconds_left = _window(key, window_seconds)
    try:
        return cache.get(window_key, 0), seconds_left
    except Exception as exc:  # the cache is down: fail open (see the module docstring)
        _cache_unavailable(key, exc)
        return 0, seconds_left


# A warning at most this often per process: an outage would otherwise log every request.
CACHE_DOWN_LOG_SECONDS = 10.0
_cache_down_logged_at = -math.inf


def _cache_unavailable(key: str, exc: Exception) -> None:
    global _cache_down_logged_at
    now = time.monotonic()
    if now - _cache_down_logged_at < CACHE_DOWN_LOG_SECONDS:
        return
    _cache_down_logged_at = now
    logger.warning(
        "request counter %s not counted, the cache is unreachable (%s): limits are open",
        key,
        type(exc).__name__,
    )


class ApiKeyRateThrottle(SimpleRateThrottle):
    """One counter per API key (or per logged-in user), `API_RATE_LIMIT` requests a window.

    The rate is DRF's (`DEFAULT_THROTTLE_RATES["api_key"]`, e.g. "1200/min"); over it DRF
    answers 429 with Retry-After, the seconds until the window ends.
    """

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        context = tenant_context_for_request(request)
        if context is not None and context.api_key is not None:
            ident = f"key-{context.api_key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{client_address(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        hits, self.seconds_left = window_hit(key, self.duration)
        return hits <= self.num_requests

    def wait(self) -> float:
        return self.seconds_left


TOO_MANY_FAILURES = "Too many failed attempts from this address."


class CredentialFailureThrottle(SimpleRateThrottle):
    """Failed lookups of secrets in URLs and headers (API keys, webhook tokens, invitation
    links), counted per client address: `CREDENTIAL_FAILURE_LIMIT` failures a window (e.g.
    "20/min"), after which the address is answered 429 with Retry-After until the window ends.

    Only failures are counted, so requests with a valid secret cost one cache read at most.
    Not one of DRF's throttle classes: API key authentication, the invitation page and the
    Twilio webhook call it; SimpleRateThrottle lends it the rate's parsing.
    """

    scope = "credential_failures"

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def is_blocked(self, request) -> bool:
        """Whether this address has used up its failures: refuse it before any lookup."""
        hits, self.seconds_left = window_hits(self.get_cache_key(request), self.duration)
        return hits >= self.num_requests

    def failed(self, request) -> bool:
        """Count a failed lookup; whether the address is now over its limit."""
        hits, self.seconds_left = window_hit(self.get_cache_key(request), self.duration)
        return hits > self.num_requests

    def wait(self) -> float:
        return self.seconds_left

    def refusal(self) -> JsonResponse:
        """The 429 of a page or webhook (the API raises DRF's Throttled, which says the same)."""
        return error_response(
            429,
            f"{TOO_MANY_FAILURES} Retry in {self.seconds_left} seconds.",
            retry_after=self.seconds_left,
        )
