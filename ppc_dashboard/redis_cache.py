"""Django's Redis cache, two costs lighter on every API request.

- Django builds a new `redis.Redis` client for each cache operation (its response callbacks,
  ~170 entries, a dict copied each time): 0.2 ms of CPU an operation, three operations a
  request. The client is thread-safe and its pool is the cache's: one per pool is kept.
- `counter_hit` counts one hit in a fixed window in one round trip (SET NX EX, then INCR, in
  a pipeline without a transaction), where the cache API's `add` then `incr` took three
  (Django's `incr` asks EXISTS first). The request counters (`tenancy.throttling`) call it
  when the cache has it, and `add` then `incr` on any other cache.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # The pool of that index, as Django's own get_client would pick it.
            pool = self._pools.get(index) or self._get_connection_pool(write)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def counter_hit(self, key: str, timeout: int) -> int:
        """Count one hit on `key`, created with `timeout` seconds to live by its first hit;
        returns the hits so far, this one included."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        # The cache's serializer writes integers as their digits, so INCR reads them.
        pipeline = client.pipeline(transaction=False)
        _, hits = pipeline.set(key, 0, ex=timeout, nx=True).incr(key).execute()
        return int(hits)
