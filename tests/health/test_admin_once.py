"""Actions say what they will do and do it once: the one-time token of every action form, the
"record a violation" preview, kept notes, internal notes and text snippets."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus
from health.models import (
    AHACase,
    AuditEntry,
    CallbackRequest,
    CaseNote,
    ContactAttempt,
    Enforcement,
    TextSnippet,
    Violation,
)
from health.services import callbacks
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.test_admin import (
    act_url,
    change_url,
    changelist,
    client_for,
    enroll,
    make_specialist,
    messages_of,
    open_case,
    with_token,
)

pytestmark = pytest.mark.django_db

VIOLATION = {
    "category": "authenticity",
    "severity": "critical",
    "scope": "store",
    "deactivation_level": "on",
    "description": "Counterfeit",
}


def state() -> tuple:
    """Every row an action may write."""
    return (
        Violation.objects.count(),
        AHACase.objects.count(),
        Enforcement.objects.count(),
        ContactAttempt.objects.count(),
        CaseNote.objects.count(),
        AuditEntry.objects.count(),
        tuple(AHACase.objects.values_list("status", "assigned_to", "engaged_at").order_by("pk")),
        tuple(CallbackRequest.objects.values_list("status", "claimed_by").order_by("pk")),
        tuple(StoreAccount.objects.values_list("status").order_by("pk")),
    )


def violation_form() -> dict:
    return {**VIOLATION, "detected_at": timezone.now().strftime("%Y-%m-%d %H:%M:%S")}


def objects_and_forms():
    """(object, action, form data) for an object page action of every kind."""
    case = open_case()
    account = make_store_account(seller=make_seller(phone="+48512345678"))
    seller = account.seller
    callback = callbacks.request_callback(
        seller=seller, phone=None, topic="", by=make_seller_user(seller=seller)
    )
    return [
        (case, "assign_case", {}),
        (case, "record_contact_attempt", {"channel": "phone", "outcome": "no_answer", "note": "x"}),
        (case, "mark_engaged", {"note": "Talked"}),
        (case, "add_case_note", {"text": "Owner is on holiday"}),
        (account, "record_violation", violation_form()),
        (callback, "claim_callback", {}),
    ]


def test_every_action_submitted_twice_with_its_form_changes_state_once() -> None:
    client = client_for(make_specialist())
    for obj, action, data in objects_and_forms():
        url = act_url(obj, action)
        sent = with_token(client, url, data)
        before = state()
        assert client.post(url, sent).status_code == 302, action
        after_first = state()
        assert after_first != before, action
        response = client.post(url, sent, follow=True)
        assert state() == after_first, action
        assert any("nothing was changed the second time" in m for m in messages_of(response))


def test_a_changelist_action_submitted_twice_changes_state_once() -> None:
    case = open_case()
    client = client_for(make_specialist())
    data = {"action": "assign_case", ACTION_CHECKBOX_NAME: [case.pk]}
    form = client.post(changelist("health_ahacase"), data)
    assert form.status_code == 200  # "Go" shows what it applies to before anything changes
    assert AHACase.objects.get(pk=case.pk).assigned_to is None
    sent = {**data, "apply": "1", "action_token": form.context["action_token"]}
    client.post(changelist("health_ahacase"), sent)
    entries = AuditEntry.objects.count()
    client.post(changelist("health_ahacase"), sent)
    assert AuditEntry.objects.count() == entries


def test_an_action_without_its_forms_token_changes_nothing() -> None:
    case = open_case()
    client = client_for(make_specialist())
    response = client.post(act_url(case, "mark_engaged"), {"note": "x"})
    assert response.status_code == 200
    assert AHACase.objects.get(pk=case.pk).engaged_at is None
    assert "Nothing was changed" in response.content.decode()


def test_every_action_form_carries_a_token() -> None:
    for model_admin in admin.site._registry.values():
        assert all(spec.name for spec in getattr(model_admin, "specialist_actions", ()))
    client = client_for(make_specialist())
    for obj, action, _data in objects_and_forms():
        page = client.get(act_url(obj, action)).content.decode()
        assert 'name="action_token"' in page, action
        assert "admin/css/forms.css" in page, action  # the admin's form styles


def test_record_a_violation_says_before_saving_what_happens_to_a_protected_store() -> None:
    account = enroll(make_store_account(seller=make_seller(phone="+48512345678")))
    client = client_for(make_specialist())
    page = client.get(act_url(account, "record_violation")).content.decode()
    assert "is protected (enrolled in AHA)" in page and "opens an AHA case" in page
    response = client.post(
        act_url(account, "record_violation"),
        with_token(client, act_url(account, "record_violation"), violation_form()),
        follow=True,
    )
    case = AHACase.objects.get(store_account=account)
    assert any(f"{case} opened" in m for m in messages_of(response))
    assert StoreAccount.objects.get(pk=account.pk).status != StoreStatus.DEACTIVATED


def test_record_a_violation_says_before_saving_that_an_unprotected_store_is_deactivated() -> None:
    account = make_store_account()
    client = client_for(make_specialist())
    page = client.get(act_url(account, "record_violation")).content.decode()
    assert "is not protected" in page and "deactivates it now and emails the seller" in page
    response = client.post(
        act_url(account, "record_violation"),
        with_token(client, act_url(account, "record_violation"), violation_form()),
        follow=True,
    )
    assert StoreAccount.objects.get(pk=account.pk).status == StoreStatus.DEACTIVATED
    assert any("was deactivated now and the seller emailed" in m for m in messages_of(response))


def test_internal_notes_are_on_the_case_page_and_never_on_the_sellers() -> None:
    case = open_case()
    client = client_for(make_specialist())
    url = act_url(case, "add_case_note")
    client.post(url, with_token(client, url, {"text": "Suspect reseller chain"}))
    assert "Suspect reseller chain" in client.get(change_url(case)).content.decode()
    seller = make_seller_user(seller=case.store_account.seller)
    from django.urls import reverse

    from tests.client import Client

    seller_client = Client()
    seller_client.force_login(seller)
    for name in ["health:dashboard", "health:timeline"]:
        html = seller_client.get(reverse(name, args=[case.store_account.pk])).content.decode()
        assert "Suspect reseller chain" not in html


def test_a_snippet_starts_the_contact_attempt_note() -> None:
    snippet = TextSnippet.objects.create(title="Voicemail", text="Left the standard voicemail.")
    case = open_case()
    client = client_for(make_specialist())
    url = act_url(case, "record_contact_attempt")
    assert "Voicemail" in client.get(url).content.decode()
    data = {"channel": "phone", "outcome": "voicemail", "snippet": snippet.pk, "note": "At 9:00"}
    client.post(url, with_token(client, url, data))
    attempt = ContactAttempt.objects.get(case=case, by__isnull=False)
    assert attempt.note == "Left the standard voicemail.\nAt 9:00"


def test_specialists_manage_snippets_in_the_admin() -> None:
    client = client_for(make_specialist())
    response = client.post(
        "/admin/health/textsnippet/add/",
        {"title": "Intro", "kind": "outreach", "language": "pl", "text": "Dzień dobry"},
    )
    assert response.status_code == 302
    assert TextSnippet.objects.filter(title="Intro", language="pl").exists()
