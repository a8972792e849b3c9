import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.models import Language
from tests.builders import make_seller, make_seller_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_language_after():
    """A Polish request leaves Polish active in this thread: the tests after expect English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def sign_out(client, language: str):
    user = make_seller_user(seller=make_seller())
    user.language = language
    user.save()
    client.force_login(user)
    return client.post(reverse("accounts:logout"), follow=True)


def test_signing_out_says_so_on_the_sign_in_page(client):
    response = sign_out(client, Language.ENGLISH)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    html = response.content.decode()
    assert "You are signed out." in html
    assert '<form method="post" novalidate>' in html
    # Once: the next page has no message left, and the user is signed out indeed.
    assert "You are signed out." not in client.get(reverse("accounts:login")).content.decode()
    assert client.get(reverse("accounts:home")).status_code == 302


def test_a_polish_user_is_told_in_polish_on_a_polish_sign_in_page(client):
    html = sign_out(client, Language.POLISH).content.decode()
    assert "Wylogowano." in html
    assert '<html lang="pl">' in html
