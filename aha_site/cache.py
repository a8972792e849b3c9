"""Django's Redis cache, building its Redis client once per connection pool instead of once per
cache call.

Django's RedisCacheClient makes a new `redis.Redis` for every get and set, and each one copies
redis-py's table of about 170 response callbacks into a new case-insensitive dict: on a page that
reads its session, its fingerprint and its cached parts, that was a fifth of the time of a
cached dashboard. A `redis.Redis` holds nothing of its own between calls besides that table (the
connections belong to the pool, which is shared already), and it is safe to share between
threads, so one per pool serves every call.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[object, Any] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
