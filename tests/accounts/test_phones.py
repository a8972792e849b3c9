"""Numbers specialists dial are a country's landlines and mobiles: every entry point refuses
premium-rate, shared-cost and non-geographic (satellite) kinds with a message naming the kind."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts import services
from accounts.models import EmergencyContact
from accounts.phones import is_dialable_text, parse_phone
from health.models import CallbackRequest
from tests.builders import make_seller, make_seller_user, make_store_account

PREMIUM_RATE = ["+1 900 555 0123", "+44 909 876 5432", "+48 701 234 567"]
SHARED_COST = ["+48 801 123 456"]
# +870 (Inmarsat) and +881 (Iridium) are typed "mobile" by libphonenumber, but belong to no country.
NON_GEOGRAPHIC = ["+870 301 234 567", "+881 612 345 678", "+882 342 1234", "+800 1234 5678"]
DIALABLE = ["+48 512 345 678", "+48 22 123 45 67", "+1 212 555 0199", "+44 7400 123456"]


@pytest.mark.parametrize("raw", PREMIUM_RATE)
def test_premium_rate_numbers_are_refused_by_name(raw: str) -> None:
    with pytest.raises(ValidationError, match="premium-rate") as refused:
        parse_phone(raw, region="PL")
    assert refused.value.code == "not_dialable"


@pytest.mark.parametrize("raw", SHARED_COST)
def test_shared_cost_numbers_are_refused_by_name(raw: str) -> None:
    with pytest.raises(ValidationError, match="shared-cost"):
        parse_phone(raw, region="PL")


@pytest.mark.parametrize("raw", NON_GEOGRAPHIC)
def test_satellite_and_other_non_geographic_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="belongs to no country") as refused:
        parse_phone(raw, region="PL")
    assert refused.value.code == "non_geographic"


@pytest.mark.parametrize("raw", DIALABLE)
def test_landlines_and_mobiles_of_a_country_are_accepted(raw: str) -> None:
    assert parse_phone(raw, region="PL").is_valid()
    assert is_dialable_text(parse_phone(raw, region="PL").as_e164)


def test_the_refusal_is_in_polish_for_a_polish_seller() -> None:
    with translation.override("pl"), pytest.raises(ValidationError) as refused:
        parse_phone("+48 701 234 567", region="PL")
    assert "podwyższonej opłacie" in refused.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [PREMIUM_RATE[2], NON_GEOGRAPHIC[0]])
def test_the_emergency_contact_form_refuses_and_saves_nothing(client, raw: str) -> None:
    store_account = make_store_account(seller=make_seller(), marketplace="PL")
    client.force_login(make_seller_user(seller=store_account.seller))
    response = client.post(
        reverse("health:emergency_contact", args=[store_account.pk]),
        {"region": "PL", "phone": raw},
    )
    assert response.status_code == 200
    assert "Give a landline or mobile number" in response.content.decode()
    assert not EmergencyContact.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [PREMIUM_RATE[0], NON_GEOGRAPHIC[1]])
def test_call_me_now_refuses_and_creates_nothing(client, raw: str) -> None:
    store_account = make_store_account(seller=make_seller(), marketplace="PL")
    client.force_login(make_seller_user(seller=store_account.seller))
    response = client.post(
        reverse("health:request_callback", args=[store_account.pk]),
        {"phone": raw},
        headers={"HX-Request": "true"},
    )
    assert "Give a landline or mobile number" in response.content.decode()
    assert not CallbackRequest.objects.exists()


@pytest.mark.django_db
def test_a_contact_saved_elsewhere_is_checked_by_the_model_too() -> None:
    # The admin's forms run the field's validators: a staff edit cannot store what a seller cannot.
    contact = EmergencyContact(seller=make_seller(), phone="+44 909 876 5432")
    with pytest.raises(ValidationError, match="premium-rate"):
        contact.full_clean()


@pytest.mark.django_db
def test_the_migration_stops_dialling_premium_numbers_saved_before() -> None:
    good, premium = make_seller(), make_seller()
    EmergencyContact.objects.bulk_create(
        [
            EmergencyContact(seller=good, phone="+48512345678", is_dialable=True),
            EmergencyContact(seller=premium, phone="+48701234567", is_dialable=True),
        ]
    )
    migration = importlib.import_module("accounts.migrations.0004_i14_dialable_numbers")

    migration.judge_numbers_again(apps, None)

    judged = dict(EmergencyContact.objects.values_list("seller_id", "is_dialable"))
    assert judged == {good.pk: True, premium.pk: False}
    assert not EmergencyContact.objects.get(seller=premium).is_valid


@pytest.mark.django_db
def test_set_emergency_contact_is_the_same_validation() -> None:
    seller = make_seller()
    make_store_account(seller=seller, marketplace="PL")
    with pytest.raises(ValidationError, match="premium-rate"):
        services.set_emergency_contact(seller=seller, phone="+48 701 234 567", by=None)
