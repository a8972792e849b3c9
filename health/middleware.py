"""Pages in the signed-in user's own language, whatever browser or device they sign in from."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control


class UserLanguageMiddleware:
    """Activate `User.language` for signed-in users (after LocaleMiddleware and auth).

    Decision: the language stored on the user wins over the browser's cookie and headers; the
    switcher (health:set_language) updates both, so they only differ on a new device.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in self.languages:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Pages are the user's own: `Cache-Control: private, no-store` on every response that does
    not say otherwise, so no shared cache or back button keeps a seller's dashboard.

    Static files are answered by WhiteNoise, with their own long-lived headers, before this runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
