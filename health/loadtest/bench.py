"""The dashboard benchmark's measurements: closed loops of concurrent clients on one URL, the
page weight as transferred, and a profile of one dashboard request in this process."""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import StoreAccount
from health.loadtest.data import SimulatedSeller
from health.loadtest.http import HttpClient
from health.loadtest.stats import Recorder

ASSET = re.compile(rb"""<(?:link[^>]*?href|script[^>]*?src)=["']([^"']+)["']""")
COMPRESSED = {"Accept-Encoding": "br, gzip"}


async def closed_loop(
    clients: list[HttpClient], paths: list[str], *, seconds: float, recorder: Recorder, name: str
) -> None:
    """Each client requests its path again as soon as the answer is in, for `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds

    async def one(client: HttpClient, path: str) -> None:
        while asyncio.get_running_loop().time() < deadline:
            await recorder.timed(name, client.get(path), expect=(200,))

    await asyncio.gather(*(one(client, path) for client, path in zip(clients, paths, strict=True)))


@dataclass(frozen=True, slots=True)
class PageWeight:
    html: int
    assets: dict[str, int]
    foreign: list[str]

    @property
    def total(self) -> int:
        return self.html + sum(self.assets.values())


async def page_weight(client: HttpClient, path: str) -> PageWeight:
    """Bytes of the page and its CSS and JS as a browser that accepts compression gets them."""
    page = await client.get(path, headers=COMPRESSED)
    assets: dict[str, int] = {}
    foreign: list[str] = []
    for url in dict.fromkeys(match.decode() for match in ASSET.findall(page.body)):
        if url.startswith(("http:", "https:", "//")):
            foreign.append(url)
            continue
        answer = await client.get(url, headers=COMPRESSED)
        assets[url] = answer.wire_bytes
    return PageWeight(html=page.wire_bytes, assets=assets, foreign=foreign)


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
