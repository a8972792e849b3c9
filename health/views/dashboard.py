"""The dashboard of one store account: AHR and trend, AHA card, issues, Call me now."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from fractions import Fraction

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from redis.exceptions import RedisError

from accounts.models import Marketplace, Seller, StoreAccount
from health.chart import build_trend
from health.eligibility import (
    ENGAGEMENT_WINDOW,
    Eligibility,
    RemovalReason,
    evaluate_eligibility,
)
from health.forecast import EXPLAINED_DAYS, is_open_on
from health.forms import WHAT_IF_PARAMETERS, CallbackForm, WhatIfForm
from health.models import (
    OPEN_CALLBACK_STATUSES,
    AHACase,
    CallbackRequest,
    CallbackStatus,
    Enforcement,
    EnforcementStatus,
    HealthState,
    Severity,
    Violation,
    ViolationCategory,
)
from health.outlook import (
    Outlook,
    Series,
    WhatIf,
    build_outlook,
    last_day_of,
    load_series,
    resolve_day,
    series_days,
    violation_facts,
    violations_since,
)
from health.rating import (
    AHA_LINE,
    AT_RISK_FROM,
    WINDOW_DAYS,
    ViolationFacts,
    ahr_now,
    band,
    is_active,
    standing,
    violation_points,
)
from health.services.callbacks import queue_position
from health.state import account_facts, evaluation_day, rating_window
from health.views.common import seller_view
from health.views.html import without_indentation
from health.views.labels import CRITERION_TEXT, REMOVAL_TEXT
from health.views.outlook_text import outlook_context
from health.views.page_cache import CachedPage, cached_page, seconds_until_countdowns_change
from health.views.urgent import most_urgent

logger = logging.getLogger(__name__)

DASHBOARD_TEMPLATE = "health/dashboard.html"
YEAR_DAYS = 365
PERIODS = {"180": WINDOW_DAYS, "year": YEAR_DAYS}
DEFAULT_PERIOD = "180"
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
ENFORCEMENT_FIELDS = (
    "kind",
    "reason",
    "violation_id",
    "status",
    "opened_at",
    "deadline_at",
    "decided_at",
    "decision_note",
    "plan_submitted_at",
)
VIOLATION_FIELDS = (
    "reference",
    "category",
    "severity",
    "deactivation_level",
    "repeat",
    "detected_at",
    "resolved_at",
)
CALLBACK_FIELDS = ("status", "phone", "topic", "created_at", "finished_at")
# Bump the version when the trend template changes, so no chart of the old one is served.
TREND_CACHE_KEY = "dashboard-trend:v3:{}:{}:{}:{}:{}"
# The days violations were detected on, and those they were resolved on.
type ViolationMarks = tuple[tuple[dt.date, ...], tuple[dt.date, ...]]
# Bump the version when Series changes shape.
SERIES_CACHE_KEY = "dashboard-series:v1:{}:{}:{}:{}"
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
    period = request.GET.get("period", DEFAULT_PERIOD)
    period = period if period in PERIODS else DEFAULT_PERIOD
    if any(name in request.GET for name in WHAT_IF_PARAMETERS):
        # A what-if is answered afresh and never stored as the page: nothing of it is saved.
        return _render_dashboard(request, store_account_id, period=period, page=None)
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
        what_if=request.GET if any(name in request.GET for name in WHAT_IF_PARAMETERS) else None,
    )
    if context["what_if_form"] is not None and request.htmx:
        # In place: the outlook card, and the trend card (its forecast line) out of band.
        return render(request, "health/_outlook_swap.html", context)
    if page is None:
        return HttpResponse(
            without_indentation(render_to_string(DASHBOARD_TEMPLATE, context, request))
        )
    html = without_indentation(
        render_to_string(DASHBOARD_TEMPLATE, {**context, **page.placeholders}, request)
    )
    page.store(html, seconds=seconds_until_countdowns_change(context["cases"]))
    return HttpResponse(page.fill(request, html))


def dashboard_context(
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    period: str,
    latest: CallbackRequest | None,
    what_if: QueryDict | None = None,
) -> dict[str, object]:
    """Everything the dashboard shows, read fresh; `what_if` holds a what-if's parameters."""
    state = _health_of(store_account)
    violations = _violations(store_account)
    series = outlook_series(store_account, state, period=period)
    outlook, what_if_form = _outlook(store_account, state, violations, series, what_if)
    cases = list(
        AHACase.objects.filter(store_account=store_account)
        .select_related("violation")
        .only(*CASE_FIELDS)
        .order_by("-opened_at")[:MAX_CASES_SHOWN]
    )
    aha = aha_card(store_account, state)
    enforcements = list(
        Enforcement.objects.filter(store_account=store_account, status__in=SHOWN_ENFORCEMENT).only(
            *ENFORCEMENT_FIELDS
        )
    )
    rows = violation_rows(store_account, violations)
    return {
        "store_account": store_account,
        "store_accounts": store_accounts,
        "state": state,
        "trend": trend_html(
            store_account,
            state,
            series=series,
            period=period,
            outlook=outlook,
            marks=violation_marks(store_account.marketplace, violations),
            store=what_if is None,
        ),
        "aha": aha,
        "violation_groups": _grouped(rows),
        "outlook": outlook,
        "period": period,
        "outlook_view": outlook_context(outlook, store_account),
        "what_if_form": what_if_form,
        "cases": cases,
        "enforcements": enforcements,
        "urgent": most_urgent(
            cases=cases, enforcements=enforcements, aha_kind=aha.kind, callback=latest
        ),
        **callback_panel(store_accounts, store_account, cases=cases, latest=latest),
        **RULE_FIGURES,
        **ahr_figures(store_account, state, rows),
    }


def ahr_figures(
    store_account: StoreAccount, state: HealthState, rows: list[ViolationRow]
) -> dict[str, object]:
    """The AHR card's number, band and standing against the AHA line. An active critical
    violation shows its effect at once (rating.ahr_now), not only after the night closes."""
    if state.ahr is None:
        return {"ahr_shown": None, "ahr_band": "", "ahr_standing": "", "ahr_zeroed": False}
    today = store_account.marketplace.local_date()
    shown = ahr_now(state.ahr, [row.facts for row in rows], today)
    return {
        "ahr_shown": shown,
        "ahr_band": band(shown).value,
        "ahr_standing": standing(shown).value,
        "ahr_zeroed": shown != state.ahr,
        "ahr_gap": max(0, AHA_LINE - shown),
    }


def _health_of(store_account: StoreAccount) -> HealthState:
    try:
        return store_account.health
    except HealthState.DoesNotExist:
        return HealthState(store_account=store_account)


def trend_html(
    store_account: StoreAccount,
    state: HealthState,
    *,
    series: Series,
    period: str,
    outlook: Outlook,
    marks: ViolationMarks = ((), ()),
    store: bool = True,
) -> str:
    """The trend card's HTML, cached: it changes only when a day closes, the forecast does or
    a violation is detected or resolved.

    The key names everything the HTML shows (the store account, the last day charted, the
    period, the language and a digest of the forecast and the violation marks drawn), so a new
    day close, a language switch, another forecast or another violation reads a new key and no
    stale chart is ever served. The cases and callbacks are never cached; a what-if's chart is
    not stored (`store`).
    """
    last_day = last_day_of(store_account, state)
    key = trend_cache_key(store_account.pk, last_day, period=period, outlook=outlook, marks=marks)
    html = _cache_get(key)
    if html is None:
        chart = build_trend(
            series.ratings.items(),
            last_day=last_day,
            days=PERIODS[period],
            forecast=[(day.day, day.ahr) for day in outlook.shown.shown],
            detected=marks[0],
            resolved=marks[1],
        )
        html = render_to_string(
            "health/_trend.html", {"chart": chart, "period": period, **RULE_FIGURES}
        )
        if store:
            _cache_set(key, html)
    # The HTML comes from our own template, escaped when it was rendered.
    return mark_safe(html)  # noqa: S308


def trend_cache_key(
    store_account_id: int,
    last_day: dt.date,
    *,
    period: str,
    outlook: Outlook,
    marks: ViolationMarks = ((), ()),
) -> str:
    """The trend card's cache key: the chart drawn, with a digest of its forecast and of the
    days its violation marks stand on."""
    drawn = repr(([day.ahr for day in outlook.shown.shown], marks))
    forecast_digest = hashlib.md5(drawn.encode(), usedforsecurity=False).hexdigest()[:12]
    return TREND_CACHE_KEY.format(
        store_account_id, last_day.isoformat(), period, translation.get_language(), forecast_digest
    )


def violation_marks(marketplace: Marketplace, violations: list[Violation]) -> ViolationMarks:
    """The days the page's violations were detected and resolved on, for the chart's marks,
    from the rows the page has read already (no query of its own)."""
    detected = sorted({marketplace.local_date(v.detected_at) for v in violations})
    resolved = sorted(
        {marketplace.local_date(v.resolved_at) for v in violations if v.resolved_at is not None}
    )
    return tuple(detected), tuple(resolved)


def outlook_series(store_account: StoreAccount, state: HealthState, *, period: str) -> Series:
    """The ratings the chart and "What moved" show and the orders the outlook needs, in one
    query, cached like the chart: they change when a day closes, or when late orders correct
    the window (which changes its stored sum, part of the key)."""
    last_day = last_day_of(store_account, state)
    key = SERIES_CACHE_KEY.format(
        store_account.pk, last_day.isoformat(), state.orders_in_window, period
    )
    cached = _cache_get(key)
    if cached is not None:
        return cached
    rating_days, order_days = series_days(EXPLAINED_DAYS)
    series = load_series(
        store_account.pk,
        last_day,
        rating_days=max(rating_days, PERIODS[period]),
        order_days=order_days,
    )
    _cache_set(key, series)
    return series


def _outlook(
    store_account: StoreAccount,
    state: HealthState,
    violations: list[Violation],
    series: Series,
    what_if: QueryDict | None,
) -> tuple[Outlook, WhatIfForm | None]:
    """The outlook, with the what-if asked when its form is valid (else the form's errors)."""
    facts = account_facts(store_account, state, has_valid_contact=_has_valid_contact(store_account))
    arguments = {
        "facts": facts,
        "violations": violation_facts(store_account.marketplace, violations),
        "series": series,
    }
    if what_if is None:
        return build_outlook(store_account, state, **arguments), None
    # The choices are the violations open on the day a what-if resolves them, as the outlook
    # judges them; the outlook itself is built once, with the question when it is valid.
    resolve_on = resolve_day(store_account, state)
    open_ids = sorted(
        pk for pk, facts in arguments["violations"].items() if is_open_on(facts, resolve_on)
    )
    form = WhatIfForm(what_if, open_ids=open_ids)
    if not form.is_valid():
        return build_outlook(store_account, state, **arguments), form
    orders = form.cleaned_data["orders"]
    question = WhatIf(
        resolve=frozenset(form.cleaned_data["resolve"]),
        daily_orders=Fraction(orders) if orders is not None else None,
    )
    return build_outlook(store_account, state, question=question, **arguments), form


def _has_valid_contact(store_account: StoreAccount) -> bool:
    contact = getattr(store_account.seller, "emergency_contact", None)
    return contact is not None and contact.is_valid


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
    facts: ViolationFacts
    points: int | None
    zeroes: bool
    counts: bool


def _violations(store_account: StoreAccount) -> list[Violation]:
    """The violations the page shows and its outlook explains: those of the last window, and
    the older ones that still counted on a day "What moved" explains."""
    return list(
        Violation.objects.affecting(store_account)
        .filter(detected_at__gte=violations_since(timezone.now()))
        .only(*VIOLATION_FIELDS)
        .order_by("category", "-detected_at")
    )


def facts_of(violation: Violation, marketplace: Marketplace) -> ViolationFacts:
    """What the rating rules need of a violation, its days in the marketplace's calendar."""
    return ViolationFacts(
        category=violation.category,
        severity=violation.severity,
        detected_on=marketplace.local_date(violation.detected_at),
        resolved_on=(
            marketplace.local_date(violation.resolved_at) if violation.resolved_at else None
        ),
        repeat=violation.repeat,
    )


def violation_row(violation: Violation, marketplace: Marketplace, today: dt.date) -> ViolationRow:
    facts = facts_of(violation, marketplace)
    critical = violation.severity == Severity.CRITICAL
    return ViolationRow(
        violation=violation,
        facts=facts,
        points=None if critical else violation_points(facts),
        zeroes=critical,
        counts=is_active(facts, today),
    )


def violation_rows(
    store_account: StoreAccount, violations: list[Violation] | None = None
) -> list[ViolationRow]:
    """The violations of the last window with the AHR points each takes off today (from
    `violations` when the page has read them already)."""
    marketplace = store_account.marketplace
    today = marketplace.local_date()
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    if violations is None:
        violations = _violations(store_account)
    return [
        violation_row(violation, marketplace, today)
        for violation in violations
        if violation.detected_at >= since
    ]


def _grouped(rows: list[ViolationRow]) -> list[tuple[str, list[ViolationRow]]]:
    """The rows by category; grouped here once rather than by `{% regroup %}` calling a
    display method a row."""
    groups: dict[str, list[ViolationRow]] = {}
    for row in rows:
        groups.setdefault(row.violation.category, []).append(row)
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
