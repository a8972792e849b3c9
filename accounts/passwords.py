"""Set-password links: a seller's forgotten password and an invited team member's first one.

Both are Django's password-reset tokens (one-time: they stop working once the password changes,
and after PASSWORD_RESET_TIMEOUT), mailed through the outbox like every other email."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User

# Requests for a link per address and per email per hour; more are answered the same way but
# send nothing, so the form cannot be used to flood a mailbox or probe for accounts.
RESET_REQUESTS_PER_HOUR = 5


def set_password_link(user: User) -> str:
    """The absolute one-time link at which `user` sets a password."""
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def _queue_link(user: User, kind: str) -> None:
    from health.services.outbox import queue_email  # health builds on accounts

    # One email per user and minute: a double submit sends one, a later request a fresh link.
    minute = timezone.now().strftime("%Y%m%d%H%M")
    queue_email(
        kind=kind,
        key=f"{kind}:{user.pk}:{minute}",
        seller=user.seller,
        user=user,
        context={"username": user.username, "link": set_password_link(user)},
    )


@transaction.atomic
def invite_user(*, user: User) -> None:
    """Email a new team member the one-time link to set a first password."""
    _queue_link(user, "invite")


def _over_limit(kind: str, value: str) -> bool:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    key = f"password-reset:{kind}:{digest}"
    try:
        if cache.add(key, 1, timeout=3600):
            return False
        return cache.incr(key) > RESET_REQUESTS_PER_HOUR
    except Exception:
        return False


@transaction.atomic
def request_password_reset(*, email: str, address: str) -> None:
    """Email a set-password link to each seller user with this address. The caller says the
    same thing whether or not the address is known, and whether or not it is throttled."""
    if _over_limit("address", address) or _over_limit("email", email):
        return
    # Sellers only: staff recover their sign-in through an operator (they also need a second
    # factor, which a mailbox must not be enough to replace).
    users = User.objects.filter(
        email__iexact=email.strip(), is_active=True, is_staff=False, seller__isnull=False
    )
    for user in users:
        _queue_link(user, "set_password")
