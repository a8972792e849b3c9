"""Who works on an AHA case: a specialist takes it from the queue."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from health.models import AHACase
from health.services.audit import record_action


@transaction.atomic
def assign_case(*, case: AHACase, to: User, by: User) -> AHACase:
    """Assign an open AHA case to a specialist (taking it over from another is allowed)."""
    case = (
        AHACase.objects.select_for_update(of=("self",))
        .select_related("store_account")
        .get(pk=case.pk)
    )
    if not case.is_open:
        raise ValidationError(_("This AHA case is closed."), code="closed")
    previous = case.assigned_to_id
    case.assigned_to = to
    case.save(update_fields=["assigned_to"])
    record_action(
        actor=by,
        action="assign_case",
        store_account=case.store_account,
        target=f"case:{case.pk}",
        details={"to": to.pk, "previous": previous},
    )
    return case
