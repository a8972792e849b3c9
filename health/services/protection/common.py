"""Helpers shared by the modules of protection: input checks, emails, audit, lookups."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import StoreAccount, User
from aha_site.text import has_visible_text
from health.models import (
    AHACase,
    Enforcement,
    HealthState,
    PlanOfAction,
    Violation,
    ViolationScope,
)
from health.services.audit import record_action
from health.services.outbox import EmailDraft, queue_email

PLAN_FIELDS = ("root_cause", "actions_taken", "prevention")

# The earliest detection or contact time accepted: older is a typing slip (0001-01-01), and
# times near year 1 cannot even be moved into every marketplace's zone.
EARLIEST_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


PLAN_LABELS = {
    "root_cause": "the root cause",
    "actions_taken": "the actions taken",
    "prevention": "how you will prevent it",
}


DESCRIPTION_MAX_LENGTH = Violation._meta.get_field("description").max_length


NOTE_MAX_LENGTH = AHACase._meta.get_field("close_note").max_length


PLAN_MAX_LENGTH = PlanOfAction._meta.get_field("root_cause").max_length


def set_plan(
    target: AHACase | Enforcement, root_cause: str, actions_taken: str, prevention: str
) -> None:
    texts = dict(zip(PLAN_FIELDS, (root_cause, actions_taken, prevention), strict=True))
    for name, text in texts.items():
        setattr(target, name, clean_text(text, PLAN_LABELS[name], PLAN_MAX_LENGTH, required=True))
    target.plan_submitted_at = timezone.now()


def clean_text(value: str, label: str, max_length: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not has_visible_text(text):
        raise ValidationError(f"Please write {label}.", code="required")
    if len(text) > max_length:
        raise ValidationError(
            f"Keep {label} under {max_length} characters (it has {len(text)}).",
            code="too_long",
        )
    return text


def check_choice(value: str, allowed: list[str], what: str) -> None:
    if value not in allowed:
        raise ValidationError(f"Unknown {what}: {value!r}.", code="invalid_choice")


def queue_draft(draft: EmailDraft) -> None:
    queue_email(
        kind=draft.kind,
        key=draft.key,
        seller=draft.seller,
        store_account=draft.store_account,
        context=draft.context,
    )


def load_account(pk: int) -> StoreAccount:
    return StoreAccount.objects.select_related("marketplace", "seller").get(pk=pk)


def audit(by: User, action: str, account: StoreAccount, target: str, reason: str) -> None:
    record_action(actor=by, action=action, store_account=account, target=target, reason=reason)


def enrolled_ids(store_account_ids: list[int]) -> set[int]:
    return set(
        HealthState.objects.enrolled()
        .filter(store_account_id__in=store_account_ids)
        .values_list("store_account_id", flat=True)
    )


def affected_accounts(violation: Violation) -> list[StoreAccount]:
    if violation.scope == ViolationScope.ACCOUNT_WIDE:
        accounts = StoreAccount.objects.filter(seller_id=violation.store_account.seller_id)
    else:
        accounts = StoreAccount.objects.filter(pk=violation.store_account_id)
    return list(accounts.select_related("marketplace", "seller").order_by("pk"))
