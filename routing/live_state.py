"""Live routing state: the calls in progress at each buyer target (concurrency slots) and the
calls sent to it in its current hour, day and month (cap counters).

`route_decide` reads a `snapshot`; sending a call to a target `acquire`s a slot, which checks
the target's concurrency and caps, takes the slot and counts the call in one atomic step, so
two calls deciding at once can never both take the last slot or the last call of a cap.
`release` frees the slot when the call's dial ends (idempotent: replays are harmless). A slot
whose end never arrives (a lost callback) expires at: sent + ring timeout + the longest call
(`settings.ROUTING_MAX_CALL_SECONDS`), refreshed to answer + the longest call when the buyer
answers (`refresh`). Acquiring again for the same call refreshes its slot
and counts nothing twice.

Two implementations with one contract (tests/routing/test_live_state.py runs both):
- `RedisLiveState` (when `settings.REDIS_URL` is set): one Lua script per acquire; slots are
  members of a sorted set per target scored by their expiry; counters are keys per target and
  period with a TTL past the period's end.
- `DatabaseLiveState` (the embedded default): `RoutingSlot` and `RoutingCapCount` rows, with
  the target's Buyer row locked (`select_for_update`) for the check-and-take.

Redis down: routing must still answer a ringing caller. `RedisLiveState` then fails open: the
snapshot has no live counts and acquire admits the call (both logged), so the plan's order
and hours still apply, only caps and concurrency are not enforced until Redis is back.

Keys and rows are per tenant: `routing:<organization>:<buyer>:...`, rows carry the organization.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from redis.backoff import NoBackoff
from redis.retry import Retry

from .models import Buyer, RoutingCapCount, RoutingSlot
from .rules import TargetLive, TargetRule

logger = logging.getLogger(__name__)


class LiveState(Protocol):
    def snapshot(
        self, organization_id: int, targets: Sequence[TargetRule], at: dt.datetime
    ) -> dict[int, TargetLive]:
        """Each target's live counts at `at`, by target id: those a cap of the target
        limits (the decision reads no other; the rest may read 0)."""
        ...

    def acquire(
        self, organization_id: int, target: TargetRule, call_sid: str, at: dt.datetime
    ) -> bool:
        """Atomically: False when the target's concurrency or a cap is full, else take a
        slot for the call and count it in the target's hour, day and month."""
        ...

    def refresh(self, organization_id: int, target_id: int, call_sid: str, at: dt.datetime) -> None:
        """The buyer answered at `at`: the call's slot now expires after the longest call
        from then; nothing when it holds none."""
        ...

    def release(self, organization_id: int, target_id: int, call_sid: str) -> None:
        """Free the call's slot at the target; nothing when it holds none."""
        ...


def period_keys(timezone: str, at: dt.datetime) -> tuple[str, str, str]:
    """The target's current hour, day and month, in its time zone.

    The hour carries the UTC offset: when clocks go back, the two 01:00 hours are two hours."""
    local = at.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    return (f"h:{local:%Y-%m-%dT%H}{offset}", f"d:{local:%Y-%m-%d}", f"m:{local:%Y-%m}")


# Counters outlive their period by a margin (a month is at most 31 days, a day at most 25 h).
_PERIOD_TTL_SECONDS = (2 * 3600, 2 * 86400, 33 * 86400)


def answered_slot_expiry(at: dt.datetime) -> dt.datetime:
    return at + dt.timedelta(seconds=settings.ROUTING_MAX_CALL_SECONDS)


def slot_expiry(target: TargetRule, at: dt.datetime) -> dt.datetime:
    return at + dt.timedelta(
        seconds=target.ring_timeout_seconds + settings.ROUTING_MAX_CALL_SECONDS
    )


def _key_base(organization_id: int, target_id: int) -> str:
    """The prefix of a target's keys: its slots (`:slots`) and counters (`:<period key>`)."""
    return f"routing:{organization_id}:{target_id}"


_NO_COUNTS = TargetLive()  # immutable: shared by every target without a cap


def _caps(target: TargetRule) -> tuple[int | None, int | None, int | None, int | None]:
    """The target's caps in TargetLive's order: concurrency, hourly, daily, monthly."""
    return (target.concurrency_cap, target.hourly_cap, target.daily_cap, target.monthly_cap)


def _cap(value: int | None) -> int:
    return -1 if value is None else value


# KEYS: slots zset, hour, day, month counters.
# ARGV: now (epoch s), expiry (epoch s), call sid, concurrency cap, hourly, daily, monthly cap
# (-1: none), hour, day, month TTL (s). Returns 1 when the slot was taken (or refreshed).
_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
local concurrency = tonumber(ARGV[4])
if concurrency >= 0 and redis.call('ZCARD', KEYS[1]) >= concurrency then
  return 0
end
for i = 2, 4 do
  local cap = tonumber(ARGV[i + 3])
  if cap >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= cap then
    return 0
  end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local ttl_slots = math.ceil(tonumber(ARGV[2]) - tonumber(ARGV[1])) + 60
if redis.call('TTL', KEYS[1]) < ttl_slots then
  redis.call('EXPIRE', KEYS[1], ttl_slots)
end
for i = 2, 4 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[i + 6])
end
return 1
"""

# KEYS: slots zset. ARGV: now, new expiry (epoch s), call sid. Only a slot still held: a
# released or expired one is not taken back.
_REFRESH_LUA = """
local held = redis.call('ZSCORE', KEYS[1], ARGV[3])
if held and tonumber(held) > tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  local ttl = math.ceil(tonumber(ARGV[2]) - tonumber(ARGV[1])) + 60
  if redis.call('TTL', KEYS[1]) < ttl then
    redis.call('EXPIRE', KEYS[1], ttl)
  end
end
return 0
"""


# KEYS: the counts asked for: a target's slots zset or one of its hour, day, month counters.
# ARGV: now (epoch s), and a letter per key: "z" (a slots zset: calls in progress) or "c" (a
# counter). Returns the count of each key. One script, not a pipeline of commands, and one
# argument for the kinds: packing a hundred arguments was a quarter of a decision's CPU.
_SNAPSHOT_LUA = """
local counts = {}
for i = 1, #KEYS do
  if string.sub(ARGV[2], i, i) == 'z' then
    counts[i] = redis.call('ZCOUNT', KEYS[i], '(' .. ARGV[1], '+inf')
  else
    counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
return counts
"""


class RedisLiveState:
    """Live state in Redis: one Lua script per acquire (see the module docstring)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._acquire = client.register_script(_ACQUIRE_LUA)
        self._refresh = client.register_script(_REFRESH_LUA)
        self._snapshot = client.register_script(_SNAPSHOT_LUA)

    @staticmethod
    def _keys(organization_id: int, target: TargetRule, periods: tuple[str, str, str]) -> list[str]:
        """The target's slots and its counters of the `periods` (`period_keys`)."""
        base = _key_base(organization_id, target.target_id)
        return [f"{base}:slots", *(f"{base}:{key}" for key in periods)]

    def snapshot(
        self, organization_id: int, targets: Sequence[TargetRule], at: dt.datetime
    ) -> dict[int, TargetLive]:
        # Only the counts a cap limits are read (the decision reads no other): a plan's
        # targets mostly have one cap or none, so a few keys instead of four a target. Built
        # plainly: this loop runs over every target of the plan on every ringing call.
        periods: dict[str, tuple[str, str, str]] = {}  # plans share a few time zones
        keys: list[str] = []
        kinds: list[str] = []
        asked: list[tuple[int, int]] = []  # (target id, TargetLive field) of each key
        for target in targets:
            counters = (target.hourly_cap, target.daily_cap, target.monthly_cap)
            if target.concurrency_cap is None and counters == (None, None, None):
                continue
            base = _key_base(organization_id, target.target_id)
            if target.concurrency_cap is not None:
                keys.append(f"{base}:slots")
                kinds.append("z")
                asked.append((target.target_id, 0))
            if counters == (None, None, None):
                continue
            target_periods = periods.get(target.timezone)
            if target_periods is None:
                target_periods = periods[target.timezone] = period_keys(target.timezone, at)
            for field, (cap, period) in enumerate(zip(counters, target_periods, strict=True), 1):
                if cap is not None:
                    keys.append(f"{base}:{period}")
                    kinds.append("c")
                    asked.append((target.target_id, field))
        live = dict.fromkeys((target.target_id for target in targets), _NO_COUNTS)
        if not keys:
            return live
        try:
            counts = self._snapshot(keys=keys, args=[at.timestamp(), "".join(kinds)])
        except redis.RedisError:
            logger.exception("routing live state: Redis unavailable, deciding without live counts")
            return {}
        counts_of: dict[int, list[int]] = {}
        for (target_id, field), count in zip(asked, counts, strict=True):
            counts_of.setdefault(target_id, [0, 0, 0, 0])[field] = count
        for target_id, target_counts in counts_of.items():
            live[target_id] = TargetLive(*target_counts)
        return live

    def acquire(
        self, organization_id: int, target: TargetRule, call_sid: str, at: dt.datetime
    ) -> bool:
        args = [
            at.timestamp(),
            slot_expiry(target, at).timestamp(),
            call_sid,
            _cap(target.concurrency_cap),
            _cap(target.hourly_cap),
            _cap(target.daily_cap),
            _cap(target.monthly_cap),
            *_PERIOD_TTL_SECONDS,
        ]
        try:
            return bool(
                self._acquire(
                    keys=self._keys(organization_id, target, period_keys(target.timezone, at)),
                    args=args,
                )
            )
        except redis.RedisError:
            logger.exception(
                "routing live state: Redis unavailable, call %s sent to target %s unchecked",
                call_sid,
                target.target_id,
            )
            return True

    def refresh(self, organization_id: int, target_id: int, call_sid: str, at: dt.datetime) -> None:
        slots = f"{_key_base(organization_id, target_id)}:slots"
        expiry = answered_slot_expiry(at).timestamp()
        try:
            self._refresh(keys=[slots], args=[at.timestamp(), expiry, call_sid])
        except redis.RedisError:
            logger.exception("routing live state: Redis unavailable, slot of %s kept", call_sid)

    def release(self, organization_id: int, target_id: int, call_sid: str) -> None:
        try:
            self.client.zrem(f"{_key_base(organization_id, target_id)}:slots", call_sid)
        except redis.RedisError:
            # The slot expires by itself (ring timeout + the longest call).
            logger.exception("routing live state: Redis unavailable, slot of %s kept", call_sid)


class DatabaseLiveState:
    """Live state in the database, for the embedded default without Redis."""

    def snapshot(
        self, organization_id: int, targets: Sequence[TargetRule], at: dt.datetime
    ) -> dict[int, TargetLive]:
        ids = [target.target_id for target in targets]
        in_progress: dict[int, int] = {}
        slots = RoutingSlot.objects.for_organization(organization_id).filter(
            buyer_id__in=ids, expires_at__gt=at
        )
        for buyer_id in slots.values_list("buyer_id", flat=True):
            in_progress[buyer_id] = in_progress.get(buyer_id, 0) + 1
        counts = {
            (buyer_id, key): count
            for buyer_id, key, count in RoutingCapCount.objects.for_organization(organization_id)
            .filter(buyer_id__in=ids)
            .values_list("buyer_id", "period_key", "count")
        }
        live = {}
        for target in targets:
            hour, day, month = (
                counts.get((target.target_id, key), 0) for key in period_keys(target.timezone, at)
            )
            found = (in_progress.get(target.target_id, 0), hour, day, month)
            # The counts no cap limits read 0, as from Redis: one contract.
            capped = zip(found, _caps(target), strict=True)
            live[target.target_id] = TargetLive(
                *(count if cap is not None else 0 for count, cap in capped)
            )
        return live

    def acquire(
        self, organization_id: int, target: TargetRule, call_sid: str, at: dt.datetime
    ) -> bool:
        keys = period_keys(target.timezone, at)
        with transaction.atomic():
            # The target's row is the lock: its acquires take turns, other targets' do not wait
            # (nor do calls written meanwhile that name the buyer: NO KEY UPDATE).
            locked = list(
                Buyer.objects.for_organization(organization_id)
                .select_for_update(no_key=True)
                .filter(pk=target.target_id)
                .values_list("pk", flat=True)
            )
            if not locked:
                return False
            slots = RoutingSlot.objects.for_organization(organization_id).filter(
                buyer_id=target.target_id
            )
            slots.filter(expires_at__lte=at).delete()
            expires_at = slot_expiry(target, at)
            if slots.filter(call_sid=call_sid).update(expires_at=expires_at):
                return True
            if target.concurrency_cap is not None and slots.count() >= target.concurrency_cap:
                return False
            counters = RoutingCapCount.objects.for_organization(organization_id).filter(
                buyer_id=target.target_id
            )
            counts = dict(counters.filter(period_key__in=keys).values_list("period_key", "count"))
            caps = (target.hourly_cap, target.daily_cap, target.monthly_cap)
            for key, cap in zip(keys, caps, strict=True):
                if cap is not None and counts.get(key, 0) >= cap:
                    return False
            RoutingSlot.objects.create(
                organization_id=organization_id,
                buyer_id=target.target_id,
                call_sid=call_sid,
                expires_at=expires_at,
            )
            counters.exclude(period_key__in=keys).delete()  # past periods count no more
            for key in keys:
                if not counters.filter(period_key=key).update(count=F("count") + 1):
                    RoutingCapCount.objects.create(
                        organization_id=organization_id,
                        buyer_id=target.target_id,
                        period_key=key,
                        count=1,
                    )
            return True

    def refresh(self, organization_id: int, target_id: int, call_sid: str, at: dt.datetime) -> None:
        RoutingSlot.objects.for_organization(organization_id).filter(
            buyer_id=target_id, call_sid=call_sid, expires_at__gt=at
        ).update(expires_at=answered_slot_expiry(at))

    def release(self, organization_id: int, target_id: int, call_sid: str) -> None:
        RoutingSlot.objects.for_organization(organization_id).filter(
            buyer_id=target_id, call_sid=call_sid
        ).delete()


def live_state_redis_client(url: str) -> redis.Redis:
    """A client that gives up fast (one retry, half-second timeouts): a caller is ringing,
    and a Redis that does not answer is better failed open than waited for."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


@cache
def _redis_live_state(url: str) -> RedisLiveState:
    return RedisLiveState(live_state_redis_client(url))


def live_state() -> LiveState:
    """Redis when settings.REDIS_URL is set, else the database."""
    if settings.REDIS_URL:
        return _redis_live_state(settings.REDIS_URL)
    return DatabaseLiveState()
