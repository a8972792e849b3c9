"""The dashboard of one store account: AHR and trend, AHA card, issues, Call me now."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from redis.exceptions import RedisError

from accounts.models import Seller, StoreAccount
from health.chart import TrendChart, build_trend
from health.eligibility import (
    ENGAGEMENT_WINDOW,
    Eligibility,
    RemovalReason,
    evaluate_eligibility,
)
from health.forms import CallbackForm
from health.models import (
    OPEN_CALLBACK_STATUSES,
    AHACase,
    CallbackRequest,
    CallbackStatus,
    DailyRating,
    Enforcement,
    EnforcementStatus,
    HealthState,
    Severity,
    Violation,
    ViolationCategory,
)
from health.rating import (
    AHA_LINE,
    AT_RISK_FROM,
    WINDOW_DAYS,
    ViolationFacts,
    band,
    violation_points,
)
from health.services.callbacks import queue_position
from health.state import account_facts, evaluation_day, rating_window
from health.views.common import seller_view
from health.views.labels import CRITERION_TEXT, REMOVAL_TEXT
from health.views.page_cache import CachedPage, cached_page, seconds_until_countdowns_change

logger = logging.getLogger(__name__)

DASHBOARD_TEMPLATE = "health/dashboard.html"
YEAR_DAYS = 365
PERIODS = {"180": WINDOW_DAYS, "year": YEAR_DAYS}
# Open enforcement a seller must see: a running warning, a deactivation, an appeal.
SHOWN_ENFORCEMENT = [
    EnforcementStatus.WARNING,
    EnforcementStatus.DEACTIVATED,
    EnforcementStatus.APPEALED,
    EnforcementStatus.REJECTED,
]
MAX_CASES_SHOWN = 20
# The columns the page shows: the long texts (plans of action, notes) stay in the database.
CASE_FIELDS = (
    "trigger",
    "status",
    "opened_at",
    "deadline_at",
    "engaged_at",
    "plan_submitted_at",
    "violation__category",
)
ENFORCEMENT_FIELDS = ("kind", "status", "opened_at", "deadline_at", "decision_note")
VIOLATION_FIELDS = (
    "category",
    "severity",
    "deactivation_level",
    "repeat",
    "detected_at",
    "resolved_at",
)
CALLBACK_FIELDS = ("status", "phone", "topic", "created_at", "finished_at")
# Bump the version when the trend template changes, so no chart of the old one is served.
TREND_CACHE_KEY = "dashboard-trend:v1:{}:{}:{}:{}"
# A safety net only: the key changes at every day close anyway.
TREND_CACHE_SECONDS = 2 * 24 * 3600
# The rules' numbers the page words need, from their one home.
RULE_FIGURES = {
    "window_days": WINDOW_DAYS,
    "aha_line": AHA_LINE,
    "at_risk_from": AT_RISK_FROM,
    "engagement_hours": ENGAGEMENT_WINDOW // dt.timedelta(hours=1),
}


@login_required
def dashboard(request: HttpRequest, store_account_id: int) -> HttpResponse:
    """The page a seller opens every morning, for one of its store accounts."""
    period = request.GET.get("period", "180")
    period = period if period in PERIODS else "180"
    page = cached_page(request, store_account_id, period=period)
    if page is not None and page.html is not None:
        return HttpResponse(page.fill(request))
    return _render_dashboard(request, store_account_id, period=period, page=page)


@seller_view("GET", with_last_loss=True)
def _render_dashboard(
    request: HttpRequest,
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    period: str,
    page: CachedPage | None,
) -> HttpResponse:
    context = dashboard_context(
        store_account,
        store_accounts=store_accounts,
        period=period,
        # Read with the page's fingerprint when there is one.
        latest=page.latest_callback if page is not None else latest_callback(store_account.seller),
    )
    if page is None:
        return render(request, DASHBOARD_TEMPLATE, context)
    html = render_to_string(DASHBOARD_TEMPLATE, {**context, **page.placeholders}, request)
    page.store(html, seconds=seconds_until_countdowns_change(context["cases"]))
    return HttpResponse(page.fill(request, html))


def dashboard_context(
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    period: str,
    latest: CallbackRequest | None,
) -> dict[str, object]:
    """Everything the dashboard shows, read fresh."""
    state = _health_of(store_account)
    cases = list(
        AHACase.objects.filter(store_account=store_account)
        .select_related("violation")
        .only(*CASE_FIELDS)
        .order_by("-opened_at")[:MAX_CASES_SHOWN]
    )
    return {
        "store_account": store_account,
        "store_accounts": store_accounts,
        "state": state,
        "trend": trend_html(store_account, state, period=period),
        "aha": aha_card(store_account, state),
        "violation_groups": _violation_groups(store_account),
        "cases": cases,
        "enforcements": list(
            Enforcement.objects.filter(
                store_account=store_account, status__in=SHOWN_ENFORCEMENT
            ).only(*ENFORCEMENT_FIELDS)
        ),
        **callback_panel(store_accounts, store_account, cases=cases, latest=latest),
        **RULE_FIGURES,
        "ahr_band": band(state.ahr).value if state.ahr is not None else "",
    }


def _health_of(store_account: StoreAccount) -> HealthState:
    try:
        return store_account.health
    except HealthState.DoesNotExist:
        return HealthState(store_account=store_account)


def trend_html(store_account: StoreAccount, state: HealthState, *, period: str) -> str:
    """The trend card's HTML, cached: it changes only when a day closes.

    The key names everything the HTML shows (the store account, the last day charted, the
    period and the language), so a new day close or a language switch reads a new key and no
    stale chart is ever served. The cases, callbacks and violations are never cached.
    """
    last_day = state.last_closed_day or (
        store_account.marketplace.local_date() - dt.timedelta(days=1)
    )
    key = TREND_CACHE_KEY.format(
        store_account.pk, last_day.isoformat(), period, translation.get_language()
    )
    html = _cache_get(key)
    if html is None:
        chart = _trend(store_account, last_day=last_day, days=PERIODS[period])
        html = render_to_string(
            "health/_trend.html", {"chart": chart, "period": period, **RULE_FIGURES}
        )
        _cache_set(key, html)
    # The HTML comes from our own template, escaped when it was rendered.
    return mark_safe(html)  # noqa: S308


def _trend(store_account: StoreAccount, *, last_day: dt.date, days: int) -> TrendChart:
    ratings = DailyRating.objects.filter(
        store_account=store_account,
        day__range=(last_day - dt.timedelta(days=days - 1), last_day),
    ).values_list("day", "ahr")
    return build_trend(ratings, last_day=last_day, days=days)


def _cache_get(key: str) -> str | None:
    # Decision: the cache only saves work, so an unreachable cache (Redis down) means
    # rendering afresh, never an error page.
    try:
        return cache.get(key)
    except RedisError:
        logger.warning("Cache unreachable; the trend chart is rendered without it.")
        return None


def _cache_set(key: str, html: str) -> None:
    try:
        cache.set(key, html, TREND_CACHE_SECONDS)
    except RedisError:
        logger.warning("Cache unreachable; the trend chart is not stored.")


@dataclass(frozen=True, slots=True)
class AhaCard:
    """What the AHA card says: enrolled, eligible, waiting, not eligible, removed or barred."""

    kind: str
    eligibility: Eligibility
    since: dt.date | None = None
    reason: RemovalReason | None = None
    reason_text: str = ""
    checklist: tuple[tuple[str, str, bool], ...] = ()

    @property
    def regains_automatically(self) -> bool:
        return self.reason is not None and not self.reason.bars


def aha_card(store_account: StoreAccount, state: HealthState) -> AhaCard:
    """The AHA card from the same rule functions the nightly job uses (no extra query)."""
    contact = getattr(store_account.seller, "emergency_contact", None)
    facts = account_facts(
        store_account, state, has_valid_contact=contact is not None and contact.is_valid
    )
    eligibility = evaluate_eligibility(
        rating_window(state), facts, evaluation_day(store_account, state)
    )
    loss_day, reason = _last_loss(store_account)
    failing = set(eligibility.failing)
    checklist = tuple(
        (criterion.value, str(text), criterion not in failing)
        for criterion, text in CRITERION_TEXT.items()
    )
    common = {
        "eligibility": eligibility,
        "reason": reason,
        "reason_text": str(REMOVAL_TEXT[reason]) if reason else "",
        "checklist": checklist,
    }
    if state.barred:
        return AhaCard(kind="barred", since=loss_day, **common)
    if state.enrolled:
        return AhaCard(kind="enrolled", since=state.enrolled_since, **common)
    if eligibility.waiting_for_contact:
        return AhaCard(kind="waiting", **common)
    if eligibility.eligible:
        # Enrollment itself happens at the close of day, so say when rather than "protected".
        return AhaCard(kind="eligible", **common)
    if reason is not None:
        return AhaCard(kind="removed", since=loss_day, **common)
    return AhaCard(kind="not_eligible", **common)


def _last_loss(store_account: StoreAccount) -> tuple[dt.date | None, RemovalReason | None]:
    """The day and reason of the latest removal or bar (the `last_loss` annotation)."""
    loss = getattr(store_account, "last_loss", None) or {}
    code = loss.get("reason")
    reason = RemovalReason(code) if code in RemovalReason else None
    day = loss.get("day")
    return (dt.date.fromisoformat(day) if day else None), reason


@dataclass(frozen=True, slots=True)
class ViolationRow:
    violation: Violation
    points: int | None
    zeroes: bool
    counts: bool


def _violation_groups(store_account: StoreAccount) -> list[tuple[str, list[ViolationRow]]]:
    """The violations of the last window by category, with the AHR points each takes off
    today; grouped here once rather than by `{% regroup %}` calling a display method a row."""
    marketplace = store_account.marketplace
    today = marketplace.local_date()
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    groups: dict[str, list[ViolationRow]] = {}
    for violation in (
        Violation.objects.affecting(store_account)
        .filter(detected_at__gte=since)
        .only(*VIOLATION_FIELDS)
        .order_by("category", "-detected_at")
    ):
        facts = ViolationFacts(
            category=violation.category,
            severity=violation.severity,
            detected_on=marketplace.local_date(violation.detected_at),
            resolved_on=(
                marketplace.local_date(violation.resolved_at) if violation.resolved_at else None
            ),
            repeat=violation.repeat,
        )
        critical = violation.severity == Severity.CRITICAL
        groups.setdefault(violation.category, []).append(
            ViolationRow(
                violation=violation,
                points=None if critical else violation_points(facts),
                zeroes=critical,
                counts=violation.resolved_at is None or facts.resolved_on > today,
            )
        )
    return [(ViolationCategory(category).label, rows) for category, rows in groups.items()]


def latest_callback(seller: Seller) -> CallbackRequest | None:
    """The seller's latest callback request, with the columns the panel shows."""
    return (
        CallbackRequest.objects.for_seller(seller)
        .only(*CALLBACK_FIELDS)
        .order_by("-created_at", "-id")
        .first()
    )


def callback_panel(
    store_accounts: list[StoreAccount],
    store_account: StoreAccount,
    *,
    cases: list[AHACase],
    latest: CallbackRequest | None,
) -> dict[str, object]:
    """The context of the Call me now panel: the latest request, the form, or why not."""
    seller = store_account.seller
    can_request = any(account.is_professional for account in store_accounts)
    if latest is not None:
        # The place in the queue is a costly query to build; only a queued request has one.
        latest.queue_position = (
            queue_position(latest) if latest.status == CallbackStatus.QUEUED else None
        )
    open_cases = [case for case in cases if case.is_open]
    contact = getattr(seller, "emergency_contact", None)
    return {
        "callback": latest,
        "callback_token": status_token(latest),
        "callback_open": latest is not None and latest.status in OPEN_CALLBACK_STATUSES,
        "can_request_callback": can_request,
        # The form's fields for their labels and limits; an unbound form is not built per view.
        "callback_fields": CallbackForm.base_fields,
        "callback_cases": open_cases,
        "emergency_contact": contact if contact is not None and contact.is_valid else None,
    }


def status_token(callback: CallbackRequest | None) -> str:
    """What the seller last saw of the panel; a poll with the same token needs no new HTML."""
    if callback is None:
        return ""
    return f"{callback.pk}-{callback.status}-{callback.queue_position or 0}"
