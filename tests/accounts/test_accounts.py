import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import EmergencyContact, Marketplace, StoreAccount
from tests.builders import make_seller, make_seller_user, make_staff_user, make_store_account

pytestmark = pytest.mark.django_db


def test_all_21_marketplaces_exist_with_valid_zones():
    marketplaces = list(Marketplace.objects.all())
    assert len(marketplaces) == 21
    for marketplace in marketplaces:
        ZoneInfo(marketplace.time_zone)  # raises for an unknown zone
        assert len(marketplace.currency) == 3
    assert Marketplace.objects.get(code="US").aha_available_from == dt.date(2022, 11, 16)
    assert Marketplace.objects.get(code="CA").aha_available_from == dt.date(2022, 11, 16)
    assert Marketplace.objects.get(code="PL").aha_available_from == dt.date(2024, 4, 24)


def test_local_date_differs_between_tokyo_and_los_angeles():
    instant = dt.datetime(
        2026, 3, 1, 5, 0, tzinfo=dt.UTC
    )  # 14:00 in Tokyo, 21:00 the day before in LA
    assert Marketplace.objects.get(code="JP").local_date(instant) == dt.date(2026, 3, 1)
    assert Marketplace.objects.get(code="US").local_date(instant) == dt.date(2026, 2, 28)


@pytest.mark.parametrize("raw", ["", "12", "not a number", "+48 000 000 000", "9" * 40, "<b>1</b>"])
def test_invalid_phone_rejected_with_message_and_nothing_saved(raw):
    seller = make_seller()
    make_store_account(seller=seller, marketplace="PL")
    with pytest.raises(ValidationError) as error:
        services.set_emergency_contact(seller=seller, phone=raw, by=None)
    assert error.value.messages[0]
    assert not EmergencyContact.objects.filter(seller=seller).exists()


def test_valid_phone_defaults_to_the_marketplace_country():
    seller = make_seller()
    make_store_account(seller=seller, marketplace="PL")
    contact = services.set_emergency_contact(seller=seller, phone="512 345 678", by=None)
    assert contact.phone.as_e164 == "+48512345678"
    assert contact.is_valid


def test_uk_store_uses_gb_numbering():
    seller = make_seller()
    make_store_account(seller=seller, marketplace="UK")
    contact = services.set_emergency_contact(seller=seller, phone="020 7946 0018", by=None)
    assert contact.phone.as_e164 == "+442079460018"


def test_seller_user_sees_only_its_own_store_accounts():
    mine = make_store_account()
    theirs = make_store_account()
    user = make_seller_user(seller=mine.seller)
    visible = set(StoreAccount.objects.visible_to(user))
    assert visible == {mine}
    assert theirs not in visible


def test_specialist_limited_to_a_marketplace_sees_only_it():
    pl = make_store_account(marketplace="PL")
    us = make_store_account(marketplace="US")
    specialist = make_staff_user()
    specialist.marketplaces.add("PL")
    assert list(StoreAccount.objects.visible_to(specialist)) == [pl]
    assert us not in StoreAccount.objects.visible_to(specialist)


def test_home_lists_only_the_users_stores(client):
    mine = make_store_account(marketplace="DE")
    make_store_account(marketplace="JP")
    user = make_seller_user(seller=mine.seller)
    client.force_login(user)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    assert b"Germany" in response.content
    assert b"Japan" not in response.content


def test_home_requires_login(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_login_page_renders(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
