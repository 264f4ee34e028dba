"""How an outbound webhook is signed and when a failed one is tried again: pure functions
(no Django), tested without a database. README "Outbound webhooks" is their public contract.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

SIGNATURE_SCHEME = "v1"


def webhook_body(payload: dict) -> bytes:
    """The exact bytes posted (and signed): compact JSON, keys sorted, UTF-8.

    Built from the stored payload on every attempt, so a retry posts the very same body.
    """
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256, hex, over `f"{timestamp}.{body}"`: the timestamp is signed so that a
    captured request cannot be replayed later with a fresh X-PPC-Timestamp."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`v1=<hex>[,v1=<hex>]`: one signature per valid secret, the current one first.

    During a rotation both secrets sign, so a receiver still holding the previous one keeps
    accepting deliveries until it is given the new one.
    """
    if not secrets:
        raise ValueError("at least one secret signs a webhook")
    return ",".join(
        f"{SIGNATURE_SCHEME}={webhook_signature(secret, timestamp, body)}" for secret in secrets
    )


def retry_delay_seconds(attempt: int, schedule: Sequence[float], jitter: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) before the next one.

    `schedule` holds the waits in order (30 s, 2 min, 10 min, 1 h, 6 h); past its end the last
    wait repeats. `jitter` in [0, 1) adds up to 10 % so that the deliveries of one outage do not
    all come back in the same second.
    """
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter is a fraction in [0, 1)")
    base = schedule[min(attempt, len(schedule)) - 1]
    return base * (1 + 0.1 * jitter)
