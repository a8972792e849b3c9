"""A seller's flows end to end in real Chromium at desktop and phone width, on the demo's data:
from the banner to the violation and a plan of action; an R4 deactivation appealed, rejected,
appealed again and reinstated, with the email of each step in the outbox; and a forgotten
password reset through the link of its email."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import two_factor
from accounts.models import StoreAccount, StoreStatus, User
from health.emails import render_email
from health.models import (
    AHACase,
    CaseStatus,
    EmailKind,
    Enforcement,
    EnforcementStatus,
    OutboxEmail,
)
from tests.browser import test_seller_demo_states as demo_states
from tests.browser.test_seller_dashboard import DESKTOP, PHONE
from tests.browser.test_seller_demo_states import STATES, sign_in
from tests.builders import PASSWORD, make_seller, make_seller_user, make_store_account

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
LIVE_DATABASE = pytest.mark.django_db(transaction=True, serialized_rollback=True)
# The demo's fixtures: Chromium, and the demo as `make run` makes it.
demo = demo_states.demo


def send_plan(page, button: str, *, root_cause: str) -> None:
    page.fill("textarea[name=root_cause]", root_cause)
    page.fill("textarea[name=actions_taken]", "We removed the listing and recalled the stock.")
    page.fill("textarea[name=prevention]", "We check every certificate before listing goods.")
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


@pytest.mark.browser
@LIVE_DATABASE
@VIEWPORTS
def test_a_seller_follows_the_violation_from_the_banner_and_sends_a_plan(
    live_server, browser, demo, viewport
):
    from playwright.sync_api import expect

    store = StoreAccount.objects.get(seller__users__username="seller", marketplace_id="US")
    case = AHACase.objects.get(store_account=store, status=CaseStatus.OPEN)
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, live_server.url, "seller")
    page.goto(live_server.url + reverse("health:dashboard", args=[store.pk]))

    page.locator(".banner").get_by_role("link", name="See the violation").click()

    expect(page.locator("h1")).to_contain_text(case.violation.get_category_display())
    expect(page.locator("body")).to_contain_text("(America/Los_Angeles)")
    page.screenshot(path=str(STATES / f"violation-{viewport['width']}.png"))
    page.get_by_role("link", name="Submit a plan of action").click()
    send_plan(page, "Send the plan of action", root_cause="Our supplier sent copies.")
    expect(page.locator(".message-success")).to_contain_text("plan of action is sent")
    case.refresh_from_db()
    assert case.plan_submitted_at is not None
    assert case.root_cause == "Our supplier sent copies."


def sign_in_to_back_office(page, base_url: str, username: str) -> None:
    """The demo password, then the code the specialist's authenticator shows now."""
    page.goto(base_url + reverse("admin:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password-2026")
    page.locator("form:has(input[name=password]) [type=submit]").click()
    device = two_factor.confirmed_device(User.objects.get(username=username))
    page.fill("input[name=code]", two_factor.current_code(device))
    page.locator("form:has(input[name=code]) [type=submit]").click()
    page.wait_for_load_state()


def decide(page, base_url: str, enforcement: Enforcement, action: str, reason: str) -> None:
    """A specialist applies an action to the enforcement from its list, with a reason."""
    from playwright.sync_api import expect

    page.goto(base_url + reverse("admin:health_enforcement_changelist"))
    page.check(f"input[name=_selected_action][value='{enforcement.pk}']")
    page.select_option("select[name=action]", action)
    page.locator("button[name=index], input[name=index]").first.click()
    page.fill("textarea[name=reason]", reason)
    page.locator("input[name=apply]").click()
    expect(page.locator(".messagelist")).to_contain_text("done")


def emails_of(store: StoreAccount) -> list[tuple[str, str]]:
    """The store's appeal and reinstatement emails in the outbox, oldest first: kind, body."""
    kinds = [EmailKind.APPEAL_RECEIVED, EmailKind.APPEAL_REJECTED, EmailKind.REINSTATED]
    rows = OutboxEmail.objects.filter(store_account=store, kind__in=kinds).order_by("id")
    return [(row.kind, render_email(row)[1]) for row in rows]


@pytest.mark.browser
@LIVE_DATABASE
@VIEWPORTS
def test_an_r4_deactivation_is_appealed_rejected_appealed_again_and_reinstated(
    live_server, browser, demo, viewport
):
    from playwright.sync_api import expect

    store = StoreAccount.objects.get(seller__users__username="seller-deactivated")
    enforcement = Enforcement.objects.get(store_account=store, status=EnforcementStatus.DEACTIVATED)
    assert AHACase.objects.get(store_account=store).status == CaseStatus.MISSED
    dashboard = live_server.url + reverse("health:dashboard", args=[store.pk])
    seller = browser.new_context(viewport=viewport).new_page()
    sign_in(seller, live_server.url, "seller-deactivated")
    specialist = browser.new_context(viewport=DESKTOP).new_page()
    sign_in_to_back_office(specialist, live_server.url, "specialist")

    seller.goto(dashboard)
    seller.locator(".banner").get_by_role("link", name="Appeal with a plan of action").click()
    send_plan(seller, "Send the appeal", root_cause="We missed the email about the case.")
    expect(seller.locator(".message-success")).to_contain_text("appeal is sent")
    assert [kind for kind, _ in emails_of(store)] == [EmailKind.APPEAL_RECEIVED]

    note = "The plan does not say how you will watch your email."
    decide(specialist, live_server.url, enforcement, "reject_appeal", note)
    assert [kind for kind, _ in emails_of(store)][-1] == EmailKind.APPEAL_REJECTED
    assert note in emails_of(store)[-1][1]

    seller.goto(dashboard)
    expect(seller.locator(".banner")).to_contain_text(note)
    seller.locator(".banner").get_by_role("link", name="Send a new appeal").click()
    send_plan(seller, "Send the appeal", root_cause="Case emails now go to a shared inbox.")
    expect(seller.locator(".message-success")).to_contain_text("appeal is sent")
    assert [kind for kind, _ in emails_of(store)][-1] == EmailKind.APPEAL_RECEIVED

    decide(specialist, live_server.url, enforcement, "reinstate", "The new plan answers the note.")
    assert [kind for kind, _ in emails_of(store)] == [
        EmailKind.APPEAL_RECEIVED,
        EmailKind.APPEAL_REJECTED,
        EmailKind.APPEAL_RECEIVED,
        EmailKind.REINSTATED,
    ]
    assert "your appeal is accepted" in emails_of(store)[-1][1]
    store.refresh_from_db()
    assert store.status == StoreStatus.NORMAL
    seller.goto(dashboard)
    expect(seller.locator("body")).to_contain_text("Store account status: Normal")
    assert seller.locator(".banner").count() == 0


@pytest.mark.browser
@LIVE_DATABASE
@VIEWPORTS
def test_a_seller_resets_a_forgotten_password_through_the_emailed_link(
    live_server, browser, settings, viewport
):
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    seller = make_seller(name="Nord Tea")
    make_store_account(seller=seller, marketplace="UK")
    user = make_seller_user(seller=seller)
    User.objects.filter(pk=user.pk).update(email="owner@nord-tea.example")
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(live_server.url + reverse("accounts:login"))

    page.get_by_role("link", name="Forgot your password?").click()
    page.fill("input[name=email]", "owner@nord-tea.example")
    page.get_by_role("button", name="Email me a link").click()
    page.wait_for_load_state()
    email = OutboxEmail.objects.get(to="owner@nord-tea.example", kind=EmailKind.SET_PASSWORD)
    link = re.search(r"https?://\S+/password/set/\S+/", render_email(email)[1])
    assert link is not None
    page.goto(link.group(0))
    new_password = "a-new-kettle-2027"
    page.fill("input[name=new_password1]", new_password)
    page.fill("input[name=new_password2]", new_password)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_load_state()
    sign_in(page, live_server.url, user.username, new_password)

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("body")).to_contain_text("United Kingdom")
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert not user.check_password(PASSWORD)
