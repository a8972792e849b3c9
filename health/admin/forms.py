"""The small forms of the specialist actions: reasons, notes, contact attempts, violations."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from health.models import (
    AuditEntry,
    ContactChannel,
    ContactOutcome,
    Severity,
    TextSnippet,
    ViolationCategory,
    ViolationScope,
)
from health.services.protection.common import EARLIEST_TIME

TEXT_MAX_LENGTH = AuditEntry._meta.get_field("reason").max_length


def validate_plausible_time(value: dt.datetime) -> None:
    if value < EARLIEST_TIME:
        raise forms.ValidationError(_("Enter a time from the year 2000 on."), code="too_early")


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea
    )


class ReasonForm(forms.Form):
    """An action that must say why; the reason is kept in the audit trail."""

    reason = forms.CharField(
        label=_("Reason (required)"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea
    )


class SnippetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TextSnippet) -> str:
        return f"{obj.get_kind_display()}: {obj.title} ({obj.language})"


def snippet_field() -> SnippetChoiceField:
    return SnippetChoiceField(
        label=_("Text snippet"),
        queryset=TextSnippet.objects.all(),
        required=False,
        help_text=_("Its text goes at the start of the note; add your own words below it."),
    )


class InternalNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note (specialists only; the seller never sees it)"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
    )


class ContactAttemptForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    at = forms.DateTimeField(
        label=_("When (UTC)"),
        required=False,
        validators=[validate_plausible_time],
        help_text=_(
            "Leave empty for now. A phone call that reached the seller before the outreach "
            "email starts the engagement clock from the call."
        ),
    )
    snippet = snippet_field()
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea
    )


class ViolationForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=ViolationCategory.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    scope = forms.ChoiceField(
        label=_("Scope"), choices=ViolationScope.choices, initial=ViolationScope.STORE
    )
    deactivation_level = forms.BooleanField(
        label=_("Deactivation-level (every critical violation is)"), required=False
    )
    detected_at = forms.DateTimeField(
        label=_("Detected at (UTC)"),
        initial=timezone.now,
        help_text=_("YYYY-MM-DD HH:MM"),
        validators=[validate_plausible_time],
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea
    )

    def clean_detected_at(self):
        detected_at = self.cleaned_data["detected_at"]
        if detected_at > timezone.now():
            raise forms.ValidationError(_("A violation cannot be detected in the future."))
        return detected_at


def note_with_snippet(data: dict) -> dict:
    """The form's data with the chosen snippet's text put in front of the note."""
    data = dict(data)
    snippet = data.pop("snippet", None)
    if snippet is not None:
        data["note"] = "\n".join(part for part in (snippet.text, data.get("note", "")) if part)
    return data
