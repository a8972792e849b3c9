"""Per request: its id in every log line (and the tasks it enqueues), and one count and one
latency sample by view."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from aha_site.observability.logs import REQUEST, REQUEST_ID, new_request_id
from aha_site.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept when it is a plain token; anything else could forge or break log lines.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

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


class RequestIdMiddleware:
    """Takes the proxy's X-Request-ID (or makes one), puts it on every log line of the request
    and on the tasks it enqueues, and returns it in the response's X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if ACCEPTED_REQUEST_ID.fullmatch(offered) else new_request_id()
        request.request_id = request_id
        # Kept until the response is closed (request_finished below): Django logs a 4xx/5xx
        # answer after the last middleware has returned.
        REQUEST_ID.set(request_id)
        REQUEST.set(request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished)
def _forget_request(**_: object) -> None:
    """The thread's next log lines belong to no request until the next one starts."""
    REQUEST_ID.set("-")
    REQUEST.set(None)
