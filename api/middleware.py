"""The API's body limit, checked before a byte of an oversized body is read."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"


def api_body_limit(get_response: Callable[[HttpRequest], HttpResponse]):
    """Answer 413 to an API request whose declared body is over API_MAX_BODY_BYTES."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
                body = {"detail": "The address must not hold NUL bytes.", "errors": []}
                return HttpResponse(json.dumps(body), status=400, content_type="application/json")
            if length > settings.API_MAX_BODY_BYTES:
                body = {
                    "detail": f"The request body is over the limit of "
                    f"{settings.API_MAX_BODY_BYTES} bytes.",
                    "errors": [],
                }
                return HttpResponse(json.dumps(body), status=413, content_type="application/json")
        return get_response(request)

    return middleware
