"""In real Chromium: a seller asks to be called, a specialist claims the request in the admin,
and the seller's dashboard shows it claimed without a reload."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import two_factor
from health.models import CallbackRequest, CallbackStatus
from tests.browser.chromium import CHROMIUM_ARGS
from tests.builders import (
    PASSWORD,
    make_seller,
    make_seller_user,
    make_staff_user,
    make_store_account,
)
from tests.security.two_factor import confirmed_device


def sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def enter_code(page, device) -> None:
    """The back office's second step: the code the specialist's authenticator shows now."""
    page.fill("input[name=code]", two_factor.current_code(device))
    page.locator("form:has(input[name=code]) [type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_specialist_claims_a_callback_and_the_seller_sees_it_claimed(
    live_server, chromium_path: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    seller = make_seller(name="Sklep Testowy", phone="+48512345678")
    store_account = make_store_account(seller=seller, marketplace="PL")
    seller_user = make_seller_user(seller=seller)
    specialist = make_staff_user()
    specialist.groups.add(Group.objects.get(name="specialists"))
    device = confirmed_device(specialist)
    dashboard = live_server.url + reverse("health:dashboard", args=[store_account.pk])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            seller_page = browser.new_context().new_page()
            sign_in(seller_page, live_server.url + reverse("accounts:login"), seller_user.username)
            seller_page.goto(dashboard)
            seller_page.get_by_role("button", name="Call me now").click()
            expect(seller_page.locator("[data-status=queued]")).to_be_visible()
            callback = CallbackRequest.objects.get(seller=seller)

            admin = browser.new_context().new_page()
            sign_in(admin, live_server.url + reverse("admin:login"), specialist.username)
            enter_code(admin, device)
            admin.goto(live_server.url + reverse("admin:health_callbackrequest_changelist"))
            admin.check(f"input[name=_selected_action][value='{callback.pk}']")
            admin.select_option("select[name=action]", "claim_callback")
            admin.locator("button[name=index], input[name=index]").first.click()
            # The action's own form says what it applies to, then applies it once.
            admin.locator("input[name=apply]").click()
            expect(admin.locator(".messagelist")).to_contain_text("Claim: done")

            # The dashboard polls the request's state; no reload.
            expect(seller_page.locator("[data-status=claimed]")).to_be_visible(timeout=15_000)
            expect(seller_page.locator("#callback-status")).to_contain_text(
                "A specialist is calling you now"
            )
        finally:
            browser.close()
    callback.refresh_from_db()
    assert (callback.status, callback.claimed_by_id) == (CallbackStatus.CLAIMED, specialist.pk)
