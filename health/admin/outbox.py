"""The email outbox and the nightly runs: what went out, what failed, what is stuck."""

from __future__ import annotations

import copy
import json
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.urls import NoReverseMatch
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Marketplace, User
from health.admin import scope
from health.admin.actions import SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.display import duration
from health.admin.filters import StoreMarketplaceFilter
from health.admin.words import night_counts
from health.emails import render_email
from health.models import DayCloseRun, EmailStatus, OutboxEmail
from health.services import outbox


def retry(email: OutboxEmail, data: dict[str, Any], by: User) -> None:
    # The outbox service records this in the audit trail itself.
    outbox.retry_failed_email(email_id=email.pk, by=by)


# A set-password link works once, for the person it was sent to: the back office never shows it.
HIDDEN_LINK = "[one-time link, not shown]"
SECRET_CONTEXT = ("link",)


def as_received(email: OutboxEmail) -> tuple[str, str] | None:
    """The subject and body as the seller received them (or will): the sender's own renderer
    (health.emails.render_email), in the email's language; None if it cannot be rendered."""
    shown = copy.copy(email)
    shown.context = shown_context(email)
    try:
        return render_email(shown)
    except (TemplateDoesNotExist, NoReverseMatch, ValueError, TypeError, KeyError):
        return None


def technical_details(email: OutboxEmail) -> str:
    """The raw row, for specialists who need it: its key and context (secrets hidden)."""
    return json.dumps(
        {"key": email.key, "context": shown_context(email)}, indent=2, ensure_ascii=False
    )


def shown_context(email: OutboxEmail) -> dict[str, Any]:
    """The email's context with its secrets hidden."""
    return {
        name: HIDDEN_LINK if name in SECRET_CONTEXT else value
        for name, value in email.context.items()
    }


@admin.register(OutboxEmail)
class OutboxEmailAdmin(SpecialistAdmin):
    list_display = ["subject_line", "to", "state", "created_at", "sent_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["key", "to", "subject", "seller__name"]
    list_select_related = ["seller", "store_account__marketplace"]
    date_hierarchy = "created_at"
    fields = [
        "to",
        "seller",
        "store_account",
        "kind",
        "language",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    change_form_template = "admin/health/outboxemail/change_form.html"
    specialist_actions = (
        SpecialistAction(
            "retry_email",
            _("Retry sending (never a duplicate)"),
            retry,
            applies=lambda email: email.status == EmailStatus.FAILED,
        ),
    )

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        codes = scope.limited_to(request)
        if codes is None:
            return queryset
        # Emails about no store account (e.g. a callback) belong to the seller's stores;
        # operators' emails about no seller are for unlimited staff only.
        seller_condition = scope.seller_in_scope(request)
        return queryset.filter(
            models.Q(store_account__marketplace_id__in=codes)
            | (models.Q(store_account__isnull=True) & seller_condition)
        )

    def marketplace_of(self, email: OutboxEmail) -> Marketplace | None:
        if email.store_account_id:
            return email.store_account.marketplace
        return None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ):
        email = self.get_object(request, object_id)
        context = {}
        if email is not None:
            rendered = as_received(email)
            context = {
                # The page names the email by its subject, not its key.
                "subtitle": rendered[0] if rendered else email.get_kind_display(),
                "received": rendered,
                "received_language": dict(settings.LANGUAGES).get(email.language, email.language),
                "technical_details": technical_details(email),
            }
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    @admin.display(description=_("Subject"), ordering="subject")
    def subject_line(self, email: OutboxEmail) -> str:
        if email.subject:
            return email.subject
        rendered = as_received(email)
        return rendered[0] if rendered else email.get_kind_display()

    @admin.display(description=_("Status"), ordering="status")
    def state(self, email: OutboxEmail) -> str:
        text = email.get_status_display()
        if email.attempts > 1 or email.status == EmailStatus.FAILED:
            text += " " + ngettext("(%(n)d try)", "(%(n)d tries)", email.attempts) % {
                "n": email.attempts
            }
        if email.last_error:
            return format_html('{}<br><span class="quiet">{}</span>', text, email.last_error[:120])
        return text


@admin.register(DayCloseRun)
class DayCloseRunAdmin(SpecialistAdmin):
    list_display = [
        "marketplace",
        "day",
        "status",
        "started_at",
        "took",
        "chunks",
        "counts_in_words",
        "error_summary",
    ]
    fields = [
        "marketplace",
        "day",
        "status",
        "started_at",
        "finished_at",
        "took",
        "chunks",
        "counts_in_words",
        "error",
    ]
    readonly_fields = fields
    list_filter = ["status", StoreMarketplaceFilter]
    list_select_related = ["marketplace"]
    date_hierarchy = "day"

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        codes = scope.limited_to(request)
        return queryset if codes is None else queryset.filter(marketplace_id__in=codes)

    @admin.display(description=_("Took"))
    def took(self, run: DayCloseRun) -> str:
        return duration(run.finished_at - run.started_at) if run.finished_at else "-"

    @admin.display(description=_("Chunks done"))
    def chunks(self, run: DayCloseRun) -> str:
        return f"{run.chunks_done} / {run.chunks_total}"

    @admin.display(description=_("What the night did"))
    def counts_in_words(self, run: DayCloseRun) -> str:
        return night_counts(run.counts)

    @admin.display(description=_("Error"))
    def error_summary(self, run: DayCloseRun) -> str:
        return run.error[:120]
