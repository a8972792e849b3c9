"""Every demo seller login in real Chromium at desktop and phone width: the store that needs
something done shows its banner inside the first viewport, the others show no banner. One
screenshot per state and width goes to screenshots/states/ (committed; the viewport only)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from accounts.models import StoreAccount
from health.demo import seed
from health.demo.seed import DEMO_PASSWORD, SHOWCASES
from tests.browser.test_seller_dashboard import DESKTOP, PHONE

STATES = Path(settings.BASE_DIR) / "screenshots" / "states"


@dataclass(frozen=True)
class Shown:
    """A demo login, the screenshot of its store's dashboard, and the banner it must show."""

    username: str
    screenshot: str
    urgent: str = ""  # the banner's item; "" for none
    marketplace: str = ""  # which of the seller's stores, when it has several


DEMO_STATES = [
    Shown("seller", "open_case", urgent="case", marketplace="US"),
    Shown("seller-warning", "warning", urgent="warning"),
    Shown("seller-deactivated", "deactivated", urgent="appeal_to_make"),
    Shown("seller-at-risk", "at_risk"),
    Shown("seller-unhealthy", "unhealthy", urgent="case"),
    Shown("seller-waiting", "waiting", urgent="contact_missing"),
    Shown("seller-removed", "removed_r1"),
    Shown("seller-barred", "barred"),
    Shown("seller-individual", "individual"),
]


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo as `make run` makes it, with only the showcase sellers of the crowd."""
    monkeypatch.setattr(seed, "SELLER_COUNT", max(SHOWCASES) + 1)
    call_command("seed_demo", stdout=io.StringIO(), verbosity=0)


def sign_in(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def store_of(shown: Shown) -> StoreAccount:
    stores = StoreAccount.objects.filter(seller__users__username=shown.username)
    if shown.marketplace:
        stores = stores.filter(marketplace_id=shown.marketplace)
    return stores.get()


def assert_banner_in_first_viewport(page, shown: Shown, viewport: dict[str, int]) -> None:
    banner = page.locator(".banner")
    assert banner.get_attribute("data-urgent") == shown.urgent, shown.username
    box = banner.bounding_box()
    assert box is not None, shown.username
    assert box["y"] + box["height"] <= viewport["height"], (shown.username, box)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_each_demo_state_shows_its_urgent_item_in_the_first_viewport(
    live_server, browser, demo, viewport
):
    from playwright.sync_api import expect

    width = viewport["width"]
    STATES.mkdir(parents=True, exist_ok=True)
    for shown in DEMO_STATES:
        page = browser.new_context(viewport=viewport).new_page()
        sign_in(page, live_server.url, shown.username)
        if shown.username == "seller":
            expect(page.locator(".home-attention")).to_be_visible()
            page.screenshot(path=str(STATES / f"home-{width}.png"))
        page.goto(live_server.url + reverse("health:dashboard", args=[store_of(shown).pk]))
        expect(page.locator("h1")).to_be_visible()
        if shown.urgent:
            assert_banner_in_first_viewport(page, shown, viewport)
        else:
            assert page.locator(".banner").count() == 0, shown.username
        page.screenshot(path=str(STATES / f"{shown.screenshot}-{width}.png"))
        page.context.close()
