"""The staff second factor: TOTP devices (django-otp), the code a device shows now, enrolment and
the form that asks for the code. Sellers are never asked for one (decision, see README)."""

from __future__ import annotations

import logging
import re
import secrets
import time
from base64 import b32decode, b32encode
from collections.abc import Callable

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
# 160 bits, the key length RFC 4226 recommends for HMAC-SHA1.
SECRET_BYTES = 20
DEVICE_NAME = "Authenticator app"
WRONG_CODE = _("That code is not right or has expired. Enter the code your app shows now.")
MALFORMED_CODE = _("Enter the 6-digit code shown by your authenticator app.")
THROTTLED = _("Too many wrong codes. Wait a minute, then enter the code your app shows now.")


class TwoFactorError(Exception):
    """A second-factor step that cannot be done; the message is shown to the user."""


def confirmed_device(user: User) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if any (the oldest one when there are several)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def new_secret() -> str:
    """A fresh random key, hex-encoded as django-otp stores it."""
    return secrets.token_hex(SECRET_BYTES)


def base32_secret(hex_key: str) -> str:
    """The key as authenticator apps take it when typed in by hand."""
    return b32encode(bytes.fromhex(hex_key)).decode()


def provisioning_uri(*, user: User, hex_key: str) -> str:
    """The otpauth:// URI an authenticator app reads to add the account."""
    return TOTPDevice(user=user, key=hex_key, digits=CODE_DIGITS).config_url


def current_code(device: TOTPDevice) -> str:
    """The code the device shows right now, zero-padded."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def code_matches_key(*, hex_key: str, code: str) -> bool:
    """Whether `code` is the current code of a key that is not a device yet (enrolment)."""
    totp = TOTP(bytes.fromhex(hex_key), digits=CODE_DIGITS)
    totp.time = time.time()
    return totp.verify(int(code), tolerance=1)


@transaction.atomic
def check_device_code(*, device: TOTPDevice, code: str) -> str | None:
    """Verify a code on a device (throttled, never twice the same); the error message or None."""
    # The device row is locked for the check: sessions submitting at the same instant are checked
    # one after another against the last code accepted (django-otp's last_t) and the failures
    # counted so far, so a code is accepted at most once and no failure is lost.
    locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    username = device.user.get_username()
    allowed, _details = locked.verify_is_allowed()
    if not allowed:
        # A submission refused while throttled counts too: every wrong try lengthens the wait.
        locked.throttle_increment(commit=True)
        logger.warning("Second factor throttled for user %s", username)
        return str(THROTTLED)
    if not locked.verify_token(code):
        logger.warning("Second factor: wrong code for user %s", username)
        return str(WRONG_CODE)
    return None


@transaction.atomic
def enrol_device(*, user: User, hex_key: str) -> TOTPDevice:
    """Save the user's first confirmed device from a key whose code the user has just entered."""
    # Lock the user so two confirmations at once cannot both add a device.
    User.objects.select_for_update().get(pk=user.pk)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise TwoFactorError(_("You already have an authenticator app set up."))
    device = TOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, key=hex_key, digits=CODE_DIGITS, confirmed=True
    )
    logger.info("Second factor: device enrolled for user %s", user.get_username())
    return device


@transaction.atomic
def give_device(*, user: User, secret_base32: str, name: str = DEVICE_NAME) -> TOTPDevice:
    """Give the user a confirmed device with a known secret (demo data); safe to run again."""
    hex_key = b32decode(secret_base32).hex()
    device, _created = TOTPDevice.objects.update_or_create(
        user=user, name=name, defaults={"key": hex_key, "digits": CODE_DIGITS, "confirmed": True}
    )
    return device


class CodeForm(forms.Form):
    """Asks for the current code; `verify` checks it and returns an error message or None."""

    code = forms.CharField(
        label=_("6-digit code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def __init__(self, *args: object, verify: Callable[[str], str | None], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.verify = verify

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", code):
            raise forms.ValidationError(MALFORMED_CODE)
        if error := self.verify(code):
            raise forms.ValidationError(error)
        return code
