"""Deactivation-level events (rules §5): AHA cases for protected store accounts, standard
enforcement for the others, engagement, deadlines and appeals.

Modules: events (a violation recorded, low AHRs at a day close), cases (the AHA case),
enforcement (standard enforcement and appeals), deadlines (the watcher), common (helpers).

Decisions:
- A store account is protected when its HealthState says enrolled (no row: not enrolled).
- An account-wide deactivation-level violation opens one AHA case on each enrolled store account
  of the seller (each has its own engagement deadline and dashboard). The seller's other store
  accounts are covered by those cases: none is deactivated while one runs. If the last of them
  ends missed or unresolved, standard enforcement then deactivates the unprotected ones.
- The engagement clock (ENGAGEMENT_WINDOW) starts when the outreach email is queued (it is sent
  within seconds), or at an earlier successful phone contact a specialist records.
- Engagement after the deadline is refused: the case is missed even if the watcher has not run.
- A low-AHR warning's deadline is STANDARD_WARNING_PERIOD from when it is issued (not from the
  local end of the day), so a day closed late (a caught-up night) still gives the full period.
"""

from health.services.protection.cases import (
    acknowledge_case,
    close_case,
    mark_engaged,
    record_contact_attempt,
    resolve_violation,
    submit_plan_of_action,
)
from health.services.protection.deadlines import watch_deadlines
from health.services.protection.enforcement import appeal_enforcement, reinstate, reject_appeal
from health.services.protection.events import handle_low_ratings, record_violation

__all__ = [
    "acknowledge_case",
    "appeal_enforcement",
    "close_case",
    "handle_low_ratings",
    "mark_engaged",
    "record_contact_attempt",
    "record_violation",
    "reinstate",
    "reject_appeal",
    "resolve_violation",
    "submit_plan_of_action",
    "watch_deadlines",
]
