"""Translatable wording of the rule modules' criteria (the pure modules speak English only)."""

from __future__ import annotations

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from health.eligibility import (
    MAX_CONSECUTIVE_DAYS_BELOW,
    MAX_DAYS_BELOW,
    REQUIRED_DAYS_ON_RECORD,
    Criterion,
    RemovalReason,
)
from health.rating import AHA_LINE


def _formatted(text: str, **values: object) -> str:
    return gettext(text) % values


formatted_lazy = lazy(_formatted, str)

CRITERION_TEXT = {
    Criterion.E1: _("Professional selling plan"),
    Criterion.E2: _("A valid emergency contact phone number"),
    Criterion.E3: formatted_lazy(
        gettext_noop("An AHR on record for each of the last %(days)d days"),
        days=REQUIRED_DAYS_ON_RECORD,
    ),
    Criterion.E4: formatted_lazy(
        gettext_noop("AHR below %(line)d on no more than %(allowed)d of those days"),
        line=AHA_LINE,
        allowed=MAX_DAYS_BELOW,
    ),
    Criterion.E5: _("Not deactivated, and AHA available in the marketplace"),
    Criterion.E6: _("Not barred from AHA"),
}

REMOVAL_TEXT = {
    RemovalReason.R1: formatted_lazy(
        gettext_noop("AHR below %(line)d for more than %(days)d consecutive days"),
        line=AHA_LINE,
        days=MAX_CONSECUTIVE_DAYS_BELOW,
    ),
    RemovalReason.R2: _("Selling plan no longer Professional"),
    RemovalReason.R3: _("No valid emergency contact phone number any more"),
    RemovalReason.R4: _("Did not engage in time after being contacted about an AHA case"),
    RemovalReason.R5: _("Did not fully resolve an AHA case"),
    RemovalReason.R6: _("Not compliant with local laws or regulations"),
    RemovalReason.R7: _("Suspected fraudulent, deceptive, illegal or harmful activity"),
}
