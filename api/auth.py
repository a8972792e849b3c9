"""Bearer tokens with scopes and a per-client rate limit."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from api.models import ApiClient
from api.services.clients import authenticate, take_request


class Forbidden(Exception):
    """A valid token without the scope the endpoint needs (403)."""


class RateLimited(Exception):
    """Too many requests from this client (429); retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class ScopedToken(HttpBearer):
    """A bearer token of an active client that holds `scope`."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        client = authenticate(token)
        if client is None:
            return None
        if not client.has_scope(self.scope):
            raise Forbidden(f"This token lacks the {self.scope} scope.")
        if wait := take_request(client):
            raise RateLimited(wait)
        request.api_client = client
        return client


def client_of(request: HttpRequest) -> ApiClient:
    return request.auth
