"""The dashboard benchmark's measurements besides Locust's: the page weight as transferred, and a
profile of dashboard requests in this process."""

from __future__ import annotations

import cProfile
import gzip
import io
import pstats
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import StoreAccount
from health.loadtest.data import SimulatedSeller

ASSET = re.compile(rb"""<(?:link[^>]*?href|script[^>]*?src)=["']([^"']+)["']""")
COMPRESSED = {"Accept-Encoding": "br, gzip"}


@dataclass(frozen=True, slots=True)
class PageWeight:
    html: int
    assets: dict[str, int]
    foreign: list[str]

    @property
    def total(self) -> int:
        return self.html + sum(self.assets.values())


def page_weight(base_url: str, path: str, *, cookie: str) -> PageWeight:
    """Bytes of the page and its CSS and JS as a browser that accepts compression gets them."""
    page = _fetch(base_url + path, cookie=cookie)
    assets: dict[str, int] = {}
    foreign: list[str] = []
    for url in dict.fromkeys(match.decode() for match in ASSET.findall(_decoded(page))):
        if url.startswith(("http:", "https:", "//")):
            foreign.append(url)
            continue
        assets[url] = _fetch(base_url + url, cookie=cookie).wire_bytes
    return PageWeight(html=page.wire_bytes, assets=assets, foreign=foreign)


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes
    encoding: str
    wire_bytes: int


def _fetch(url: str, *, cookie: str) -> Fetched:
    """The body as sent (still compressed), from the local server the benchmark started."""
    request = urllib.request.Request(url, headers={**COMPRESSED, "Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (our own server)
        body = answer.read()
        # As transferred: the status line and headers count too.
        head = len(f"HTTP/1.1 {answer.status} {answer.reason}\r\n") + len(bytes(answer.headers))
        return Fetched(body, answer.headers.get("Content-Encoding", ""), head + len(body))


def _decoded(page: Fetched) -> bytes:
    if page.encoding == "gzip":
        return gzip.decompress(page.body)
    if page.encoding == "br":
        import brotli

        return brotli.decompress(page.body)
    return page.body


def profile_dashboard(seller: SimulatedSeller, *, requests: int, top: int = 25) -> str:
    """cProfile of `requests` dashboard requests in this process, and the queries of one."""
    store_account = StoreAccount.objects.select_related("seller").get(pk=seller.store_account_id)
    user = store_account.seller.users.get()
    url = reverse("health:dashboard", args=[store_account.pk])
    timings: list[tuple[float, str]] = []
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(user)
        client.get(url)  # templates compiled, caches warm
        with connection.execute_wrapper(_timing(timings)):
            started = time.perf_counter()
            client.get(url)
            request_seconds = time.perf_counter() - started
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(url)
        profiler.disable()
    out = io.StringIO()
    query_seconds = sum(seconds for seconds, _sql in timings)
    out.write(
        f"One dashboard request: {request_seconds * 1000:.1f} ms, {len(timings)} SQL queries"
        f" taking {query_seconds * 1000:.1f} ms:\n"
    )
    for seconds, sql in timings:
        out.write(f"  {seconds * 1000:7.2f} ms  {sql[:160]}\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    out.write("The project's own functions:\n")
    stats.print_stats(r"/(health|accounts|aha_site)/", top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _timing(timings: list[tuple[float, str]]) -> Callable[..., object]:
    def wrapper(execute: Callable[..., object], sql: str, params, many, context) -> object:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - started, " ".join(sql.split())))

    return wrapper
