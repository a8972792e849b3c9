"""Request metrics: one count and one latency sample per answered request, by view."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from aha_site.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

# Requests that matched no URL pattern share one label: a label per path would let any scanner
# create series without end.
UNMATCHED = "<unmatched>"


def view_label(request: HttpRequest) -> str:
    """The URL name (namespace:name) the request resolved to, or a shared label for none."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match._func_path


class RequestMetricsMiddleware:
    """Counts and times every request; first in MIDDLEWARE so the whole stack is timed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view, status = view_label(request), str(response.status_code)
        HTTP_REQUESTS.labels(view=view, method=_method(request), status=status).inc()
        HTTP_LATENCY.labels(view=view, status=status).observe(time.perf_counter() - started)
        return response


def _method(request: HttpRequest) -> str:
    method = (request.method or "").upper()
    return (
        method
        if method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
        else "other"
    )
