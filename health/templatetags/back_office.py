"""Template tags of the specialist back office."""

from __future__ import annotations

from django import template
from django.utils import timezone

from health.admin.scope import limited_to
from health.services.pipeline import StaleMarketplace, stale_marketplaces

register = template.Library()


@register.simple_tag(takes_context=True)
def stale_day_closes(context: template.Context) -> list[StaleMarketplace]:
    """Marketplaces whose nightly day close has stalled, for staff who may see the runs."""
    request = context.get("request")
    if request is None or not request.user.has_perm("health.view_daycloserun"):
        return []
    codes = limited_to(request)
    stale = stale_marketplaces(now=timezone.now())
    return [item for item in stale if codes is None or item.marketplace.code in codes]
