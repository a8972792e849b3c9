"""The seller's pages and emails in Polish: store names, numbers, agreement, and the forms'
accessibility (refused input kept, marked invalid, its message linked)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Language, Marketplace, StoreStatus
from health.eligibility import CALLBACK_LIMIT_PERIOD, MAX_CALLBACKS_PER_DAY
from health.emails import render_email
from health.models import (
    AHACase,
    CallbackRequest,
    CallbackStatus,
    EmailKind,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    HealthState,
    OutboxEmail,
)
from health.services import callbacks
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account
from tests.health.dashboard_data import add_history, add_violations, open_case
from tests.health.test_outbox import SAMPLE_CONTEXTS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_language_after():
    """A Polish request leaves Polish active in this thread: the tests after expect English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


ENGLISH_NAMES = [
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
]
POLISH_NAMES = {"PL": "Polska", "DE": "Niemcy", "US": "Stany Zjednoczone"}
NBSP = "\xa0"


class _Ids(HTMLParser):
    """Every id on a page, and every id an aria-describedby names."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[tuple[str, str]] = []
        self.invalid: set[str] = set()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"])
        for name in (found.get("aria-describedby") or "").split():
            self.described_by.append((found.get("id") or tag, name))
        if found.get("aria-invalid") == "true" and found.get("id"):
            self.invalid.add(found["id"])
        if tag == "input" and found.get("id"):
            self.values[found["id"]] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        pass


def read(html: str) -> _Ids:
    parsed = _Ids()
    parsed.feed(html)
    return parsed


def assert_described_by_ids_exist(html: str) -> _Ids:
    parsed = read(html)
    missing = [(owner, name) for owner, name in parsed.described_by if name not in parsed.ids]
    assert not missing, f"aria-describedby names ids that do not exist: {missing}"
    return parsed


@pytest.fixture
def polish_seller():
    seller = make_seller(phone=PHONE, language=Language.POLISH)
    accounts = {code: make_store_account(seller=seller, marketplace=code) for code in POLISH_NAMES}
    return seller, accounts


@pytest.fixture
def polish_client(client, polish_seller):
    seller, _accounts = polish_seller
    user = make_seller_user(seller=seller)
    user.language = Language.POLISH
    user.save()
    client.force_login(user)
    return client


def get(client, name: str, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def assert_no_english_store_name(html: str) -> None:
    text = re.sub(r"<[^>]+>", " ", html)
    for name in ENGLISH_NAMES:
        assert name not in text, f"{name!r} shown on a Polish page"


# --- store names ---------------------------------------------------------------------------


def test_polish_pages_name_every_store_in_polish(polish_client, polish_seller):
    _seller, accounts = polish_seller
    pl = accounts["PL"]
    open_case(pl)
    pages = [
        get(polish_client, "accounts:home"),
        *(get(polish_client, "health:dashboard", account.pk) for account in accounts.values()),
        get(polish_client, "health:timeline", pl.pk),
        get(polish_client, "health:emergency_contact", pl.pk),
        get(polish_client, "health:seller_timeline"),
    ]
    for html in pages:
        assert_no_english_store_name(html)
    home, dashboard = pages[0], pages[1]
    for name in POLISH_NAMES.values():
        assert name in home
    assert "Kondycja konta: Polska" in dashboard
    # The emergency contact's country list names the seller's stores in Polish too.
    assert ">Niemcy</option>" in pages[-2]


def test_display_name_follows_the_active_language():

    poland = Marketplace.objects.get(code="PL")
    with translation.override("pl"):
        assert poland.display_name == "Polska"
    with translation.override("en"):
        assert poland.display_name == "Poland"
    # Every store has its Polish name (Australia is spelt the same).
    with translation.override("pl"):
        shown = {market.code: market.display_name for market in Marketplace.objects.all()}
    assert len(shown) == len(ENGLISH_NAMES)
    assert not [name for code, name in shown.items() if name in ENGLISH_NAMES and code != "AU"]


# The seller emails about one store (the operators' stale-runs email is in English only).
STORE_EMAILS = [
    kind
    for kind in EmailKind.values
    if kind != EmailKind.STALE_RUNS
    and "marketplace_name"
    in Path(settings.BASE_DIR, "templates/emails/pl", f"{kind}.txt").read_text()
]


def us_store_email(kind: str, language: str) -> str:
    """The subject and body of a seller's email about a store in the United States."""
    seller = make_seller(language=language)
    store_account = make_store_account(seller=seller, marketplace="US")
    email = OutboxEmail(
        key=f"{kind}:x",
        kind=kind,
        seller=seller,
        store_account=store_account,
        language=language,
        context=SAMPLE_CONTEXTS[kind],
    )
    subject, body = render_email(email)
    return f"{subject}\n{body}"


@pytest.mark.parametrize("kind", STORE_EMAILS)
def test_every_polish_email_names_its_store_in_polish_and_grammatically(kind: str):
    text = us_store_email(kind, "pl")
    for name in ENGLISH_NAMES:
        assert name not in text
    # A country's nominative after "w sklepie" (locative) is not Polish: "sklep: X" is.
    assert "sklepie Stany" not in " ".join(text.split())
    assert "Stany Zjednoczone" in text


ENGLISH_EMAILS = [
    kind
    for kind in STORE_EMAILS
    if "in {{ marketplace_in_sentence }}"
    in " ".join(Path(settings.BASE_DIR, "templates/emails/en", f"{kind}.txt").read_text().split())
]


@pytest.mark.parametrize("kind", ENGLISH_EMAILS)
def test_every_english_email_puts_the_article_before_a_country_that_takes_one(kind: str):
    text = " ".join(us_store_email(kind, "en").split())
    assert "in the United States" in text
    assert "in United States" not in text


def test_english_emails_cover_every_store_email_that_names_where_the_store_is():
    # Guards the parametrised test above against an empty list.
    assert {"enrolled", "removed", "deactivated", "case_opened"} <= set(ENGLISH_EMAILS)


def test_english_dashboard_names_the_country_as_a_sentence_does(client):
    seller = make_seller(phone=PHONE)
    us = make_store_account(seller=seller, marketplace="US")
    de = make_store_account(seller=seller, marketplace="DE")
    client.force_login(make_seller_user(seller=seller))
    assert "Account Health in the United States" in get(client, "health:dashboard", us.pk)
    assert "Account Health in Germany" in get(client, "health:dashboard", de.pk)
    assert "Timeline of your store in the United States" in get(client, "health:timeline", us.pk)


def test_stores_are_listed_by_the_name_the_seller_reads(client):
    seller = make_seller(phone=PHONE, language=Language.POLISH)
    uk = make_store_account(seller=seller, marketplace="UK")
    make_store_account(seller=seller, marketplace="US")
    user = make_seller_user(seller=seller)
    user.language = Language.POLISH
    user.save()
    client.force_login(user)
    html = get(client, "health:dashboard", uk.pk)
    start = html.index('class="store-switcher"')
    nav = html[start : html.index("</nav>", start)]
    shown = re.findall(r'>([^<>]+) <span class="muted">', nav)
    # In English United Kingdom comes first; in Polish Stany Zjednoczone before Wielka Brytania.
    assert shown == ["Stany Zjednoczone", "Wielka Brytania"]


# --- numbers -------------------------------------------------------------------------------


def _with_orders(store_account, orders: int) -> None:
    add_history(store_account, days=10)
    HealthState.objects.filter(store_account=store_account).update(orders_in_window=orders)


def test_order_count_is_grouped_in_each_language(client):
    account = make_store_account(seller=make_seller(), marketplace="PL")
    _with_orders(account, 6776)
    user = make_seller_user(seller=account.seller)
    client.force_login(user)
    assert "6,776 orders in the last 180 days" in get(client, "health:dashboard", account.pk)
    user.language = Language.POLISH
    user.save()
    assert f"Zamówienia z ostatnich 180 dni: 6{NBSP}776." in get(
        client, "health:dashboard", account.pk
    )


def test_ids_and_form_values_in_attributes_are_never_grouped(polish_client, polish_seller):
    _seller, accounts = polish_seller
    account = accounts["PL"]
    _with_orders(account, 6776)
    case = open_case(account)
    AHACase.objects.filter(pk=case.pk).update(id=12345)
    url = reverse("health:dashboard", args=[account.pk])
    html = polish_client.get(url).content.decode()
    assert 'id="case-12345"' in html
    assert '<option value="12345"' in html
    assert "/cases/12345/plan/" in html
    # A what-if's number field gets back a value the browser can read: no grouping, a dot.
    add_violations(account, 1)
    html = polish_client.get(url, {"orders": "1234.5"}).content.decode()
    assert 'name="orders" id="what-if-orders"' in html
    assert 'value="1234.5"' in html


# --- agreement -----------------------------------------------------------------------------


def test_polish_callback_state_agrees_with_the_request(polish_client, polish_seller):
    seller, accounts = polish_seller
    CallbackRequest.objects.create(
        seller=seller,
        phone=PHONE,
        status=CallbackStatus.CANCELLED,
        finished_at=timezone.now(),
    )
    html = get(polish_client, "health:dashboard", accounts["PL"].pk)
    assert "Twoja ostatnia prośba: Anulowana" in html


def test_polish_store_status_agrees_with_the_store_account(polish_client, polish_seller):
    _seller, accounts = polish_seller
    account = accounts["PL"]
    add_history(account, days=10, ahr=150)
    account.status = StoreStatus.AT_RISK
    account.save()
    html = get(polish_client, "health:dashboard", account.pk)
    # The band agrees with the rating (wskaźnik), the status with the account (konto).
    assert '<span class="ahr-band">Zagrożony</span>' in html
    assert "Konto sprzedawcy:" in html
    assert '<span class="status status-at_risk">Zagrożone</span>' in html


def test_language_switcher_names_each_language_in_itself(polish_client, polish_seller):
    _seller, accounts = polish_seller
    polish = get(polish_client, "health:dashboard", accounts["PL"].pk)
    english = get(Client(), "accounts:login")
    for html in (polish, english):
        assert re.search(r'<option value="en"[^>]*>English</option>', html)
        assert re.search(r'<option value="pl"[^>]*>Polski</option>', html)


# --- refused input, aria-invalid and aria-describedby --------------------------------------


def test_emergency_contact_help_and_refusal_are_linked(polish_client, polish_seller):
    _seller, accounts = polish_seller
    url = reverse("health:emergency_contact", args=[accounts["PL"].pk])
    assert_described_by_ids_exist(polish_client.get(url).content.decode())
    response = polish_client.post(url, {"region": "PL", "phone": "12"})
    parsed = assert_described_by_ids_exist(response.content.decode())
    assert "id_phone" in parsed.invalid
    assert parsed.values["id_phone"] == "12"
    assert ("id_phone", "id_phone_error") in parsed.described_by


def _plan_refused(client, url: str) -> _Ids:
    assert_described_by_ids_exist(client.get(url).content.decode())
    typed = {"root_cause": "too short", "actions_taken": "", "prevention": "x" * 30}
    response = client.post(url, typed)
    assert response.status_code == 200
    parsed = assert_described_by_ids_exist(response.content.decode())
    assert {"id_root_cause", "id_actions_taken"} <= parsed.invalid
    assert ("id_root_cause", "id_root_cause_error") in parsed.described_by
    assert "too short</textarea>" in response.content.decode()
    return parsed


def test_plan_of_action_refusal_keeps_the_text_and_links_its_message(polish_client, polish_seller):
    _seller, accounts = polish_seller
    case = open_case(accounts["PL"])
    _plan_refused(
        polish_client, reverse("health:plan_of_action", args=[accounts["PL"].pk, case.pk])
    )


def test_appeal_refusal_keeps_the_text_and_links_its_message(polish_client, polish_seller):
    _seller, accounts = polish_seller
    account = accounts["PL"]
    enforcement = Enforcement.objects.create(
        store_account=account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=account.opened_on,
        status=EnforcementStatus.DEACTIVATED,
    )
    _plan_refused(polish_client, reverse("health:appeal", args=[account.pk, enforcement.pk]))
    assert not enforcement.appeals.exists()


def _press(client, account, data: dict, **headers):
    url = reverse("health:request_callback", args=[account.pk])
    return client.post(url, data, headers=headers)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_refused_call_me_now_number_stays_in_its_field(polish_client, polish_seller, htmx):
    _seller, accounts = polish_seller
    headers = {"HX-Request": "true"} if htmx else {}
    response = _press(polish_client, accounts["PL"], {"phone": "12", "topic": "Pomoc"}, **headers)
    assert response.status_code == 200
    html = response.content.decode()
    parsed = assert_described_by_ids_exist(html)
    assert parsed.values["id_phone"] == "12"
    assert parsed.values["id_topic"] == "Pomoc"
    assert "id_phone" in parsed.invalid
    assert ("id_phone", "id_phone_error") in parsed.described_by
    assert ("id_phone", "id_phone_helptext") in parsed.described_by
    # The refusal names the country, in Polish and in the nominative.
    assert "(kraj: Polska)" in html
    assert not CallbackRequest.objects.exists()


def test_set_password_help_and_refusal_are_linked(client):
    user = make_seller_user(seller=make_seller())
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    url = reverse(
        "accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(user)]
    )
    form = client.get(url, follow=True)
    assert_described_by_ids_exist(form.content.decode())
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "other"}
    )
    parsed = assert_described_by_ids_exist(response.content.decode())
    assert "id_new_password2" in parsed.invalid


# --- the callback limit in the store's time zone --------------------------------------------


def test_callback_limit_is_given_in_the_stores_time_zone_not_utc(client):
    account = make_store_account(seller=make_seller(phone=PHONE), marketplace="US")
    user = make_seller_user(seller=account.seller)
    for _ in range(MAX_CALLBACKS_PER_DAY):
        callback = callbacks.request_callback(seller=account.seller, phone=None, topic="", by=user)
        callbacks.cancel_callback(callback=callback, by=user)
    first = CallbackRequest.objects.order_by("created_at").first()
    client.force_login(user)
    html = _press(client, account, {}, **{"HX-Request": "true"}).content.decode()
    assert "(America/Los_Angeles)" in html
    assert "UTC" not in html
    allowed_again = (first.created_at + CALLBACK_LIMIT_PERIOD).astimezone(account.marketplace.zone)
    assert allowed_again.strftime("%H:%M") in html or allowed_again.strftime("%-I:%M") in html


def test_callback_limit_without_a_store_given_uses_the_sellers_first_store_zone():
    account = make_store_account(seller=make_seller(phone=PHONE), marketplace="JP")
    user = make_seller_user(seller=account.seller)
    for _ in range(MAX_CALLBACKS_PER_DAY):
        callback = callbacks.request_callback(seller=account.seller, phone=None, topic="", by=user)
        callbacks.cancel_callback(callback=callback, by=user)
    with pytest.raises(ValidationError) as refused:
        callbacks.request_callback(seller=account.seller, phone=None, topic="", by=user)
    assert "(Asia/Tokyo)" in refused.value.messages[0]


# --- htmx's indicator ----------------------------------------------------------------------


def test_htmx_indicator_rules_come_from_the_stylesheet_not_inline():
    css = Path(settings.BASE_DIR, "static/css/site.css").read_text()
    assert re.search(r"\.htmx-indicator\s*\{[^}]*opacity:\s*0", css)
    assert re.search(r"\.htmx-request\s+\.htmx-indicator", css)
    base = Path(settings.BASE_DIR, "templates/base.html").read_text()
    assert '"includeIndicatorStyles": false' in base


def test_a_rejected_appeal_gives_its_time_in_the_stores_zone_named(polish_client, polish_seller):
    _seller, accounts = polish_seller
    account = accounts["US"]
    Enforcement.objects.create(
        store_account=account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=account.opened_on,
        status=EnforcementStatus.REJECTED,
        decided_at=timezone.now(),
    )
    account.status = StoreStatus.DEACTIVATED
    account.save()
    html = get(polish_client, "health:dashboard", account.pk)
    banner = html[html.index('<section class="banner') : html.index("</section>")]
    assert "odrzucone:" in banner
    assert "(America/Los_Angeles)" in banner


def test_plan_of_action_says_how_long_each_part_is_in_the_pages_numbers(
    polish_client, polish_seller
):
    _seller, accounts = polish_seller
    account = accounts["PL"]
    case = open_case(account)
    html = get(polish_client, "health:plan_of_action", account.pk, case.pk)
    assert f"od 20 do 4{NBSP}000 znaków" in html
    assert "None" not in html
