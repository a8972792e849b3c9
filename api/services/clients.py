"""API clients: tokens made once, stored as a hash, checked, rate limited and revoked."""

from __future__ import annotations

import hashlib
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import ApiClient, Scope

TOKEN_PREFIX = "aha_"  # noqa: S105 - a marker, not a secret
# Last use is written at most this often per client: a write per request would serialise a
# client's concurrent requests on its row.
LAST_USE_RESOLUTION_SECONDS = 60


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256 (a token has 256 random bits; no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(raw: str | list[str]) -> list[str]:
    """The scopes of a comma-separated list, each one known, or ValidationError."""
    names = [part.strip() for part in raw.split(",")] if isinstance(raw, str) else list(raw)
    names = [name for name in names if name]
    unknown = [name for name in names if name not in Scope.values]
    if unknown:
        raise ValidationError(
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(Scope.values)}."
        )
    if not names:
        raise ValidationError(f"Give at least one scope: {', '.join(Scope.values)}.")
    return sorted(set(names))


@transaction.atomic
def create_api_client(*, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    """Create a client and return it with its token, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the client a name.")
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationError(f"An API client named {name!r} exists already.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        token_hash=hash_token(token),
        token_prefix=token[:12],
        scopes=parse_scopes(scopes),
    )
    return client, token


@transaction.atomic
def revoke_api_client(*, client: ApiClient) -> ApiClient:
    """Refuse the client's token from now on (401); its audit trail stays."""
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def authenticate(token: str) -> ApiClient | None:
    """The active client of a bearer token, its last use noted; None for unknown or revoked."""
    client = ApiClient.objects.active().filter(token_hash=hash_token(token)).first()
    if client is None:
        return None
    now = timezone.now()
    if (
        client.last_used_at is None
        or (now - client.last_used_at).total_seconds() > LAST_USE_RESOLUTION_SECONDS
    ):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def take_request(client: ApiClient) -> int:
    """Count one request against the client's limit; 0 when allowed, else the seconds to wait.

    A fixed window counted in the Django cache: Redis shared by every web process when
    configured, each process's memory otherwise. An unreachable cache lets the request through
    (a decision: the limit protects the site; an outage of the cache must not stop the feed)."""
    window = settings.API_RATE_LIMIT_WINDOW_SECONDS
    now = time.time()
    slot = int(now // window)
    key = f"api-rate:{client.pk}:{slot}"
    try:
        count = 1 if cache.add(key, 1, timeout=window + 1) else cache.incr(key)
    except Exception:
        return 0
    if count <= settings.API_RATE_LIMIT:
        return 0
    return max(1, int((slot + 1) * window - now) + 1)
