"""Fixtures the dashboard tests share: a seller's store account in PL, a client signed in as
that seller, and the default language restored after each test."""

import pytest
from django.utils import translation

from tests.builders import PHONE, make_seller, make_seller_user, make_store_account


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    """Requests activate the user's language in this thread; later tests must not inherit it."""
    yield
    translation.deactivate()


@pytest.fixture
def store_account():
    return make_store_account(seller=make_seller(phone=PHONE), marketplace="PL")


@pytest.fixture
def seller_client(client, store_account):
    client.force_login(make_seller_user(seller=store_account.seller))
    return client
