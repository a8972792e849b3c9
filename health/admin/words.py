"""The back office says what happened in words: an audit entry's action ("Removed from AHA:
barred by a specialist (R6)", not `remove_r6`) and a night's counts ("1,200 store accounts
closed, 3 enrolled in AHA"), in the staff member's language."""

from __future__ import annotations

from django.apps import apps
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

API_PREFIX = "api:"

# Every action the services and the back office record (health.services.audit.record_action).
ACTION_WORDS: dict[str, Promise] = {
    # AHA cases
    "assign_case": gettext_lazy("Assigned the AHA case"),
    "record_contact_attempt": gettext_lazy("Recorded a contact attempt"),
    "mark_engaged": gettext_lazy("Marked the AHA case engaged"),
    "add_case_note": gettext_lazy("Added an internal note"),
    "close_case": gettext_lazy("Closed the AHA case"),
    "close_resolved": gettext_lazy("Closed the AHA case as resolved"),
    "close_unresolved": gettext_lazy("Closed the AHA case as unresolved (R5)"),
    # Violations, removals, bars and enforcement
    "record_violation": gettext_lazy("Recorded a violation"),
    "resolve_violation": gettext_lazy("Resolved a violation"),
    "remove_r6": gettext_lazy("Removed from AHA: barred by a specialist (R6)"),
    "remove_r7": gettext_lazy(
        "Removed from AHA and deactivated: barred by a specialist for suspected fraud or harm (R7)"
    ),
    "lift_bar": gettext_lazy("Lifted the AHA bar"),
    "reinstate": gettext_lazy("Reinstated the store account (appeal accepted)"),
    "enforcement_reinstated": gettext_lazy("Reinstated the store account (appeal accepted)"),
    "enforcement_rejected": gettext_lazy("Rejected the appeal"),
    "reject_appeal": gettext_lazy("Rejected the appeal"),
    # Callback requests and emails
    "claim_callback": gettext_lazy("Claimed a callback request"),
    "callback_completed": gettext_lazy("Called the seller back (completed)"),
    "callback_no_answer": gettext_lazy("Called the seller back: no answer"),
    "retry_email": gettext_lazy("Retried sending an email"),
    # Edits in the admin's own forms (accounts/admin_audit.py)
    "admin_add": gettext_lazy("Added in the admin"),
    "admin_change": gettext_lazy("Changed in the admin"),
    "admin_delete": gettext_lazy("Deleted in the admin"),
    # Writes of the upstream API (api/services/audit.py)
    "create_seller": gettext_lazy("Created the seller"),
    "update_seller": gettext_lazy("Updated the seller"),
    "create_store_account": gettext_lazy("Created the store account"),
    "update_store_account": gettext_lazy("Updated the store account"),
    "set_emergency_contact": gettext_lazy("Set the emergency contact"),
    "remove_emergency_contact": gettext_lazy("Removed the emergency contact"),
    "invite_user": gettext_lazy("Invited a team member"),
    "update_user": gettext_lazy("Updated a team member"),
    "daily_orders": gettext_lazy("Sent daily orders"),
}


def action_words(action: str) -> str:
    """An audit entry's action in words; an unknown code still reads as words, not a code."""
    if action.startswith(API_PREFIX):
        return _("Through the API: %(action)s") % {
            "action": action_words(action.removeprefix(API_PREFIX))
        }
    known = ACTION_WORDS.get(action)
    if known is not None:
        return str(known)
    return action.replace("_", " ").capitalize()


# What an audit entry is about ("case:12"), as health.admin.base.TARGET_NAMES and the services
# write it.
TARGET_WORDS: dict[str, Promise] = {
    "case": gettext_lazy("AHA case #%(id)s"),
    "callback": gettext_lazy("Callback request #%(id)s"),
    "email": gettext_lazy("Email #%(id)s"),
    "store_account": gettext_lazy("Store account #%(id)s"),
    "violation": gettext_lazy("Violation #%(id)s"),
    "enforcement": gettext_lazy("Enforcement #%(id)s"),
    "seller": gettext_lazy("Seller #%(id)s"),
    "user": gettext_lazy("User #%(id)s"),
}


def target_words(target: str) -> str:
    """'case:12' as 'AHA case #12'; an admin edit's 'accounts.seller:3' by the model's name."""
    kind, _sep, pk = target.rpartition(":")
    if not kind:
        return target
    if kind in TARGET_WORDS:
        return TARGET_WORDS[kind] % {"id": pk}
    app_label, _dot, model_name = kind.partition(".")
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return target
    return f"{capfirst(model._meta.verbose_name)} #{pk}"


def _count(name: str, n: int) -> str:
    shown = number_format(n, force_grouping=True)
    words = {
        "closed": ngettext("%(n)s store account closed", "%(n)s store accounts closed", n),
        "enrolled": ngettext("%(n)s enrolled in AHA", "%(n)s enrolled in AHA", n),
        "removed": ngettext("%(n)s removed from AHA", "%(n)s removed from AHA", n),
        "waiting": ngettext(
            "%(n)s eligible, waiting for an emergency contact",
            "%(n)s eligible, waiting for an emergency contact",
            n,
        ),
        "low_ahr": ngettext(
            "%(n)s with the AHR closed below 100", "%(n)s with the AHR closed below 100", n
        ),
        "emails": ngettext("%(n)s email written", "%(n)s emails written", n),
    }
    text = words.get(name, f"{name.replace('_', ' ')}: %(n)s")
    return text % {"n": shown}


def night_counts(counts: dict[str, object]) -> str:
    """A night's counts as a sentence: what was closed, then only what happened (no zeros)."""
    numbers = {name: n for name, n in counts.items() if isinstance(n, int)}
    if not numbers:
        return _("Nothing counted yet.")
    parts = [_count("closed", numbers.pop("closed", 0))]
    parts += [_count(name, n) for name, n in numbers.items() if n]
    return ", ".join(parts) + "."
