"""What people do in the demo, through the real services: a seller changing plan (R2) or losing
the emergency contact (R3), AHA cases missed (R4) and closed unresolved (R5), specialist findings
(R6, R7), and the demo seller's open AHA case and older callback. Each step is done once: a rerun
finds it done and adds nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import EmergencyContact, SellingPlan, StoreAccount, User
from accounts.services import change_selling_plan
from health.demo.replay import Story
from health.eligibility import ENGAGEMENT_WINDOW, RemovalReason
from health.models import (
    AHACase,
    CallbackRequest,
    EngagementKind,
    HealthState,
    Severity,
    ViolationCategory,
    ViolationScope,
)
from health.services.callbacks import claim_callback, complete_callback, request_callback
from health.services.enrollment import remove_from_aha
from health.services.protection import (
    close_case,
    mark_engaged,
    record_violation,
    watch_deadlines,
)

# Showcase changes happen this many days before the last closed day.
PLAN_CHANGE_AT = 10
CONTACT_LOST_AT = 8
# How long ago the demo seller's earlier callback happened.
CALLBACK_DAYS_AGO = 12

SPECIALIST_FINDINGS = (
    ("r6", RemovalReason.R6, "Demo: missing the local product safety registration."),
    ("r7", RemovalReason.R7, "Demo: listings made with a stolen brand identity."),
)


def story(by_role: dict[str, StoreAccount], last_day: dt.date) -> Story:
    """The sellers' changes during the history: R2's plan change and R3's lost contact."""
    plans, contacts = {}, {}
    if account := by_role.get("r2"):
        changed_on = last_day - dt.timedelta(days=PLAN_CHANGE_AT)
        plans[account.pk] = (changed_on, SellingPlan.INDIVIDUAL)
    if account := by_role.get("r3"):
        contacts[account.seller_id] = last_day - dt.timedelta(days=CONTACT_LOST_AT)
    return Story(plan_changes=plans, contacts_lost=contacts)


def make_story_changes(told: Story, *, until: dt.date) -> None:
    """Make the story's changes of the days up to `until` in the database; done ones are no-ops."""
    for pk, (on, plan) in told.plan_changes.items():
        if on <= until:
            change_selling_plan(store_account=StoreAccount.objects.get(pk=pk), plan=plan)
    lost = [seller_id for seller_id, on in told.contacts_lost.items() if on <= until]
    EmergencyContact.objects.filter(seller_id__in=lost).delete()


def play_specialist_decisions(by_role: dict[str, StoreAccount], specialist: User) -> int:
    """R4 (a missed case), R5 (a case closed unresolved), R6 and R7 (specialist findings)."""
    done = 0
    if (account := by_role.get("r4")) and _fresh_enrolled(account):
        _open_case(account, "Demo: counterfeit complaint the seller never answered.")
        # The deadline watcher, run as if the 72 hours had passed: the case is missed (R4). The
        # demo's history never closes an AHR below 100, so no other case or warning is open.
        watch_deadlines(now=timezone.now() + ENGAGEMENT_WINDOW + dt.timedelta(minutes=1))
        done += 1
    if (account := by_role.get("r5")) and _fresh_enrolled(account):
        case = _open_case(account, "Demo: unsafe product listed again after a warning.")
        mark_engaged(case=case, by=specialist, how=EngagementKind.SPECIALIST)
        note = "Demo: the plan of action did not remove the unsafe listings."
        close_case(case=case, resolved=False, by=specialist, note=note)
        done += 1
    for role, reason, note in SPECIALIST_FINDINGS:
        account = by_role.get(role)
        if account and not HealthState.objects.filter(store_account=account, barred=True).exists():
            remove_from_aha(store_account=account, reason=reason, by=specialist, note=note)
            done += 1
    return done


def _fresh_enrolled(account: StoreAccount) -> bool:
    """Enrolled and never had an AHA case: the scenario has not been played yet."""
    enrolled = HealthState.objects.filter(store_account=account, enrolled=True).exists()
    return enrolled and not AHACase.objects.filter(store_account=account).exists()


def _open_case(account: StoreAccount, description: str) -> AHACase:
    violation = record_violation(
        store_account=account,
        category=ViolationCategory.AUTHENTICITY,
        severity=Severity.HIGH,
        scope=ViolationScope.STORE,
        deactivation_level=True,
        detected_at=timezone.now() - dt.timedelta(hours=3),
        description=description,
    )
    return AHACase.objects.get(violation=violation)


def stage_dashboard(account: StoreAccount, *, seller_user: User, specialist: User) -> None:
    """The demo seller's AHA case with its 72 hours running, and an earlier completed callback."""
    if _fresh_enrolled(account):
        _open_case(account, "Demo: a buyer reported a counterfeit; please check your supplier.")
    if CallbackRequest.objects.filter(seller_id=account.seller_id).exists():
        return
    callback = request_callback(
        seller=account.seller, phone=None, topic="How is my AHR calculated?", by=seller_user
    )
    claim_callback(callback=callback, by=specialist)
    complete_callback(callback=callback, by=specialist, note="Demo: explained the AHR.")
    # The services stamp the present; the demo moves the call back to when it happened.
    then = timezone.now() - dt.timedelta(days=CALLBACK_DAYS_AGO)
    CallbackRequest.objects.filter(pk=callback.pk).update(
        created_at=then, claimed_at=then, finished_at=then + dt.timedelta(minutes=9)
    )
