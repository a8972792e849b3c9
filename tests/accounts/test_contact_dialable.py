"""An emergency contact keeps whether its number is dialable, judged when it is saved."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts import services
from accounts.models import EmergencyContact
from tests.builders import make_seller, make_store_account

pytestmark = pytest.mark.django_db

VALID = "+48 512 345 678"
INVALID = "+48 000 000 000"


def test_saving_a_contact_stores_whether_its_number_is_dialable() -> None:
    seller = make_seller()
    make_store_account(seller=seller, marketplace="PL")

    contact = services.set_emergency_contact(seller=seller, phone=VALID, by=None)

    contact.refresh_from_db()
    assert contact.is_dialable is True


def test_changing_only_the_number_judges_it_again() -> None:
    seller = make_seller()
    make_store_account(seller=seller, marketplace="PL")
    contact = services.set_emergency_contact(seller=seller, phone=VALID, by=None)

    contact.phone = INVALID
    contact.save(update_fields=["phone"])

    contact.refresh_from_db()
    assert contact.is_dialable is False


def test_the_migration_judges_the_numbers_saved_before_the_column_existed() -> None:
    good, bad = make_seller(), make_seller()
    EmergencyContact.objects.bulk_create(
        [EmergencyContact(seller=good, phone=VALID), EmergencyContact(seller=bad, phone=INVALID)]
    )
    migration = importlib.import_module("accounts.migrations.0003_contact_is_dialable")

    migration.judge_existing_numbers(apps, None)

    judged = dict(EmergencyContact.objects.values_list("seller_id", "is_dialable"))
    assert judged == {good.pk: True, bad.pk: False}
