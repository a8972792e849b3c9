"""Sessions read from the shared cache: never longer than the session lives, gone at sign-out,
and a cache outage only means reading them from the database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from accounts.sessions import SESSION_CACHE_SECONDS, SessionStore
from tests.builders import make_seller_user, make_store_account
from tests.client import Client

pytestmark = pytest.mark.django_db

UNREACHABLE = {
    "BACKEND": "aha_site.cache.RedisCache",
    # Nothing listens on port 1: every cache call fails at once.
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}


@pytest.fixture
def cached_sessions(settings):
    settings.SESSION_ENGINE = "accounts.sessions"


@pytest.fixture
def signed_in(cached_sessions) -> Client:
    client = Client()
    client.force_login(make_seller_user(seller=make_store_account().seller))
    assert client.get(reverse("accounts:home")).status_code == 200
    return client


def session_of(client: Client) -> SessionStore:
    return SessionStore(client.session.session_key)


def test_a_cached_session_lives_no_longer_than_the_cap_or_the_session(cached_sessions):
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.save()
    cache = caches["default"]
    expires_in = cache._expire_info[cache.make_and_validate_key(store.cache_key)] - (
        timezone.now().timestamp()
    )
    assert 0 < expires_in <= 60
    store.set_expiry(None)
    store.save()
    expires_in = cache._expire_info[cache.make_and_validate_key(store.cache_key)] - (
        timezone.now().timestamp()
    )
    assert expires_in <= SESSION_CACHE_SECONDS


def test_sign_out_removes_the_cached_copy(signed_in):
    key = session_of(signed_in).cache_key
    assert caches["default"].get(key) is not None
    signed_in.post(reverse("accounts:logout"))
    assert caches["default"].get(key) is None
    assert signed_in.get(reverse("accounts:home")).status_code == 302


def test_a_session_deleted_from_the_database_alone_is_read_from_the_cache_until_its_cap(
    signed_in,
):
    # The documented bound: only a copy whose delete failed can outlive its record, and only
    # for SESSION_CACHE_SECONDS; the database read after that finds nothing.
    Session.objects.all().delete()
    assert signed_in.get(reverse("accounts:home")).status_code == 200
    caches["default"].clear()
    assert signed_in.get(reverse("accounts:home")).status_code == 302


def test_an_unreachable_cache_only_means_reading_the_database(signed_in, settings):
    settings.CACHES = {"default": UNREACHABLE}
    assert signed_in.get(reverse("accounts:home")).status_code == 200
    fresh = Client()
    fresh.force_login(make_seller_user(seller=make_store_account().seller))
    assert fresh.get(reverse("accounts:home")).status_code == 200
    fresh.post(reverse("accounts:logout"))
    assert fresh.get(reverse("accounts:home")).status_code == 302
    expired = timezone.now() - dt.timedelta(seconds=1)
    Session.objects.update(expire_date=expired)
    assert signed_in.get(reverse("accounts:home")).status_code == 302
