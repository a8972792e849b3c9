"""Latencies and errors per endpoint, and the report the commands print."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field

from health.loadtest.http import Response

PERCENTILES = (50, 90, 99)


def percentile(sorted_values: list[float], percent: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * percent // 100))
    return sorted_values[int(rank) - 1]


@dataclass
class Recorder:
    """Every request's latency by endpoint; every failure by endpoint and kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0
    # Set when rounds are merged: the time measured, without the gaps between rounds.
    merged_seconds: float = 0.0

    async def timed(
        self, endpoint: str, request: Awaitable[Response], *, expect: tuple[int, ...]
    ) -> Response | None:
        """Run one request; None when it failed (and the failure is counted)."""
        began = time.perf_counter()
        try:
            response = await request
        except TimeoutError:
            self.errors[endpoint, "timeout"] += 1
            return None
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
            self.errors[endpoint, f"connection ({type(error).__name__})"] += 1
            return None
        self.latencies[endpoint].append(time.perf_counter() - began)
        if response.status >= 500:
            self.errors[endpoint, f"status {response.status}"] += 1
            return None
        if response.status not in expect:
            self.errors[endpoint, f"unexpected status {response.status}"] += 1
            return None
        return response

    def stop(self) -> None:
        self.finished = time.perf_counter()

    def merge(self, other: Recorder) -> None:
        """Add a finished round of measurements to this one."""
        for endpoint, values in other.latencies.items():
            self.latencies[endpoint].extend(values)
        self.errors.update(other.errors)
        self.merged_seconds += other.seconds

    @property
    def seconds(self) -> float:
        if self.merged_seconds:
            return self.merged_seconds
        return (self.finished or time.perf_counter()) - self.started

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def rate(self, endpoint: str | None = None) -> float:
        count = self.requests if endpoint is None else len(self.latencies[endpoint])
        return count / self.seconds if self.seconds else 0.0

    def summary(self, endpoint: str) -> dict[str, float]:
        """Requests, requests/s and latency percentiles (ms) of one endpoint."""
        values = sorted(self.latencies[endpoint])
        figures = {"requests": len(values), "rps": self.rate(endpoint)}
        for percent in PERCENTILES:
            figures[f"p{percent}"] = percentile(values, percent) * 1000
        figures["max"] = (values[-1] if values else 0.0) * 1000
        return figures

    def table(self) -> list[str]:
        """The printed latency table, one line per endpoint, then the errors."""
        lines = [
            f"  {'endpoint':<22} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8}"
            f" {'p99 ms':>8} {'max ms':>8}"
        ]
        for endpoint in sorted(self.latencies):
            s = self.summary(endpoint)
            lines.append(
                f"  {endpoint:<22} {s['requests']:>9,.0f} {s['rps']:>8.1f} {s['p50']:>8.1f}"
                f" {s['p90']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f}"
            )
        lines.append(
            f"  {'all':<22} {self.requests:>9,} {self.rate():>8.1f}   in {self.seconds:.1f} s"
        )
        lines.append(f"  errors: {self.error_count}")
        for (endpoint, kind), count in sorted(self.errors.items()):
            lines.append(f"    {endpoint}: {kind} x {count}")
        return lines
