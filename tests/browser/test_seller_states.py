"""Every state a seller's store account can be in, in real Chromium at desktop and phone width:
the urgent item is inside the first viewport, and a seller follows a violation from the banner
to its page and sends a plan of action. The committed screenshots of the states come from the
demo data (tests/browser/test_seller_demo_states.py), not from these hand-made rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import SellingPlan, StoreStatus
from health.eligibility import RemovalReason
from health.models import (
    EligibilityStatus,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
)
from health.rating import AHA_LINE, WINDOW_DAYS
from health.services.enrollment import remove_from_aha
from health.state import mask_to_bytes
from tests.browser.test_seller_dashboard import DESKTOP, PHONE, sign_in
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.dashboard_data import add_history, open_case, yesterday


def _enrolled(store_account) -> None:
    HealthState.objects.filter(store_account=store_account).update(
        enrolled=True, enrolled_since=dt.date(2026, 1, 1), status=EligibilityStatus.ENROLLED
    )


def build_states():
    """One seller with a store account in each state; a second seller without a contact."""
    seller = make_seller(name="Zielony Ogród", phone="+48 512 345 678")
    stores = {}

    def store(name, code, *, ahr=300, plan=SellingPlan.PROFESSIONAL):
        account = make_store_account(seller=seller, marketplace=code, plan=plan)
        add_history(account, days=200, ahr=ahr)
        if ahr < AHA_LINE:
            # Every recorded day below the line, as a day close would have counted them.
            HealthState.objects.filter(store_account=account).update(
                below_mask=mask_to_bytes((1 << WINDOW_DAYS) - 1)
            )
        stores[name] = account
        return account

    case_store = store("open_case", "PL")
    _enrolled(case_store)
    open_case(case_store).violation.__class__.objects.filter(store_account=case_store).update(
        description="A buyer reported a counterfeit charger.", reference="ASIN B0CHARGER1"
    )
    warning = store("warning", "DE", ahr=80)
    Enforcement.objects.create(
        store_account=warning,
        kind=EnforcementKind.LOW_AHR_WARNING,
        status=EnforcementStatus.WARNING,
        trigger_day=yesterday(warning),
        deadline_at=timezone.now() + dt.timedelta(days=3),
    )
    deactivated = store("deactivated", "FR")
    _enrolled(deactivated)
    remove_from_aha(store_account=deactivated, reason=RemovalReason.R4)
    store("at_risk", "UK", ahr=150)
    store("unhealthy", "IT", ahr=60)
    removed = store("removed_r1", "US", ahr=230)
    EnrollmentEvent.objects.create(
        store_account=removed,
        kind=EnrollmentEventKind.REMOVED,
        reason="R1",
        day=yesterday(removed),
    )
    barred = store("barred", "JP")
    remove_from_aha(store_account=barred, reason=RemovalReason.R6, note="Not registered.")
    store("individual", "IN", plan=SellingPlan.INDIVIDUAL)
    waiting_seller = make_seller(name="Bez Numeru")
    waiting = make_store_account(seller=waiting_seller, marketplace="ES")
    add_history(waiting, days=200, ahr=400)
    return seller, stores, waiting


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_urgent_item_is_in_the_first_viewport_on_every_store(live_server, browser, viewport):
    from playwright.sync_api import expect

    seller, stores, waiting = build_states()
    assert stores["deactivated"].__class__.objects.get(pk=stores["deactivated"].pk).status == (
        StoreStatus.DEACTIVATED
    )
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, live_server.url, make_seller_user(seller=seller).username)
    expect(page.locator(".home-attention")).to_contain_text("need your action")
    urgent = {"open_case", "warning", "deactivated"}
    for name, account in stores.items():
        page.goto(live_server.url + reverse("health:dashboard", args=[account.pk]))
        if name in urgent:
            box = page.locator(".banner").bounding_box()
            assert box is not None, name
            assert box["y"] + box["height"] <= viewport["height"], (name, box)
        else:
            assert page.locator(".banner").count() == 0, name
    page.context.close()

    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, live_server.url, make_seller_user(seller=waiting.seller).username)
    page.goto(live_server.url + reverse("health:dashboard", args=[waiting.pk]))
    box = page.locator(".banner").bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"]
    expect(page.locator(".banner")).to_contain_text("emergency contact")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_seller_follows_the_violation_from_the_banner_and_sends_a_plan(
    live_server, browser, viewport
):
    from playwright.sync_api import expect

    seller = make_seller(phone="+48 512 345 678")
    account = make_store_account(seller=seller, marketplace="PL")
    add_history(account, days=200, ahr=300)
    _enrolled(account)
    case = open_case(account)
    case.violation.__class__.objects.filter(pk=case.violation_id).update(
        description="A buyer reported a counterfeit charger.", reference="ASIN B0CHARGER1"
    )
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, live_server.url, make_seller_user(seller=seller).username)
    page.goto(live_server.url + reverse("health:dashboard", args=[account.pk]))
    page.locator(".banner").get_by_role("link", name="See the violation").click()
    expect(page.locator("h1")).to_contain_text("Product safety customer complaints")
    expect(page.locator("body")).to_contain_text("ASIN B0CHARGER1")
    expect(page.locator("body")).to_contain_text("(Europe/Warsaw)")
    page.get_by_role("link", name="Submit a plan of action").click()
    page.fill("textarea[name=root_cause]", "The supplier sent chargers without certificates.")
    page.fill("textarea[name=actions_taken]", "We removed the listing and recalled the stock.")
    page.fill("textarea[name=prevention]", "We check every certificate before listing goods.")
    page.get_by_role("button", name="Send the plan of action").click()
    expect(page.locator(".message-success")).to_contain_text("plan of action is sent")
    case.refresh_from_db()
    assert case.plan_submitted_at is not None
