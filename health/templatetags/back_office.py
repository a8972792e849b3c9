"""Template tags of the specialist back office."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from health.admin import scope
from health.admin.cases import appeals_waiting, breaching, plan_to_review
from health.admin.scope import limited_to
from health.admin.words import action_words, target_words
from health.models import AHACase, CallbackRequest, Enforcement
from health.services.pipeline import StaleMarketplace, stale_marketplaces

register = template.Library()


@register.filter(name="action_words")
def action_in_words(action: str) -> str:
    """An audit entry's action in words (health.admin.words)."""
    return action_words(action)


@register.filter(name="target_words")
def target_in_words(target: str) -> str:
    """What an audit entry is about, in words: 'AHA case #12' (health.admin.words)."""
    return target_words(target)


@register.simple_tag(takes_context=True)
def stale_day_closes(context: template.Context) -> list[StaleMarketplace]:
    """Marketplaces whose nightly day close has stalled, for staff who may see the runs."""
    request = context.get("request")
    if request is None or not request.user.has_perm("health.view_daycloserun"):
        return []
    codes = limited_to(request)
    stale = stale_marketplaces(now=timezone.now())
    return [item for item in stale if codes is None or item.marketplace.code in codes]


@dataclass(frozen=True)
class QueueCount:
    label: str
    count: int
    url: str


@register.simple_tag(takes_context=True)
def queue_counts(context: template.Context) -> list[QueueCount]:
    """How much work waits in each view of the queues, in the user's stores only."""
    request = context.get("request")
    if request is None or not request.user.has_perm("health.view_ahacase"):
        return []
    now = timezone.now()
    cases = scope.by_store_account(AHACase.objects.all(), request, "store_account")
    appeals = scope.by_store_account(Enforcement.objects.all(), request, "store_account")
    callbacks = scope.by_seller(CallbackRequest.objects.open(), request)
    cases_url = reverse("admin:health_ahacase_changelist")
    return [
        QueueCount(_("Open AHA cases"), cases.open().count(), cases_url),
        QueueCount(
            _("Mine"),
            cases.open().filter(assigned_to=request.user).count(),
            f"{cases_url}?view=mine",
        ),
        QueueCount(
            _("Breaching within 4 hours"),
            cases.filter(breaching(now)).count(),
            f"{cases_url}?view=breaching",
        ),
        QueueCount(
            _("Plan received, needs review"),
            cases.filter(plan_to_review()).count(),
            f"{cases_url}?view=plan",
        ),
        QueueCount(
            _("Appeals waiting"),
            appeals.filter(appeals_waiting()).count(),
            reverse("admin:health_enforcement_changelist") + "?view=appeals",
        ),
        QueueCount(
            _("Open callback requests"),
            callbacks.count(),
            reverse("admin:health_callbackrequest_changelist"),
        ),
    ]
