"""accounts.backends.ModelBackend: each request's user read by one statement, the same user the
ORM reads, on PostgreSQL and (through the ORM itself) elsewhere."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import backends as django_backends
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import ModelBackend
from accounts.models import User
from tests.builders import PASSWORD, make_seller_user, make_staff_user, make_store_account
from tests.client import Client

pytestmark = pytest.mark.django_db


def field_values(user: User) -> dict[str, object]:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


@pytest.mark.parametrize("kind", ["seller", "staff"])
def test_the_user_read_is_the_one_the_orm_reads(kind):
    user = (
        make_seller_user(seller=make_store_account().seller)
        if kind == "seller"
        else make_staff_user(superuser=True)
    )
    User.objects.filter(pk=user.pk).update(last_login="2026-03-29T01:30:00+01:00")
    ours = ModelBackend().get_user(user.pk)
    djangos = django_backends.ModelBackend().get_user(user.pk)
    assert type(ours) is User
    assert field_values(ours) == field_values(djangos)
    assert ours.last_login.utcoffset() is not None
    assert ours._state.adding is False
    assert ours._state.db == djangos._state.db
    assert ours.get_session_auth_hash() == djangos.get_session_auth_hash()


def test_no_user_and_an_inactive_user_are_nobody():
    user = make_seller_user(seller=make_store_account().seller)
    assert ModelBackend().get_user(user.pk + 1000) is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert ModelBackend().get_user(user.pk) is None


def test_a_signed_in_request_reads_its_user_in_one_query(postgres):
    user = make_seller_user(seller=make_store_account().seller)
    client = Client()
    client.force_login(user)
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.ModelBackend"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    assert response.wsgi_request.user == user
    user_queries = [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(user_queries) == 1
    assert "LIMIT" not in user_queries[0]  # the plain statement, not the ORM's get()


def test_signing_in_with_the_form_uses_this_backend_and_signing_out_ends_it(settings):
    user = make_seller_user(seller=make_store_account().seller)
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.ModelBackend"
    assert client.get(reverse("accounts:home")).wsgi_request.user == user
    User.objects.filter(pk=user.pk).update(password="changed elsewhere")
    # A password changed elsewhere ends the session, as with Django's backend.
    assert not client.get(reverse("accounts:home")).wsgi_request.user.is_authenticated


def test_the_statement_holds_only_while_the_model_needs_no_orm_on_the_way_out():
    # The plain statement reads every row of the table and hands its columns to from_db as they
    # come: a default manager that filters (say, soft deletion) or a field that converts its
    # column (from_db_value) would need the ORM's query here.
    assert not User._default_manager.all().query.where
    assert not [f.name for f in User._meta.concrete_fields if hasattr(f, "from_db_value")]


@pytest.mark.parametrize("as_given", [str, float])
def test_an_id_is_prepared_as_the_orm_prepares_it(as_given):
    user = make_seller_user(seller=make_store_account().seller)
    assert ModelBackend().get_user(as_given(user.pk)) == user


def test_an_id_that_is_no_number_is_refused_as_django_refuses_it():
    make_seller_user(seller=make_store_account().seller)
    for backend in (ModelBackend(), django_backends.ModelBackend()):
        with pytest.raises(ValueError, match="expected a number"):
            backend.get_user("not a number")
        assert backend.get_user(None) is None


@pytest.mark.parametrize("engine", ["accounts.sessions", "accounts.sessions_db"])
def test_a_session_made_with_djangos_backend_stays_signed_in_and_keeps_its_stored_name(
    settings, engine
):
    settings.SESSION_ENGINE = engine
    user = make_seller_user(seller=make_store_account().seller)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    key = client.session.session_key
    # As a session signed in before the rename, and not read since (the cache holds none).
    store = import_module(engine).SessionStore(key)
    if hasattr(store, "cache_key"):
        cache.delete(store.cache_key)
    assert client.get(reverse("accounts:home")).wsgi_request.user == user
    stored = Session.objects.get(session_key=key).get_decoded()
    assert stored[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
