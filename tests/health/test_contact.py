import pytest
from django.urls import reverse

from accounts.models import EmergencyContact
from health.eligibility import REQUIRED_DAYS_ON_RECORD
from health.models import EligibilityStatus, HealthState
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.dashboard_data import add_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_account():
    return make_store_account(seller=make_seller(), marketplace="PL")


@pytest.fixture
def seller_client(client, store_account):
    client.force_login(make_seller_user(seller=store_account.seller))
    return client


def contact_url(store_account) -> str:
    return reverse("health:emergency_contact", args=[store_account.pk])


def test_country_defaults_to_the_store_accounts_marketplace(seller_client, store_account):
    make_store_account(seller=store_account.seller, marketplace="DE")
    html = seller_client.get(contact_url(store_account)).content.decode()
    assert '<option value="PL" selected>' in html
    assert '<option value="DE">' in html


def test_number_without_country_code_is_read_in_the_chosen_country(seller_client, store_account):
    response = seller_client.post(
        contact_url(store_account), {"region": "PL", "phone": "512 345 678"}, follow=True
    )
    assert "Your emergency contact phone number is saved." in response.content.decode()
    contact = EmergencyContact.objects.get(seller=store_account.seller)
    assert contact.phone.as_e164 == "+48512345678"


@pytest.mark.parametrize("raw", ["", "12", "<script>alert(1)</script>", "9" * 40])
def test_invalid_number_shows_an_error_and_saves_nothing(seller_client, store_account, raw):
    response = seller_client.post(contact_url(store_account), {"region": "PL", "phone": raw})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist"' in html
    assert "<script>alert(1)</script>" not in html
    assert not EmergencyContact.objects.exists()


def test_region_outside_the_sellers_marketplaces_is_refused(seller_client, store_account):
    response = seller_client.post(
        contact_url(store_account), {"region": "JP", "phone": "+81 3 1234 5678"}
    )
    assert response.status_code == 200
    assert not EmergencyContact.objects.exists()


def test_saving_enrolls_waiting_store_accounts_at_once_and_says_so(seller_client, store_account):
    add_history(store_account, days=REQUIRED_DAYS_ON_RECORD)
    HealthState.objects.filter(store_account=store_account).update(
        status=EligibilityStatus.WAITING_FOR_CONTACT
    )
    response = seller_client.post(
        contact_url(store_account), {"region": "PL", "phone": "+48 512 345 678"}, follow=True
    )
    html = response.content.decode()
    assert "is now enrolled in AHA" in html
    assert HealthState.objects.get(store_account=store_account).enrolled
    assert "Protected" in html
