"""Requests no view should see: bodies too big or of a kind the view does not take, and text
no database can store (a NUL character). Each is answered here, before any view reads it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

NUL = "\x00"
MULTIPART = "multipart/form-data"


def accepts_files[View: Callable](view: View) -> View:
    """Mark a view that takes file uploads; every other view refuses a multipart body (415)."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        raise BadRequest("The Content-Length header is not a number.") from None


def _takes_files(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return bool(getattr(match.func, "accepts_files", False))


class BoundedBodyMiddleware:
    """413 for a body over the limit and 415 for a multipart body sent to a view that takes no
    file, both answered from the headers alone: the body is never read, so an upload of any size
    is never written to disk. Runs before CSRF, whose check reads the whole body.

    Every form of the site is sent URL-encoded (none has enctype="multipart/form-data"), and the
    API takes JSON; a multipart body can only come from a client that is not one of ours.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        takes_files = request.content_type == MULTIPART and _takes_files(request)
        limit = settings.FILE_UPLOAD_MAX_BODY_SIZE if takes_files else settings.MAX_REQUEST_BODY
        if _declared_length(request) > limit:
            return HttpResponse("The request is too large.", status=413, content_type="text/plain")
        if request.content_type == MULTIPART and not takes_files:
            return HttpResponse(
                "This address takes no file: send the form URL-encoded.",
                status=415,
                content_type="text/plain",
            )
        return self.get_response(request)


def _holds_nul(pairs: Iterable[tuple[str, list[str]]]) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in pairs)


class RejectNulMiddleware:
    """400 for a NUL character in the path or the query string.

    PostgreSQL refuses NUL in text, so a NUL that reached a query (an admin search, a filter,
    an id) would fail it, and no link holds one. Form bodies are left to the forms, whose text
    fields refuse NUL with a message beside the field.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path or _holds_nul(request.GET.lists()):
            raise BadRequest("A NUL character in the address.")
        return self.get_response(request)
