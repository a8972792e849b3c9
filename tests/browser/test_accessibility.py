"""axe-core in real Chromium on every seller page, at desktop and phone width, in English and
Polish: no result of impact serious or critical. The pages are those of the demo data, so every
state a store account can be in is checked (its banner, its AHA card, its chart).

axe-core comes from the npm registry through package-lock.json (the `axe_source` fixture).
It is run with page.evaluate, a DevTools evaluation rather than a script element, which the
pages' Content-Security-Policy (no inline script) does not govern: the pages are checked with
their real CSP in force, not a context that bypasses it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from accounts.models import StoreAccount
from health.models import AHACase, Enforcement, EnforcementStatus, Violation
from tests.browser.test_seller_dashboard import DESKTOP, PHONE
from tests.browser.test_seller_demo_states import DEMO_STATES, demo, sign_in  # noqa: F401

LANGUAGES = ("en", "pl")
SEVERE = ("serious", "critical")
AXE_RUN = """async (severe) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((found) => severe.includes(found.impact))
    .map((found) => ({
      rule: found.id,
      impact: found.impact,
      help: found.help,
      nodes: found.nodes.slice(0, 3).map((node) => `${node.target}: ${node.failureSummary}`),
    }));
}"""


@dataclass
class Findings:
    """What axe found, page by page, so one run reports every page at once."""

    axe_source: str
    pages: int = 0
    found: list[str] = field(default_factory=list)

    def check(self, page, where: str) -> None:
        """axe on the page as loaded, at both widths."""
        page.wait_for_load_state()
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            self.pages += 1
            for result in page.evaluate(AXE_RUN, list(SEVERE)):
                self.found.append(f"{where} at {viewport['width']}: {result}")


def choose_language(page, language: str) -> None:
    """The language switcher in the page's header, as a seller would use it."""
    if page.locator("html").get_attribute("lang") == language:
        return
    page.select_option("#language-select", language)
    page.locator(".language-switcher [type=submit]").click()
    page.wait_for_load_state()


def seller_pages(username: str) -> list[tuple[str, str]]:
    """The pages a demo seller has: home, each store's dashboard, and for the store with an
    open case (or an enforcement) its violation, plan of action, appeal, contact and timelines."""
    stores = list(StoreAccount.objects.filter(seller__users__username=username).order_by("pk"))
    pages = [("home", reverse("accounts:home"))]
    pages += [
        (f"dashboard {s.marketplace_id}", reverse("health:dashboard", args=[s.pk])) for s in stores
    ]
    for store in stores:
        violation = Violation.objects.filter(store_account=store).order_by("pk").first()
        if violation is not None:
            pages.append(("violation", reverse("health:violation", args=[store.pk, violation.pk])))
        case = AHACase.objects.filter(store_account=store).order_by("pk").first()
        if case is not None:
            pages.append(
                ("plan of action", reverse("health:plan_of_action", args=[store.pk, case.pk]))
            )
        enforcement = (
            Enforcement.objects.filter(store_account=store, status=EnforcementStatus.DEACTIVATED)
            .order_by("pk")
            .first()
        )
        if enforcement is not None:
            pages.append(("appeal", reverse("health:appeal", args=[store.pk, enforcement.pk])))
    first = stores[0]
    pages += [
        ("emergency contact", reverse("health:emergency_contact", args=[first.pk])),
        ("timeline", reverse("health:timeline", args=[first.pk])),
        ("seller timeline", reverse("health:seller_timeline")),
    ]
    return pages


def check_signed_out_pages(browser, base_url: str, findings: Findings, language: str) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(base_url + reverse("accounts:login"))
    choose_language(page, language)
    findings.check(page, f"{language} login")
    page.goto(base_url + reverse("accounts:password_reset"))
    findings.check(page, f"{language} password reset")
    page.fill("input[name=email]", "nobody@example.com")
    page.locator("form:has(input[name=email]) [type=submit]").click()
    findings.check(page, f"{language} password reset sent")
    page.context.close()


def check_seller(browser, base_url: str, findings: Findings, username: str, language: str) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, base_url, username)
    choose_language(page, language)
    for name, url in seller_pages(username):
        page.goto(base_url + url)
        findings.check(page, f"{language} {username} {name}")
    # The sign-in page saying "You are signed out".
    page.get_by_role("button", name="Sign out" if language == "en" else "Wyloguj").click()
    findings.check(page, f"{language} {username} signed out")
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_axe_finds_nothing_serious_on_any_seller_page(live_server, browser, demo, axe_source):  # noqa: F811
    findings = Findings(axe_source)
    usernames = list(dict.fromkeys(shown.username for shown in DEMO_STATES))
    for language in LANGUAGES:
        check_signed_out_pages(browser, live_server.url, findings, language)
        for username in usernames:
            check_seller(browser, live_server.url, findings, username, language)
    assert findings.pages >= 2 * 2 * 20, findings.pages
    assert not findings.found, "\n".join(findings.found)
