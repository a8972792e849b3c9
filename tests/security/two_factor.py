"""Signing staff in with a verified second factor, as the back office requires."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User
from tests.client import Client


def confirmed_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator device, created on first use."""
    return two_factor.confirmed_device(user) or TOTPDevice.objects.create(
        user=user, name=two_factor.DEVICE_NAME, confirmed=True
    )


def verified_login(client: Client, user: User) -> Client:
    """Sign `user` in on `client` as if they had entered their password and a valid code."""
    device = confirmed_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
