"""Specialist actions: every admin write goes through a service and is recorded in the audit trail.

One SpecialistAction is offered both as a changelist action (with an intermediate form when it
needs a reason, note or outcome) and as a button on the object's page. Several selected objects
are acted on all or nothing (decision): one refusal rolls the whole action back."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import Action, ActionLocation
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.models import StoreAccount, User
from health.models import UsedActionToken
from health.services.audit import record_action

ACTION_TEMPLATE = "admin/health/specialist_action.html"
TOKEN_FIELD = "action_token"  # noqa: S105 (a form field name, not a secret)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def new_action_token() -> str:
    return secrets.token_urlsafe(24)


def claim_token(request: HttpRequest, spec_name: str) -> bool | None:
    """Take the form's one-time token in the current transaction: True when taken now, False
    when it was taken before (a repeated submission), None when the form carries none."""
    token = request.POST.get(TOKEN_FIELD, "")
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    try:
        with transaction.atomic():
            UsedActionToken.objects.create(token=token, user=request.user, action=spec_name)
    except IntegrityError:
        return False
    return True


class ActionRefused(Exception):
    """The action does not apply to this object; the message says why, for the specialist."""


@dataclass(frozen=True)
class Outcome:
    """What the audit trail records about one object an action was applied to."""

    store_account: StoreAccount | None
    target: str
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """What an action will do, said on its form before anything changes."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class Done:
    """The service recorded the audit entry itself; `message` says what happened, in words."""

    message: str


# Returns None (or Done) when the service records the audit entry itself.
Perform = Callable[[Any, dict[str, Any], User], Outcome | Done | None]


@dataclass(frozen=True)
class SpecialistAction:
    name: str
    label: str
    perform: Perform
    form_class: type[forms.Form] | None = None
    # Offered only on the object's page (e.g. an action on one store account).
    object_only: bool = False
    applies: Callable[[Any], bool] = lambda obj: True
    # What the action will do to this object, shown on its form before anything changes.
    preview: Callable[[Any], Preview] | None = None


def refusal_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


class SpecialistActionsMixin:
    """Adds `specialist_actions` to a ModelAdmin as changelist actions and object-page buttons."""

    specialist_actions: tuple[SpecialistAction, ...] = ()
    # Service errors that mean "this does not apply" rather than a programming error.
    refusals: tuple[type[Exception], ...] = (ActionRefused, ValidationError)

    def has_act_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta  # type: ignore[attr-defined]
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    # --- running an action -----------------------------------------------------------------

    def run_action(
        self, request: HttpRequest, spec: SpecialistAction, objects: list[Any], data: dict
    ) -> bool | None:
        """Apply the action to every object and audit each, in one transaction; report.

        True: done (or done before, by the same form); False: refused; None: no valid token."""
        current = None
        said: list[str] = []
        try:
            with transaction.atomic():
                taken = claim_token(request, spec.name)
                if taken is None:
                    messages.error(
                        request,
                        _(
                            "This form is not the one the page sent (or it expired). Nothing "
                            "was changed: check it and submit it again."
                        ),
                    )
                    return None
                if not taken:
                    messages.warning(
                        request,
                        _(
                            "%(action)s was already submitted with this form (a repeated or "
                            "double-clicked submission): nothing was changed the second time."
                        )
                        % {"action": spec.label},
                    )
                    return True
                for current in objects:
                    if not spec.applies(current):
                        raise ActionRefused(_("this action does not apply to it any more."))
                    outcome = spec.perform(current, data, request.user)
                    if isinstance(outcome, Done):
                        said.append(outcome.message)
                        continue
                    if outcome is None:
                        continue
                    record_action(
                        actor=request.user,
                        action=spec.name,
                        store_account=outcome.store_account,
                        target=outcome.target,
                        reason=outcome.reason,
                        details=outcome.details,
                    )
        except self.refusals as exc:
            messages.error(
                request,
                _("%(action)s refused for %(object)s: %(why)s Nothing was changed.")
                % {"action": spec.label, "object": current, "why": refusal_message(exc)},
            )
            return False
        messages.success(
            request,
            _("%(action)s: done for %(count)d.") % {"action": spec.label, "count": len(objects)},
        )
        for message in said:
            messages.info(request, message)
        return True

    def render_action_form(
        self,
        request: HttpRequest,
        spec: SpecialistAction,
        objects: list[Any],
        form: forms.Form | None,
        *,
        from_changelist: bool,
    ) -> TemplateResponse:
        opts = self.model._meta  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": spec.label,
            "opts": opts,
            "spec": spec,
            "objects": objects,
            "form": form,
            "preview": spec.preview(objects[0]) if spec.preview and len(objects) == 1 else None,
            "action_token": new_action_token(),
            "from_changelist": from_changelist,
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    # --- as changelist actions ---------------------------------------------------------------

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict[str, Action]:
        actions = super().get_actions(request, action_location=action_location)  # type: ignore[misc]
        # The object page has its own buttons (action_links); these are for the changelist.
        if action_location != ActionLocation.CHANGE_LIST or not self.has_act_permission(request):
            return actions
        for spec in self.specialist_actions:
            if not spec.object_only:
                actions[spec.name] = Action(
                    func=self.changelist_action(spec),
                    name=spec.name,
                    description=spec.label,
                    plural_description=spec.label,
                    locations=[ActionLocation.CHANGE_LIST],
                )
        return actions

    def changelist_action(self, spec: SpecialistAction) -> Callable:
        def action(
            modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: models.QuerySet
        ) -> HttpResponse | None:
            # The queryset is already limited to the user's stores; selected ids it lost are
            # out of scope, and the action is refused rather than applied to the rest.
            selected = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
            objects = list(queryset)
            if request.POST.get("select_across") != "1" and len(objects) != len(selected):
                messages.error(request, _("Some selected items are outside your stores."))
                return None
            # Every action shows what it applies to and carries a one-time token, even one
            # without fields: "Go" opens the form, its button applies the action once.
            bound = "apply" in request.POST
            form = None
            if spec.form_class is not None:
                form = spec.form_class(request.POST if bound else None)
            if not bound:
                return self.render_action_form(request, spec, objects, form, from_changelist=True)
            if form is not None and not form.is_valid():
                messages.error(request, _("Correct the errors below. Nothing was changed."))
                return self.render_action_form(request, spec, objects, form, from_changelist=True)
            done = self.run_action(request, spec, objects, form.cleaned_data if form else {})
            if done is None:
                return self.render_action_form(request, spec, objects, form, from_changelist=True)
            return None

        action.__name__ = spec.name
        return action

    # --- as buttons on the object's page -----------------------------------------------------

    def get_urls(self) -> list:
        opts = self.model._meta  # type: ignore[attr-defined]
        own = [
            path(
                "<path:object_id>/act/<str:name>/",
                self.admin_site.admin_view(self.object_action_view),  # type: ignore[attr-defined]
                name=f"{opts.app_label}_{opts.model_name}_act",
            )
        ]
        return own + super().get_urls()  # type: ignore[misc]

    def object_action_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if not self.has_act_permission(request):
            raise PermissionDenied
        spec = next((s for s in self.specialist_actions if s.name == name), None)
        if spec is None:
            raise Http404
        # get_object answers None for an id that is not a valid key (not a number, out of range).
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            raise Http404
        form = spec.form_class(request.POST or None) if spec.form_class else None
        if request.method == "POST":
            if form is not None and not form.is_valid():
                messages.error(request, _("Correct the errors below. Nothing was changed."))
            elif self.run_action(request, spec, [obj], form.cleaned_data if form else {}):
                return HttpResponseRedirect(self.object_url(obj))
        return self.render_action_form(request, spec, [obj], form, from_changelist=False)

    def object_url(self, obj: Any) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def action_links(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        """(label, url) of the actions that apply to this object, for its page."""
        if not self.has_act_permission(request):
            return []
        opts = self.model._meta  # type: ignore[attr-defined]
        return [
            (
                spec.label,
                reverse(f"admin:{opts.app_label}_{opts.model_name}_act", args=[obj.pk, spec.name]),
            )
            for spec in self.specialist_actions
            if spec.applies(obj)
        ]
