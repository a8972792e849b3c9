"""API test helpers: clients with tokens of chosen scopes, JSON calls through the test client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.services.clients import create_api_client
from tests.client import Client

ALL_SCOPES = ["provisioning:write", "orders:write", "violations:write", "health:read"]


class Api:
    """Calls /api/v1/ with one client's bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.http = Client()

    def call(self, method: str, path: str, body: Any = None, **extra: str) -> Any:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **extra}
        if body is not None:
            kwargs |= {"data": json.dumps(body, default=str), "content_type": "application/json"}
        return getattr(self.http, method)(f"/api/v1/{path}", **kwargs)

    def put(self, path: str, body: Any) -> Any:
        return self.call("put", path, body)

    def post(self, path: str, body: Any) -> Any:
        return self.call("post", path, body)

    def get(self, path: str) -> Any:
        return self.call("get", path)

    def delete(self, path: str) -> Any:
        return self.call("delete", path)


def api_with(name: str, scopes: list[str]) -> tuple[Api, Any]:
    client, token = create_api_client(name=name, scopes=scopes)
    return Api(token), client


@pytest.fixture
def api(db) -> Api:
    return api_with("feed", ALL_SCOPES)[0]


def provision(
    api: Api,
    *,
    seller: str = "s-1",
    account: str = "sa-1",
    market: str = "PL",
    opened_on: str = "2025-01-01",
    phone: str | None = "+48 512 345 678",
) -> None:
    """A seller with a store account (and a contact), made through the API."""
    assert api.put(
        f"sellers/{seller}",
        {"name": "Nord Tea", "email": f"{seller}@example.com", "language": "pl"},
    ).status_code in (200, 201)
    assert api.put(
        f"store-accounts/{account}",
        {"seller": seller, "marketplace": market, "plan": "PRO", "opened_on": opened_on},
    ).status_code in (200, 201)
    if phone:
        assert api.put(f"sellers/{seller}/emergency-contact", {"phone": phone}).status_code == 200
