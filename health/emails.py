"""Rendering of outbox emails: plain text, in the email's language, with local times.

Templates live in templates/emails/<language>/<kind>.txt. The first line of each is
"Subject: ...", the rest is the body. They render without HTML escaping (plain text).

An email's `context` is JSON. Keys ending in `_at` hold ISO 8601 instants and are shown in the
marketplace's local time with the zone named ("Thursday 26 November 2026, 14:00 (Europe/Warsaw)");
keys ending in `_on` or `_day`, or named `day`, hold ISO dates and are shown as dates. Every
template also gets `seller_name`, `marketplace_name`, `marketplace_in_sentence` ("in the United
States"), `time_zone`, the rules' numbers (RULE_NUMBERS), for removals `reason_deactivates`, and
`link`: the absolute address (SITE_URL) of the dashboard page the email is about.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine
from django.urls import reverse
from django.utils import dateformat, translation

from accounts.models import Marketplace
from health import rating
from health.eligibility import (
    ENGAGEMENT_WINDOW,
    MAX_CONSECUTIVE_DAYS_BELOW,
    MAX_DAYS_BELOW,
    REQUIRED_DAYS_ON_RECORD,
    STANDARD_WARNING_PERIOD,
    RemovalReason,
)
from health.models import OutboxEmail

SUPPORTED_LANGUAGES = ("en", "pl")
SUBJECT_PREFIX = "Subject:"
# "E" is the month name as used in dates (Polish genitive: "26 listopada").
LOCAL_TIME_FORMAT = "l j E Y, H:i"
LOCAL_DATE_FORMAT = "j E Y"

# The rules' numbers, for the templates: no template writes a domain number itself.
RULE_NUMBERS = {
    "aha_line": rating.AHA_LINE,
    "at_risk_from": rating.AT_RISK_FROM,
    "window_days": REQUIRED_DAYS_ON_RECORD,
    "max_days_below": MAX_DAYS_BELOW,
    "max_consecutive_days_below": MAX_CONSECUTIVE_DAYS_BELOW,
    "engagement_hours": ENGAGEMENT_WINDOW // dt.timedelta(hours=1),
    "warning_days": STANDARD_WARNING_PERIOD.days,
}

_engine = Engine(dirs=[settings.BASE_DIR / "templates"], autoescape=False)


def render_email(email: OutboxEmail) -> tuple[str, str]:
    """The subject and body of an outbox email, in its language, with local times."""
    language = email.language if email.language in SUPPORTED_LANGUAGES else "en"
    marketplace = _marketplace(email)
    zone = marketplace.zone if marketplace else dt.UTC
    with translation.override(language):
        context = {
            **RULE_NUMBERS,
            **_localised(email.context, zone),
            "reason_deactivates": _reason_deactivates(email.context.get("reason")),
            "seller_name": email.seller.name if email.seller_id else "",
            "marketplace_name": marketplace.display_name if marketplace else "",
            "marketplace_in_sentence": marketplace.name_in_sentence if marketplace else "",
            "marketplace_code": marketplace.code if marketplace else "",
            "time_zone": str(zone),
            "link": email_link(email),
        }
        text = _engine.get_template(f"emails/{language}/{email.kind}.txt").render(
            Context(context, autoescape=False)
        )
    return _split_subject(text, email.key)


def email_link(email: OutboxEmail) -> str:
    """The absolute address of the page an email is about: its own link when it carries one (a
    set-password link), else the dashboard page (SITE_URL + its path)."""
    context = email.context
    if context.get("link"):
        return context["link"]
    account_id = email.store_account_id
    if account_id is None:
        path = reverse("accounts:home")
    elif context.get("enforcement_id"):
        path = reverse("health:appeal", args=[account_id, context["enforcement_id"]])
    elif context.get("violation_id"):
        path = reverse("health:violation", args=[account_id, context["violation_id"]])
    elif context.get("case_id"):
        path = reverse("health:dashboard", args=[account_id]) + f"#case-{context['case_id']}"
    else:
        path = reverse("health:dashboard", args=[account_id])
    return settings.SITE_URL + path


def _marketplace(email: OutboxEmail) -> Marketplace | None:
    if email.store_account_id:
        return email.store_account.marketplace
    code = email.context.get("marketplace")
    return Marketplace.objects.filter(code=code).first() if code else None


def _localised(context: dict[str, Any], zone: ZoneInfo | dt.tzinfo) -> dict[str, Any]:
    shown = dict(context)
    for name, value in context.items():
        if not isinstance(value, str) or not value:
            continue
        if name.endswith("_at"):
            shown[name] = format_local_time(dt.datetime.fromisoformat(value), zone)
        elif name == "day" or name.endswith(("_on", "_day")):
            shown[name] = _in_sentence(
                dateformat.format(dt.date.fromisoformat(value), LOCAL_DATE_FORMAT)
            )
    return shown


def _reason_deactivates(reason: str | None) -> bool:
    return reason in RemovalReason.__members__ and RemovalReason(reason).deactivates


def format_local_time(at: dt.datetime, zone: ZoneInfo | dt.tzinfo) -> str:
    """An instant as the marketplace's local time with the zone named, in the active language."""
    shown = dateformat.format(at.astimezone(zone), LOCAL_TIME_FORMAT)
    return f"{_in_sentence(shown)} ({zone})"


def _in_sentence(text: str) -> str:
    # Polish writes weekday names in lower case; Django's Polish names are capitalised.
    return text[:1].lower() + text[1:] if translation.get_language() == "pl" else text


def _split_subject(text: str, key: str) -> tuple[str, str]:
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith(SUBJECT_PREFIX):
        raise ValueError(f"the template of {key} does not start with {SUBJECT_PREFIX!r}")
    subject = " ".join(first.removeprefix(SUBJECT_PREFIX).split())
    return subject, body.strip() + "\n"
