"""Forms of the seller dashboard. They check shape and length; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Marketplace
from aha_site.text import MinVisibleLengthValidator
from health.models import AHACase, CallbackRequest

PLAN_MAX_LENGTH = AHACase._meta.get_field("root_cause").max_length
# Decision: a plan of action needs a few words in each part; one-word answers help nobody.
PLAN_MIN_LENGTH = 20
PHONE_MAX_LENGTH = 32


def _text_area(help_text: str) -> forms.CharField:
    return forms.CharField(
        # Counted in characters that show: zero-width ones and spaces fill no minimum.
        validators=[MinVisibleLengthValidator(PLAN_MIN_LENGTH)],
        max_length=PLAN_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": PLAN_MAX_LENGTH}),
    )


class PlanOfActionForm(forms.Form):
    """Root cause, actions taken, prevention: for an AHA case or an appeal."""

    root_cause = _text_area(_("What caused the problem?"))
    actions_taken = _text_area(_("What have you already done to fix it?"))
    prevention = _text_area(_("What will stop it from happening again?"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["root_cause"].label = _("Root cause")
        self.fields["actions_taken"].label = _("Actions taken")
        self.fields["prevention"].label = _("Prevention")


class CallbackForm(forms.Form):
    """Call me now: an optional number (the emergency contact otherwise), topic and case."""

    phone = forms.CharField(
        label=_("Number to call"),
        required=False,
        max_length=PHONE_MAX_LENGTH,
        help_text=_("Leave empty to use your emergency contact number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    topic = forms.CharField(
        label=_("What is it about? (optional)"),
        required=False,
        max_length=CallbackRequest._meta.get_field("topic").max_length,
    )
    case = forms.ModelChoiceField(
        label=_("About an AHA case (optional)"),
        queryset=AHACase.objects.none(),
        required=False,
        empty_label=_("No case"),
    )

    def __init__(self, *args, cases: list[AHACase] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        case_ids = [case.pk for case in cases or []]
        # Only the seller's open cases are choices: another seller's case id is "not a choice".
        self.fields["case"].queryset = AHACase.objects.filter(pk__in=case_ids)
        self.fields["case"].choices = [("", _("No case"))] + [
            (case.pk, _("AHA case #%(id)s") % {"id": case.pk}) for case in cases or []
        ]


class EmergencyContactForm(forms.Form):
    """The emergency contact phone number, with the country numbers without +code are read in."""

    region = forms.ChoiceField(label=_("Country"))
    phone = forms.CharField(
        label=_("Emergency contact phone number"),
        max_length=PHONE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("A number a specialist can call at any time, e.g. +48 512 345 678."),
    )

    def __init__(self, *args, marketplaces: list[Marketplace], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [
            (marketplace.phone_region, marketplace.display_name) for marketplace in marketplaces
        ]


# A what-if's daily order rate: a bound on typing, far above any store's real rate.
MAX_WHAT_IF_DAILY_ORDERS = 100_000
# The query parameters of a what-if; any of them on the dashboard's URL asks one.
WHAT_IF_PARAMETERS = ("whatif", "resolve", "orders")


class WhatIfForm(forms.Form):
    """What if: resolve some open violations today, and/or orders at another daily rate.
    Nothing is saved; the dashboard answers with the new AHR, forecast and qualifying day."""

    resolve = forms.TypedMultipleChoiceField(label=_("Resolve today"), coerce=int, required=False)
    orders = forms.DecimalField(
        label=_("Orders a day"),
        required=False,
        min_value=0,
        max_value=MAX_WHAT_IF_DAILY_ORDERS,
        max_digits=8,
        decimal_places=1,
    )

    def __init__(self, *args, open_ids: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the store account's own open violations are choices: any other id is refused.
        self.fields["resolve"].choices = [(pk, pk) for pk in open_ids]

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and not data.get("resolve") and data.get("orders") is None:
            raise forms.ValidationError(
                _("Choose a violation to resolve or type a number of orders a day.")
            )
        return data
