"""In real Chromium at 1280 px: a specialist works a case from the "breaching within 4 hours"
view (opens it, calls the number from the panel, records the contact with a snippet, marks it
engaged with a note), the seller's dashboard shows it, and the callback queue shows a new
request without a reload. Every queue fits the window; screenshots go to screenshots/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Marketplace
from health.eligibility import RemovalReason
from health.models import (
    AHACase,
    CaseStatus,
    ContactAttempt,
    DayCloseRun,
    Enforcement,
    OutboxEmail,
    RunStatus,
    Severity,
    SnippetKind,
    TextSnippet,
)
from health.services import callbacks, enrollment, protection
from tests.browser.chromium import CHROMIUM_ARGS
from tests.browser.test_specialist_claims_callback import enter_code, sign_in
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.test_admin import enroll, make_specialist, open_case
from tests.security.two_factor import confirmed_device

SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"
WIDTH, HEIGHT = 1280, 900
PHONE_E164 = "+48512345678"
QUEUES = [
    "health_ahacase",
    "health_callbackrequest",
    "accounts_storeaccount",
    "health_violation",
    "health_enforcement",
    "health_outboxemail",
    "health_auditentry",
    "health_daycloserun",
    "health_enrollmentevent",
]


def due_in(case: AHACase, hours: float) -> AHACase:
    AHACase.objects.filter(pk=case.pk).update(
        deadline_at=timezone.now() + dt.timedelta(hours=hours)
    )
    return case


def a_busy_queue() -> AHACase:
    """Cases due at every urgency, in stores of several zones; returns the one breaching."""
    for hours, marketplace in [(30, "US"), (60, "JP"), (12, "DE"), (-2, "UK")]:
        seller = make_seller(name=f"Handel {marketplace}", phone=PHONE_E164)
        due_in(open_case(make_store_account(seller=seller, marketplace=marketplace)), hours)
    seller = make_seller(name="Sklep Kowalski", phone=PHONE_E164)
    case = open_case(make_store_account(seller=seller, marketplace="PL"))
    for n in range(3):
        other = make_seller(name=f"Sprzedawca {n}", phone=PHONE_E164)
        make_store_account(seller=other, marketplace="PL")
        callbacks.request_callback(seller=other, phone=None, topic="AHA case question", by=None)
    every_other_queue_with_rows()
    return due_in(case, 3)


def every_other_queue_with_rows() -> None:
    """An appealed deactivation, a removal and a closed night, so every queue has a row."""
    unprotected = make_store_account(seller=make_seller(name="Sklep Bez Ochrony"), marketplace="PL")
    protection.record_violation(
        store_account=unprotected,
        category="authenticity",
        severity=Severity.CRITICAL,
        scope="store",
        deactivation_level=True,
        detected_at=timezone.now() - dt.timedelta(hours=1),
    )
    protection.appeal_enforcement(
        enforcement=Enforcement.objects.get(store_account=unprotected),
        root_cause="r" * 30,
        actions_taken="a" * 30,
        prevention="p" * 30,
        by=None,
    )
    barred = enroll(make_store_account(seller=make_seller(name="Sklep Zablokowany")))
    enrollment.remove_from_aha(
        store_account=barred, reason=RemovalReason.R6, by=None, note="Licence revoked"
    )
    DayCloseRun.objects.create(
        marketplace=Marketplace.objects.get(code="PL"),
        day=timezone.now().date() - dt.timedelta(days=1),
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        counts={"closed": 1200, "enrolled": 3, "removed": 1, "waiting": 0, "emails": 4},
    )


def fits_the_window(page) -> bool:
    """No sideways scrolling: not of the page, nor of a box inside it (the admin's results)."""
    return page.evaluate(
        """document.scrollingElement.scrollWidth <= window.innerWidth &&
        [...document.querySelectorAll("#changelist .results, #content-main, #content")]
            .every((box) => box.scrollWidth <= box.clientWidth + 1)"""
    )


def has_the_admins_form_styles(page) -> bool:
    """The action page extends the admin's templates: forms.css gives its submit row a box."""
    style = page.evaluate(
        "(({display, borderTopStyle}) => display + ' ' + borderTopStyle)("
        "getComputedStyle(document.querySelector('.submit-row')))"
    )
    return style == "flex solid"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_specialist_works_a_breaching_case_and_the_queue_refreshes_itself(
    live_server, chromium_path: str, settings
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.QUEUE_REFRESH_SECONDS = 2
    case = a_busy_queue()
    seller_user = make_seller_user(seller=case.store_account.seller)
    TextSnippet.objects.create(
        title="Reached, explained the deadline",
        kind=SnippetKind.CONTACT,
        text="Called the seller and explained the 72-hour deadline.",
    )
    specialist = make_specialist()
    device = confirmed_device(specialist)
    url = live_server.url
    SCREENSHOTS.mkdir(exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            admin = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
            sign_in(admin, url + reverse("admin:login"), specialist.username)
            enter_code(admin, device)

            # From the view, open the case.
            admin.goto(url + reverse("admin:health_ahacase_changelist") + "?view=breaching")
            expect(admin.locator("#result_list")).to_contain_text("under 4 h")
            admin.screenshot(path=str(SCREENSHOTS / "back-office-cases.png"))
            admin.locator(f"#result_list a[href*='/ahacase/{case.pk}/change/']").first.click()
            admin.wait_for_load_state()

            # The panel's number is one press away.
            tel = admin.locator("#seller-panel a.tel-link")
            expect(tel).to_have_attribute("href", f"tel:{PHONE_E164}")
            admin.screenshot(path=str(SCREENSHOTS / "back-office-case.png"))
            assert fits_the_window(admin)

            # Record the contact attempt with a snippet.
            admin.get_by_role("link", name="Record a contact attempt").click()
            admin.select_option("select[name=channel]", "phone")
            admin.select_option("select[name=outcome]", "reached")
            admin.select_option(
                "select[name=snippet]",
                label="Contact-attempt note: Reached, explained the deadline (en)",
            )
            admin.fill("textarea[name=note]", "Seller will send the plan tonight.")
            assert fits_the_window(admin)
            assert has_the_admins_form_styles(admin)
            admin.locator("input[name=apply]").click()
            expect(admin.locator(".messagelist")).to_contain_text("Record a contact attempt: done")

            # Mark it engaged with a note.
            admin.get_by_role("link", name="Mark engaged (talked to the seller)").click()
            admin.fill("textarea[name=note]", "Talked through the plan of action.")
            admin.locator("input[name=apply]").click()
            expect(admin.locator(".messagelist")).to_contain_text("done")
            expect(admin.locator("#activity")).to_contain_text("Marked the AHA case engaged")

            # The seller, in a browser of their own, sees it on the dashboard.
            seller_page = browser.new_context().new_page()
            sign_in(seller_page, url + reverse("accounts:login"), seller_user.username)
            seller_page.goto(url + reverse("health:dashboard", args=[case.store_account.pk]))
            expect(seller_page.locator("body")).to_contain_text(
                "You have engaged; a specialist is working on it with you."
            )

            # The callback queue shows a new request without a reload.
            admin.goto(url + reverse("admin:health_callbackrequest_changelist"))
            admin.screenshot(path=str(SCREENSHOTS / "back-office-callbacks.png"))
            latecomer = make_seller(name="Nowy Sprzedawca", phone=PHONE_E164)
            make_store_account(seller=latecomer, marketplace="PL")
            callbacks.request_callback(seller=latecomer, phone=None, topic="", by=None)
            admin.evaluate("window.notReloaded = true")
            expect(admin.locator("#result_list")).to_contain_text("Nowy Sprzedawca", timeout=10_000)
            assert admin.evaluate("window.notReloaded") is True

            # Every queue with rows fits 1280 px without sideways scrolling.
            for model in QUEUES:
                every = "?state=all" if model == "health_ahacase" else ""
                admin.goto(url + reverse(f"admin:{model}_changelist") + every)
                assert admin.locator("#result_list tbody tr").count() > 0, model
                assert fits_the_window(admin), model

            # An email as the seller received it, and another action page, fit and keep styles.
            email = OutboxEmail.objects.filter(store_account=case.store_account).first()
            admin.goto(url + reverse("admin:health_outboxemail_change", args=[email.pk]))
            expect(admin.locator("#email-as-received .email-body")).to_contain_text("AHA case")
            assert fits_the_window(admin)
            admin.screenshot(path=str(SCREENSHOTS / "back-office-email.png"))
            act = reverse(
                "admin:accounts_storeaccount_act", args=[case.store_account.pk, "record_violation"]
            )
            admin.goto(url + act)
            expect(admin.locator("#action-preview")).to_contain_text("is protected")
            assert fits_the_window(admin)
            assert has_the_admins_form_styles(admin)

            # The same case page in Polish, by the specialist's language.
            specialist.language = "pl"
            specialist.save(update_fields=["language"])
            admin.goto(url + reverse("admin:health_ahacase_change", args=[case.pk]))
            expect(admin.locator("#seller-panel")).to_contain_text("Numer, na który mamy zadzwonić")
            admin.screenshot(path=str(SCREENSHOTS / "back-office-case-pl.png"))
            assert fits_the_window(admin)
        finally:
            browser.close()

    case.refresh_from_db()
    assert case.status == CaseStatus.ENGAGED
    attempt = ContactAttempt.objects.get(case=case, channel="phone")
    assert attempt.note.startswith("Called the seller and explained the 72-hour deadline.")
    assert "Seller will send the plan tonight." in attempt.note
