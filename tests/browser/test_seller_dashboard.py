"""The seller dashboard in real Chromium: sign in, read the chart and the AHA card, press
"Call me now" and watch a specialist claim it, acknowledge a case, switch to Polish, and the
page without JavaScript. Screenshots go to screenshots/ at the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from health.services.callbacks import claim_callback
from tests.builders import (
    PASSWORD,
    make_seller,
    make_seller_user,
    make_staff_user,
    make_store_account,
)
from tests.health.dashboard_data import add_history, add_violations, open_case

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


@pytest.fixture
def seller_with_history():
    seller = make_seller(name="Zielony Ogród", phone="+48 512 345 678", language="en")
    store_account = make_store_account(seller=seller, marketplace="PL")
    make_store_account(seller=seller, marketplace="DE")
    add_history(store_account, days=200, ahr=280, below_every=15)
    add_violations(store_account, 4)
    case = open_case(store_account)
    return store_account, make_seller_user(seller=seller), case


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seller_reads_the_dashboard_calls_for_help_and_acknowledges(
    live_server, browser, seller_with_history
):
    from playwright.sync_api import expect

    store_account, user, case = seller_with_history
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, user.username)
    page.goto(live_server.url + reverse("health:dashboard", args=[store_account.pk]))

    expect(page.locator("svg.trend-svg path.trend-line")).to_be_visible()
    expect(page.locator("#trend-summary")).to_contain_text("days below 250")
    expect(page.locator(".aha-card")).to_contain_text("Not eligible for AHA yet.")
    # The fixture's open case is about a critical violation: its AHR of 0 shows at once.
    expect(page.locator(".ahr-band")).to_have_text("Unhealthy")
    expect(page.locator(".ahr-zeroed")).to_contain_text("critical violation")
    expect(page.locator(f"#case-{case.pk} .countdown")).to_contain_text("left")
    shoot(page, "dashboard-desktop")

    page.get_by_role("button", name="Call me now").click()
    expect(page.locator("[data-status=queued]")).to_contain_text("You are number 1 in line")
    claim_callback(callback=store_account.seller.callback_requests.get(), by=make_staff_user())
    # The panel polls; no reload.
    expect(page.locator("[data-status=claimed]")).to_be_visible(timeout=15_000)
    expect(page.locator("#callback-status")).to_contain_text("A specialist is calling you now")
    shoot(page, "dashboard-callback-claimed")

    page.locator(f"#case-{case.pk}").get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#messages")).to_contain_text("The case is acknowledged")
    expect(page.locator(f"#case-{case.pk}")).to_contain_text("Seller engaged")

    page.get_by_role("link", name="Timeline").click()
    expect(page.locator(".timeline")).to_contain_text("you engaged")
    shoot(page, "timeline-desktop")
    # A callback about no case is the seller's, not the store's: on the seller-wide timeline.
    page.get_by_role("link", name="Calls and emails about your whole seller account").click()
    expect(page.locator(".timeline")).to_contain_text("Call me now requested")
    page.goto(live_server.url + reverse("health:plan_of_action", args=[store_account.pk, case.pk]))
    page.fill("textarea[name=root_cause]", "short")
    page.get_by_role("button", name="Send the plan of action").click()
    expect(page.locator(".errorlist").first).to_contain_text("at least 20 characters")
    shoot(page, "plan-of-action-errors")

    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, live_server.url, user.username)
    phone.goto(live_server.url + reverse("health:emergency_contact", args=[store_account.pk]))
    shoot(phone, "emergency-contact-phone")
    phone.goto(live_server.url + reverse("health:dashboard", args=[store_account.pk]))
    expect(phone.locator("svg.trend-svg")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no sideways scrolling on a phone"
    shoot(phone, "dashboard-phone")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seller_switches_to_polish(live_server, browser, seller_with_history):
    from playwright.sync_api import expect

    store_account, user, _case = seller_with_history
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, user.username)
    page.goto(live_server.url + reverse("health:dashboard", args=[store_account.pk]))
    page.select_option("#language-select", "pl")
    page.locator(".language-switcher [type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("button", name="Zadzwoń do mnie teraz")).to_be_visible()
    expect(page.locator(".ahr-band")).to_have_text("Zły")  # the open critical violation
    shoot(page, "dashboard-polish-desktop")
    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, live_server.url, user.username)
    phone.goto(live_server.url + reverse("health:dashboard", args=[store_account.pk]))
    expect(phone.locator("html")).to_have_attribute("lang", "pl")
    shoot(phone, "dashboard-polish-phone")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_chart_and_cards_render_without_javascript(live_server, browser, seller_with_history):
    from playwright.sync_api import expect

    store_account, user, _case = seller_with_history
    page = browser.new_context(viewport=DESKTOP, java_script_enabled=False).new_page()
    sign_in(page, live_server.url, user.username)
    page.goto(live_server.url + reverse("health:dashboard", args=[store_account.pk]))
    expect(page.locator("svg.trend-svg path.trend-line")).to_be_visible()
    expect(page.locator(".aha-card")).to_be_visible()
    page.get_by_role("button", name="Call me now").click()
    expect(page.locator("#messages")).to_contain_text("We have your request")
    expect(page.locator("[data-status=queued]")).to_be_visible()
