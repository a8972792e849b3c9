"""Internal notes on an AHA case: for specialists only, never shown to the seller."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from health.models import AHACase, CaseNote
from health.services.audit import record_action
from health.services.protection.common import clean_text

NOTE_MAX_LENGTH = CaseNote._meta.get_field("text").max_length


@transaction.atomic
def add_case_note(*, case: AHACase, text: str, by: User) -> CaseNote:
    """Keep a specialist's internal note on the case (recorded in the audit trail too)."""
    note = CaseNote.objects.create(
        case=case, by=by, text=clean_text(text, "note", NOTE_MAX_LENGTH, required=True)
    )
    record_action(
        actor=by,
        action="add_case_note",
        store_account=case.store_account,
        target=f"case:{case.pk}",
        reason=note.text,
    )
    return note
