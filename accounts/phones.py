"""Which phone numbers a specialist may dial: the one validation of every number a seller, a
specialist or an upstream system gives (emergency contacts, "Call me now")."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import PhoneNumberType

# A subscriber's landline or mobile: nothing that costs the caller extra, reaches a shared or
# personal routing service, or rings a satellite handset.
DIALABLE_TYPES = frozenset(
    {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)

# libphonenumber's region for the numbers of no country (+800 freephone, +870/+881 satellite,
# +882/+883 international networks), some of which it types as mobile.
NON_GEOGRAPHIC_REGION = "001"

MAX_INPUT_LENGTH = 32


def parse_phone(raw: str, *, region: str) -> PhoneNumber:
    """A valid, dialable number, or ValidationError with a message a seller can act on."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if len(text) > MAX_INPUT_LENGTH:
        raise ValidationError(_("That is too long to be a phone number."), code="too_long")
    try:
        number = PhoneNumber.from_string(text, region=region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("That is not a phone number. Use digits, e.g. +48 512 345 678."), code="invalid"
        ) from None
    if not number.is_valid():
        raise ValidationError(
            _("That number cannot be dialled in %(region)s. Check the digits and country code.")
            % {"region": _country_name(region)},
            code="invalid",
        )
    check_dialable(number)
    return number


def _country_name(region: str) -> str:
    """The store's country name in the active language for a phone region (GB is the UK
    store), or the region itself for a country with no store."""
    from accounts.models import Marketplace  # the models validate numbers with this module

    marketplace = Marketplace.objects.filter(code="UK" if region == "GB" else region).first()
    return marketplace.display_name if marketplace is not None else region


def check_dialable(number: phonenumbers.PhoneNumber) -> None:
    """ValidationError naming the problem unless a valid number is a landline or mobile."""
    if phonenumbers.region_code_for_number(number) == NON_GEOGRAPHIC_REGION:
        raise ValidationError(
            _(
                "That number belongs to no country (a satellite or international service "
                "number). Give a landline or mobile number of a country."
            ),
            code="non_geographic",
        )
    kind = phonenumbers.number_type(number)
    if kind not in DIALABLE_TYPES:
        raise ValidationError(_refusal(kind), code="not_dialable")


def is_dialable(number: phonenumbers.PhoneNumber | None) -> bool:
    """Whether specialists may call this number: valid, of a country, a landline or mobile (E2)."""
    if not number or not phonenumbers.is_valid_number(number):
        return False
    try:
        check_dialable(number)
    except ValidationError:
        return False
    return True


def is_dialable_text(stored: str) -> bool:
    """is_dialable for a stored E.164 string; False for anything unparsable."""
    if not stored:
        return False
    try:
        return is_dialable(phonenumbers.parse(str(stored), None))
    except phonenumbers.NumberParseException:
        return False


def validate_dialable(value: phonenumbers.PhoneNumber) -> None:
    """A model field validator: the admin's forms refuse what the seller's forms refuse."""
    if value and phonenumbers.is_valid_number(value):
        check_dialable(value)


def _refusal(kind: int) -> str:
    advice = _("Give a landline or mobile number.")
    if kind == PhoneNumberType.PREMIUM_RATE:
        problem = _("That is a premium-rate number, charged extra to the caller.")
    elif kind == PhoneNumberType.SHARED_COST:
        problem = _("That is a shared-cost number, charged partly to the caller.")
    elif kind == PhoneNumberType.TOLL_FREE:
        problem = _("That is a freephone number of a service, not of a person.")
    elif kind == PhoneNumberType.VOIP:
        problem = _("That is an internet (VoIP) number.")
    elif kind in (PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN):
        problem = _("That is a forwarding number that rings somewhere else.")
    elif kind in (PhoneNumberType.PAGER, PhoneNumberType.VOICEMAIL):
        problem = _("That is a pager or voicemail number, not one a person answers.")
    else:
        problem = _("That number is not a landline or mobile number.")
    return f"{problem} {advice}"
