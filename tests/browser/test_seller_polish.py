"""Every seller page in Polish in real Chromium, at desktop and phone width: no store is named
in English, counts read with the Polish thousands separator, and an htmx swap breaks no rule of
the Content-Security-Policy. Screenshots go to screenshots/polish/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Language
from health.models import (
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    HealthState,
)
from tests.builders import PASSWORD, make_seller, make_seller_user, make_store_account
from tests.health.dashboard_data import add_history, add_violations, open_case

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots" / "polish"
ENGLISH_NAMES = (
    "United States",
    "Canada",
    "Mexico",
    "Brazil",
    "United Kingdom",
    "Germany",
    "France",
    "Italy",
    "Spain",
    "Netherlands",
    "Sweden",
    "Poland",
    "Belgium",
    "Türkiye",
    "United Arab Emirates",
    "Saudi Arabia",
    "Egypt",
    "India",
    "Japan",
    "Australia",
    "Singapore",
)
ORDERS = 6776
# Polish groups thousands with a no-break space (Django's Polish THOUSAND_SEPARATOR).
POLISH_ORDERS = re.compile(r"6[\u00a0\u202f ]776")
POLISH_RATE = re.compile(r"1[\u00a0\u202f ]234,5")
# Collects the page's CSP violations before any script of the page runs.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline')
    + ' at ' + event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber
    + ' on ' + (event.target.outerHTML || '').slice(0, 120));
});
"""


@pytest.fixture
def polish_seller():
    seller = make_seller(name="Zielony Ogród", phone="+48 512 345 678", language="pl")
    pl = make_store_account(seller=seller, marketplace="PL")
    de = make_store_account(seller=seller, marketplace="DE")
    us = make_store_account(seller=seller, marketplace="US")
    for account in (pl, de, us):
        add_history(account, days=200, ahr=280, below_every=15)
    HealthState.objects.filter(store_account=pl).update(orders_in_window=ORDERS)
    violation = add_violations(pl, 4)[0]
    case = open_case(pl)
    enforcement = Enforcement.objects.create(
        store_account=de,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=de.opened_on,
        status=EnforcementStatus.DEACTIVATED,
    )
    user = make_seller_user(seller=seller)
    user.language = Language.POLISH
    user.save()
    return {
        "user": user,
        "accounts": (pl, de, us),
        "violation": violation,
        "case": case,
        "enforcement": enforcement,
    }


def seller_pages(data: dict) -> list[tuple[str, str]]:
    pl, de, us = data["accounts"]
    return [
        ("home", reverse("accounts:home")),
        *(
            (f"dashboard-{account.marketplace_id}", reverse("health:dashboard", args=[account.pk]))
            for account in (pl, de, us)
        ),
        ("violation", reverse("health:violation", args=[pl.pk, data["violation"].pk])),
        ("plan-of-action", reverse("health:plan_of_action", args=[pl.pk, data["case"].pk])),
        ("appeal", reverse("health:appeal", args=[de.pk, data["enforcement"].pk])),
        ("emergency-contact", reverse("health:emergency_contact", args=[pl.pk])),
        ("timeline", reverse("health:timeline", args=[pl.pk])),
        ("seller-timeline", reverse("health:seller_timeline")),
    ]


def new_page(browser, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="pl-PL")
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    return page, console


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def shoot(page, name: str, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def assert_polish_page(page) -> str:
    assert page.locator("html").get_attribute("lang") == "pl"
    text = page.locator("body").inner_text()
    for name in ENGLISH_NAMES:
        assert name not in text, f"{name!r} on {page.url}"
    assert not re.search(r"\bNone\b", text), f"an empty value shown as None on {page.url}"
    return text


MISSING_DESCRIPTIONS = """
[...document.querySelectorAll('[aria-describedby]')].flatMap((element) =>
  element.getAttribute('aria-describedby').split(/\\s+/)
    .filter((id) => id && !document.getElementById(id))
    .map((id) => (element.id || element.tagName) + ' -> ' + id))
"""


def csp_violations(page, console: list[str]) -> list[str]:
    logged = [line for line in console if "Content Security Policy" in line]
    return logged + page.evaluate("window.__cspViolations")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_every_seller_page_in_polish_names_stores_and_numbers_in_polish(
    live_server, browser, polish_seller, viewport
):
    page, console = new_page(browser, viewport)
    width = viewport["width"]
    sign_in(page, live_server.url, polish_seller["user"].username)
    for name, path in seller_pages(polish_seller):
        page.goto(live_server.url + path)
        text = assert_polish_page(page)
        assert page.evaluate(MISSING_DESCRIPTIONS) == [], f"aria-describedby on {name}"
        if name == "dashboard-PL":
            assert "Kondycja konta: Polska" in text
            assert POLISH_ORDERS.search(text), "6 776 with the Polish separator"
            assert "6,776" not in text and "6776" not in text
        if name == "home":
            for polish in ("Polska", "Niemcy", "Stany Zjednoczone"):
                assert polish in text
        shoot(page, name, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 390)
    violations = csp_violations(page, console)
    assert not violations, "\n".join(violations)

    # Signing out lands on the Polish sign-in page with its message; then the reset page.
    page.goto(live_server.url + reverse("accounts:home"))
    page.locator("form[action$='/logout/'] [type=submit]").click()
    page.wait_for_load_state()
    assert "Wylogowano." in assert_polish_page(page)
    shoot(page, "sign-in", width)
    page.goto(live_server.url + reverse("accounts:password_reset"))
    assert_polish_page(page)
    assert page.evaluate(MISSING_DESCRIPTIONS) == []
    shoot(page, "password-reset", width)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_htmx_swaps_break_no_csp_rule_and_a_refused_number_stays(
    live_server, browser, polish_seller
):
    from playwright.sync_api import expect

    pl = polish_seller["accounts"][0]
    page, console = new_page(browser, DESKTOP)
    sign_in(page, live_server.url, polish_seller["user"].username)
    page.goto(live_server.url + reverse("health:dashboard", args=[pl.pk]))
    expect(page.locator("body[hx-headers]")).to_be_visible()
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    # Settling copies an element's old attributes onto its new self: a style attribute (one a
    # browser extension added, say) would be applied inline, which the CSP refuses.
    assert "style" not in page.evaluate("htmx.config.attributesToSettle")

    # A refused number: the panel is swapped in, the number kept, marked and explained.
    page.fill("#id_phone", "12")
    page.get_by_role("button", name="Zadzwoń do mnie teraz").click()
    expect(page.locator("#id_phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_phone")).to_have_value("12")
    described = page.locator("#id_phone").get_attribute("aria-describedby").split()
    for element_id in described:
        expect(page.locator(f"#{element_id}")).to_have_count(1)
    expect(page.locator("#id_phone_error")).not_to_be_empty()
    # Playwright's screenshot leaves style="" on every input (it hides the caret), as some
    # browser extensions do: the swaps after it must still apply no inline style.
    page.locator("#callback-status").screenshot(path=str(SCREENSHOTS / "call-me-now-refused.png"))

    # An accepted press, then its cancellation: two more swaps.
    page.fill("#id_phone", "")
    page.get_by_role("button", name="Zadzwoń do mnie teraz").click()
    expect(page.locator("[data-status=queued]")).to_be_visible()
    page.get_by_role("button", name="Anuluj moją prośbę").click()
    expect(page.locator("[data-status=cancelled]")).to_contain_text("Anulowana")
    page.locator("#callback-status").screenshot(path=str(SCREENSHOTS / "call-me-now-cancelled.png"))

    # The what-if: the outlook swapped in place, the trend out of band.
    page.fill("#what-if-orders", "1234.5")
    page.get_by_role("button", name="Pokaż, co by się zmieniło").click()
    expect(page.locator("#what-if-orders")).to_have_value("1234.5")
    expect(page.locator("#outlook")).to_contain_text(POLISH_RATE)
    violations = csp_violations(page, console)
    assert not violations, "\n".join(violations)
