"""The Redis cache backend (aha_site/cache.py): one Redis client per connection pool, and the
cache still behaves as Django's for every call the site makes."""

from __future__ import annotations

import uuid

from aha_site.cache import RedisCache


def make_cache(url: str) -> RedisCache:
    return RedisCache(url, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}", "TIMEOUT": 60})


def test_the_client_is_built_once_per_pool(redis_url):
    cache = make_cache(redis_url)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is client
    assert cache._cache.get_client("a key", write=True) is client


def test_set_get_add_delete_and_many_work_as_in_django(redis_url):
    cache = make_cache(redis_url)
    cache.set("page", {"html": "<p>x</p>"})
    assert cache.get("page") == {"html": "<p>x</p>"}
    assert cache.add("page", "other") is False
    assert cache.add("fresh", 1) is True
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": 2}
    assert cache.incr("a") == 2
    assert cache.delete("page") is True
    assert cache.get("page") is None
    cache.delete_many(["a", "b", "fresh"])
    assert cache.get_many(["a", "b", "fresh"]) == {}
