"""Staff reach the back office only with a second factor (TOTP); sellers are never asked."""

from __future__ import annotations

import datetime as dt
import logging
from base64 import b32decode
from io import StringIO
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.otp import StaffAdminSite
from health.models import AHACase
from tests.builders import PASSWORD, make_seller_user, make_staff_user
from tests.client import Client
from tests.security.two_factor import confirmed_device, verified_login

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
VERIFY = reverse("accounts:verify_two_factor")
ENROL = reverse("accounts:enrol_two_factor")


def specialist():
    user = make_staff_user()
    user.groups.add(Group.objects.get(name="specialists"))
    return user


def wrong_code(hex_key: str) -> str:
    """A well-formed code that is not the current one of this key."""
    current = int(two_factor.current_code(TOTPDevice(key=hex_key)))
    return f"{(current + 1) % 1_000_000:06d}"


def sign_in_with_password(client: Client, user) -> None:
    response = client.post(
        reverse("admin:login") + "?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_the_default_admin_site_requires_the_second_factor_and_keeps_every_model() -> None:
    assert isinstance(admin.site, StaffAdminSite)
    assert admin.site.is_registered(AHACase)


def test_staff_signed_in_with_only_a_password_are_sent_to_the_code_step(client) -> None:
    user = specialist()
    confirmed_device(user)
    sign_in_with_password(client, user)
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(VERIFY)
    assert b'name="code"' in response.content
    assert client.get(reverse("admin:health_ahacase_changelist")).status_code == 302


def test_the_right_code_opens_the_back_office(client) -> None:
    user = specialist()
    device = confirmed_device(user)
    sign_in_with_password(client, user)
    response = client.post(
        VERIFY, {"code": two_factor.current_code(device), "next": "/admin/health/ahacase/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/health/ahacase/"
    assert client.get(reverse("admin:health_ahacase_changelist")).status_code == 200


def test_a_wrong_code_is_refused_with_a_message_and_logged(client, caplog) -> None:
    user = specialist()
    device = confirmed_device(user)
    sign_in_with_password(client, user)
    with caplog.at_level(logging.WARNING, logger="accounts.two_factor"):
        response = client.post(VERIFY, {"code": wrong_code(device.key)})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert f"wrong code for user {user.username}" in caplog.text
    assert client.get(ADMIN).status_code == 302


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "<script>", "9" * 5000]
)
def test_a_malformed_code_gets_a_clear_message(client, code: str) -> None:
    user = specialist()
    confirmed_device(user)
    sign_in_with_password(client, user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    assert response.context["form"].errors["code"]
    assert client.get(ADMIN).status_code == 302


def test_wrong_codes_are_throttled_then_allowed_again(client) -> None:
    user = specialist()
    device = confirmed_device(user)
    sign_in_with_password(client, user)
    client.post(VERIFY, {"code": wrong_code(device.key)})
    response = client.post(VERIFY, {"code": two_factor.current_code(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(ADMIN).status_code == 302
    device.refresh_from_db()
    device.throttling_failure_timestamp -= dt.timedelta(minutes=1)
    device.save()
    assert client.post(VERIFY, {"code": two_factor.current_code(device)}).status_code == 302


def test_a_code_cannot_be_used_twice() -> None:
    user = specialist()
    device = confirmed_device(user)
    code = two_factor.current_code(device)
    first, second = Client(), Client()
    sign_in_with_password(first, user)
    sign_in_with_password(second, user)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert second.get(ADMIN).status_code == 302


def test_the_code_step_never_redirects_off_site(client) -> None:
    user = specialist()
    device = confirmed_device(user)
    sign_in_with_password(client, user)
    response = client.post(
        VERIFY, {"code": two_factor.current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("admin:index")


def test_staff_without_a_device_set_one_up_and_are_then_verified(client) -> None:
    user = specialist()
    sign_in_with_password(client, user)
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(ENROL)
    secret, uri = response.context["secret"], response.context["uri"]
    assert secret in response.content.decode()
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parse_qs(parsed.query)["secret"] == [secret]
    assert user.username in parsed.path
    device = TOTPDevice(key=b32decode(secret).hex())
    # Showing the page again keeps the same secret; nothing is saved before the code is right.
    assert client.get(ENROL).context["secret"] == secret
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.post(ENROL, {"code": wrong_code(device.key)}).status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()
    response = client.post(ENROL, {"code": two_factor.current_code(device), "next": "/admin/"})
    assert response["Location"] == "/admin/"
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(ADMIN).status_code == 200


def test_a_password_alone_cannot_add_a_second_device(client) -> None:
    user = specialist()
    confirmed_device(user)
    sign_in_with_password(client, user)
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.enrol_device(user=user, hex_key=two_factor.new_secret())
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_sellers_are_not_asked_for_a_second_factor(client) -> None:
    seller_user = make_seller_user()
    client.post(reverse("accounts:login"), {"username": seller_user.username, "password": PASSWORD})
    assert client.get(reverse("accounts:home")).status_code == 200
    assert client.get(VERIFY).status_code == 404
    assert client.get(ENROL).status_code == 404


def test_a_verified_seller_session_still_cannot_open_the_back_office(client) -> None:
    seller_user = make_seller_user()
    verified_login(client, seller_user)
    assert client.get(reverse("admin:health_ahacase_changelist")).status_code == 302


def test_totp_code_prints_the_current_code() -> None:
    user = specialist()
    device = two_factor.give_device(user=user, secret_base32="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    out = StringIO()
    call_command("totp_code", user.username, stdout=out)
    assert out.getvalue().strip() == two_factor.current_code(device)
    assert device.verify_token(out.getvalue().strip())


def test_totp_code_explains_a_missing_user_or_device() -> None:
    with pytest.raises(CommandError, match="No user named"):
        call_command("totp_code", "nobody")
    with pytest.raises(CommandError, match="no confirmed authenticator device"):
        call_command("totp_code", make_staff_user().username)


def test_give_device_is_safe_to_run_again() -> None:
    user = make_staff_user()
    first = two_factor.give_device(user=user, secret_base32="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    again = two_factor.give_device(user=user, secret_base32="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert first.pk == again.pk
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_demo_staff_get_a_device_whose_code_the_command_prints() -> None:
    from accounts.services import create_seller
    from health.demo import seed

    create_seller(name="Demo seller", email="seller000@demo.example", language="en")
    seed.seed_logins()
    seed.seed_logins()
    for username in ("specialist", "admin"):
        out = StringIO()
        call_command("totp_code", username, stdout=out)
        device = TOTPDevice.objects.get(user__username=username)
        assert device.verify_token(out.getvalue().strip())
