"""Forgot password and invitations: one-time set-password links through the outbox."""

from __future__ import annotations

import re

import pytest

from accounts.passwords import RESET_REQUESTS_PER_HOUR
from health.models import EmailKind, OutboxEmail
from tests.builders import make_seller_user, make_staff_user

pytestmark = pytest.mark.django_db


def ask(client, email: str):
    return client.post("/password/forgot/", {"email": email})


def test_known_and_unknown_addresses_get_the_same_answer(client):
    user = make_seller_user()
    user.email = "ania@example.com"
    user.save()
    known = ask(client, "ania@example.com")
    unknown = ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert client.get(known["Location"]).status_code == 200
    assert OutboxEmail.objects.filter(kind=EmailKind.SET_PASSWORD).count() == 1


def test_the_link_sets_a_password_once(client):
    user = make_seller_user()
    user.email = "ania@example.com"
    user.save()
    ask(client, "ania@example.com")
    link = OutboxEmail.objects.get(kind=EmailKind.SET_PASSWORD).context["link"]
    path = re.sub(r"^https?://[^/]+", "", link)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    new = "a-much-longer-password-2026"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    again = client.get(path, follow=True)
    assert again.context["validlink"] is False


def test_staff_get_no_link(client):
    staff = make_staff_user()
    staff.email = "staff@example.com"
    staff.save()
    ask(client, "staff@example.com")
    assert not OutboxEmail.objects.exists()


def test_requests_are_throttled_with_the_same_answer(client):
    user = make_seller_user()
    user.email = "ania@example.com"
    user.save()
    answers = [ask(client, "ania@example.com") for _ in range(RESET_REQUESTS_PER_HOUR + 2)]
    assert {a["Location"] for a in answers} == {"/password/forgot/sent/"}
    # One email per minute and key, and none at all once over the limit.
    assert OutboxEmail.objects.filter(kind=EmailKind.SET_PASSWORD).count() <= 1


def test_an_invalid_address_is_shown_on_the_form(client):
    response = client.post("/password/forgot/", {"email": "not an address"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_login_page_links_to_forgot_password(client):
    assert b"/password/forgot/" in client.get("/login/").content


def test_invite_and_reset_emails_render_in_both_languages(client):
    from health.emails import render_email

    user = make_seller_user()
    user.email = "ania@example.com"
    user.save()
    ask(client, "ania@example.com")
    email = OutboxEmail.objects.get()
    for language in ("en", "pl"):
        for kind in (EmailKind.SET_PASSWORD, EmailKind.INVITE):
            email.language, email.kind = language, kind
            subject, body = render_email(email)
            assert subject and email.context["link"] in body
