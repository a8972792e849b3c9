"""Sign-in throttling beyond django-axes' lockout of one username from one address.

Axes locks a username+address pair after LOGIN_FAILURE_LIMIT failures. That alone lets one
address try one password on each of many usernames, and many addresses try many passwords on one
username. So two more limits, read from axes' log of failures:
- per address, across usernames: LOGIN_ADDRESS_FAILURE_LIMIT failures in the cool-off period
  pause every sign-in from that address for the rest of it;
- per username, across addresses: after LOGIN_USERNAME_SLOW_AFTER failures in a day, each further
  attempt waits a delay that doubles with every failure (up to LOGIN_USERNAME_MAX_DELAY_SECONDS).
  It delays rather than locks, and does not apply to an address the user has signed in from
  before, so a guesser cannot keep the owner out of its own account.
Refused attempts are not counted as failures: hammering a paused door does not keep it shut.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from axes.exceptions import AxesBackendPermissionDenied
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

USERNAME_WINDOW = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Throttle:
    """Why a sign-in is refused now, and for how long (at most)."""

    reason: str  # "address" or "username"
    wait: dt.timedelta

    @property
    def wait_minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))


def username_delay(failures: int) -> dt.timedelta:
    """The wait after the last failure, once a username has `failures` failures in a day."""
    extra = failures - settings.LOGIN_USERNAME_SLOW_AFTER
    if extra < 0:
        return dt.timedelta(0)
    seconds = min(settings.LOGIN_USERNAME_MAX_DELAY_SECONDS, 2 ** min(extra, 30))
    return dt.timedelta(seconds=seconds)


def throttle_for(*, username: str, address: str, now: dt.datetime) -> Throttle | None:
    """The limit this sign-in attempt runs into, if any."""
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    from_address = AccessFailureLog.objects.filter(
        ip_address=address, attempt_time__gte=now - cool_off
    )
    if from_address.count() >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        oldest = from_address.order_by("attempt_time").values_list("attempt_time", flat=True)[0]
        return Throttle("address", oldest + cool_off - now)
    failures = AccessFailureLog.objects.filter(
        username=username, attempt_time__gte=now - USERNAME_WINDOW
    )
    count = failures.count()
    if count < settings.LOGIN_USERNAME_SLOW_AFTER:
        return None
    if AccessLog.objects.filter(username=username, ip_address=address).exists():
        return None  # the owner's own address: never delayed by others' guesses
    last = failures.order_by("-attempt_time").values_list("attempt_time", flat=True)[0]
    ready_at = last + username_delay(count)
    return Throttle("username", ready_at - now) if ready_at > now else None


class ThrottleBackend:
    """An authentication backend that refuses throttled attempts before any password is checked.

    It has no get_user on purpose: it never signs anyone in, and force_login and sessions pick the
    first backend that has one."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: object
    ) -> None:
        if request is None or not username:
            return None
        throttle = throttle_for(
            username=username, address=request.META.get("REMOTE_ADDR", ""), now=timezone.now()
        )
        if throttle is None:
            return None
        request.login_throttle = throttle
        # axes neither counts nor logs an attempt it (or we) refused, and its middleware answers
        # with the lockout page.
        request.axes_locked_out = True
        raise AxesBackendPermissionDenied("sign-in throttled")
