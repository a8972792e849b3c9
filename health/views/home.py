"""The seller's home page: every store account with its AHR, AHA state and most urgent item,
the stores that need action first. A fixed number of queries whatever the number of stores."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from accounts.models import StoreAccount
from health.models import AHACase, Enforcement, Severity, Violation
from health.rating import AHA_LINE, AT_RISK_FROM, ahr_now, band, standing
from health.views.common import seller_store_accounts
from health.views.dashboard import (
    SHOWN_ENFORCEMENT,
    AhaCard,
    _health_of,
    aha_card,
    facts_of,
    latest_callback,
)
from health.views.urgent import Urgent, most_urgent


@dataclass(frozen=True, slots=True)
class StoreSummary:
    """One store account's line on the home page."""

    store_account: StoreAccount
    ahr: int | None
    band: str
    standing: str
    aha: AhaCard
    urgent: Urgent | None

    @property
    def needs_action(self) -> bool:
        return self.urgent is not None and self.urgent.needs_action


def store_summaries(request: HttpRequest) -> list[StoreSummary]:
    """The seller's store accounts, those that need action first (most urgent first)."""
    store_accounts = seller_store_accounts(request, with_last_loss=True)
    ids = [account.pk for account in store_accounts]
    cases = _by_account(AHACase.objects.open().filter(store_account_id__in=ids))
    enforcements = _by_account(
        Enforcement.objects.filter(store_account_id__in=ids, status__in=SHOWN_ENFORCEMENT)
    )
    critical = list(
        Violation.objects.open()
        .filter(severity=Severity.CRITICAL)
        .for_seller(request.user.seller_id)
        .only(
            "store_account_id",
            "scope",
            "category",
            "severity",
            "detected_at",
            "resolved_at",
            "repeat",
        )
    )
    callback = latest_callback(store_accounts[0].seller) if store_accounts else None
    summaries = [
        _summary(account, cases, enforcements, critical, callback) for account in store_accounts
    ]
    return sorted(summaries, key=_urgent_first)


# The rules' numbers the home page words need.
HOME_FIGURES = {"aha_line": AHA_LINE, "at_risk_from": AT_RISK_FROM}


def _summary(account, cases, enforcements, critical, callback) -> StoreSummary:
    state = _health_of(account)
    aha = aha_card(account, state)
    urgent = most_urgent(
        cases=cases.get(account.pk, []),
        enforcements=enforcements.get(account.pk, []),
        aha_kind=aha.kind,
        callback=callback,
    )
    ahr = None
    if state.ahr is not None:
        facts = [
            facts_of(violation, account.marketplace)
            for violation in critical
            if violation.store_account_id == account.pk or violation.scope == "account"
        ]
        ahr = ahr_now(state.ahr, facts, account.marketplace.local_date())
    return StoreSummary(
        store_account=account,
        ahr=ahr,
        band=band(ahr).value if ahr is not None else "",
        standing=standing(ahr).value if ahr is not None else "",
        aha=aha,
        urgent=urgent,
    )


def _by_account(queryset) -> dict[int, list]:
    rows: dict[int, list] = {}
    for row in queryset.select_related("violation"):
        rows.setdefault(row.store_account_id, []).append(row)
    return rows


def _urgent_first(summary: StoreSummary) -> tuple[int, str]:
    rank = summary.urgent.urgency if summary.needs_action else 100
    return rank, summary.store_account.marketplace.display_name
