"""Sign-in throttling keyed by username and address, with a cool-off; failed sign-ins and refused
accesses are logged; sessions expire."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from tests.builders import PASSWORD, make_seller_user, make_store_account
from tests.client import Client

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
ADDRESS, OTHER_ADDRESS = "203.0.113.7", "198.51.100.9"


def sign_in(username: str, password: str = PASSWORD, *, address: str = ADDRESS):
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": password})


def fail(username: str, times: int, *, address: str = ADDRESS) -> list:
    """Sign in with a wrong password `times` times; failures below the limit show the form."""
    responses = [sign_in(username, "not-the-password", address=address) for _ in range(times)]
    below_limit = responses[: settings.AXES_FAILURE_LIMIT - 1]
    assert all(response.status_code == 200 for response in below_limit)
    return responses


def is_signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("accounts:home")


def is_locked_out(response) -> bool:
    return response.status_code == settings.AXES_HTTP_RESPONSE_CODE and (
        b"Too many failed sign-ins" in response.content
    )


def test_the_failure_limit_locks_the_username_from_that_address() -> None:
    user = make_seller_user()
    fail(user.username, settings.AXES_FAILURE_LIMIT - 1)
    assert is_signed_in(sign_in(user.username))  # a success in between resets the count
    responses = fail(user.username, settings.AXES_FAILURE_LIMIT)
    assert is_locked_out(responses[-1])  # the failure that reaches the limit locks at once
    response = sign_in(user.username)  # even the right password is refused now
    assert response.status_code in {403, 429}
    assert is_locked_out(response)


def test_another_address_or_another_username_still_signs_in() -> None:
    user, colleague = make_seller_user(), make_seller_user()
    fail(user.username, settings.AXES_FAILURE_LIMIT)
    assert is_locked_out(sign_in(user.username))
    assert is_signed_in(sign_in(user.username, address=OTHER_ADDRESS))
    assert is_signed_in(sign_in(colleague.username))


def test_the_lockout_ends_after_the_cool_off() -> None:
    user = make_seller_user()
    fail(user.username, settings.AXES_FAILURE_LIMIT)
    assert is_locked_out(sign_in(user.username))
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - dt.timedelta(seconds=1))
    assert is_signed_in(sign_in(user.username))


def test_the_lockout_is_not_over_before_the_cool_off() -> None:
    user = make_seller_user()
    fail(user.username, settings.AXES_FAILURE_LIMIT)
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off + dt.timedelta(minutes=1))
    assert is_locked_out(sign_in(user.username))


def test_every_failed_sign_in_is_logged_with_username_and_address(caplog) -> None:
    user = make_seller_user()
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail(user.username, 3)
    failures = [r for r in caplog.records if "login failure" in r.getMessage()]
    assert len(failures) == 3
    assert all(user.username in r.getMessage() and ADDRESS in r.getMessage() for r in failures)
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


def test_a_lockout_is_logged(caplog) -> None:
    user = make_seller_user()
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail(user.username, settings.AXES_FAILURE_LIMIT)
    assert any("locking out" in r.getMessage().lower() for r in caplog.records)


def test_refused_accesses_are_logged(caplog) -> None:
    mine, theirs = make_store_account(), make_store_account()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_seller_user(seller=mine.seller))
    with caplog.at_level(logging.WARNING, logger="django"):
        assert client.get(reverse("health:dashboard", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("health:request_callback", args=[mine.pk])).status_code == 403
    by_logger = {(r.name, getattr(r, "status_code", None)) for r in caplog.records}
    assert ("django.request", 404) in by_logger
    # Django logs a refused CSRF check under django.security.csrf, not django.request.
    assert ("django.security.csrf", 403) in by_logger
    assert any(f"/stores/{theirs.pk}/" in r.getMessage() for r in caplog.records)


def test_session_age_comes_from_session_hours() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_COOKIE_AGE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "DJANGO_SETTINGS_MODULE": "aha_site.settings",
            "SESSION_HOURS": "3",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=True,
    )
    assert result.stdout.strip() == str(3 * 3600)
    assert settings.SESSION_COOKIE_AGE > 0


def test_an_expired_session_is_sent_to_sign_in(client) -> None:
    client.force_login(make_seller_user(seller=make_store_account().seller))
    assert client.get(reverse("accounts:home")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    # The time has passed for a cached copy too: it never outlives the session (see
    # test_cached_sessions.py).
    caches[settings.SESSION_CACHE_ALIAS].clear()
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
