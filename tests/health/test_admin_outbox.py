"""The outbox shows each email as the seller received it: subject and body in the language it
was sent in, from the sender's own renderer; the raw row only under "technical details"."""

from __future__ import annotations

import pytest

from accounts.passwords import invite_user
from health.models import EmailKind, OutboxEmail
from health.services.outbox import queue_email, send_email
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.test_admin import change_url, changelist, client_for, make_specialist

pytestmark = pytest.mark.django_db

DEADLINE = "2026-11-26T13:00:00+00:00"


def reminder(*, language: str, marketplace: str = "PL") -> OutboxEmail:
    seller = make_seller(name="Sklep Kowalski", language=language)
    store_account = make_store_account(seller=seller, marketplace=marketplace)
    return queue_email(
        kind=EmailKind.CASE_REMINDER,
        key=f"case_reminder:{store_account.pk}:24h",
        seller=seller,
        store_account=store_account,
        context={"case_id": 7, "hours_left": 24, "deadline_at": DEADLINE},
    )


def test_a_polish_email_reads_in_polish_as_sent(mailoutbox) -> None:
    email = reminder(language="pl")
    send_email(email_id=email.pk)
    sent = mailoutbox[0]
    page = client_for(make_specialist()).get(change_url(email)).content.decode()
    assert sent.subject in page
    # The body the seller read, line for line (the page escapes nothing in it but markup).
    for line in sent.body.splitlines():
        assert line.strip() in page
    assert "czwartek 26 listopada 2026, 14:00 (Europe/Warsaw)" in page
    assert "Polish" in page


def test_an_unsent_email_shows_what_will_go_out_and_no_raw_json_up_front() -> None:
    email = reminder(language="en", marketplace="JP")
    page = client_for(make_specialist()).get(change_url(email)).content.decode()
    received = page.index('id="email-as-received"')
    technical = page.index('id="technical-details"')
    assert received < technical
    assert "(Asia/Tokyo)" in page[received:technical]
    assert "Not sent yet" in page[received:technical]
    # The raw context is only in the collapsed technical details.
    assert "&quot;hours_left&quot;" in page[technical:]
    assert "hours_left" not in page[:technical]


def test_the_list_reads_subject_recipient_status_and_time(mailoutbox) -> None:
    email = reminder(language="pl")
    send_email(email_id=email.pk)
    email.refresh_from_db()
    page = client_for(make_specialist()).get(changelist("health_outboxemail")).content.decode()
    assert email.subject in page and email.to in page
    assert "Sent" in page
    assert "UTC" in page and "(Europe/Warsaw)" in page
    assert f">{email.key}<" not in page  # the key is no column of its own


def test_a_set_password_link_is_never_shown_to_staff() -> None:
    user = make_seller_user(seller=make_seller(name="Team Shop"))
    invite_user(user=user)
    email = OutboxEmail.objects.get(kind=EmailKind.INVITE)
    link = email.context["link"]
    client = client_for(make_specialist())
    page = client.get(change_url(email)).content.decode()
    assert "Set your password at this link" in page
    assert link not in page
    assert "one-time link, not shown" in page


def test_an_email_outside_the_specialists_stores_is_404() -> None:
    email = reminder(language="en", marketplace="US")
    client = client_for(make_specialist(limited_to=("PL",)))
    assert client.get(change_url(email)).status_code == 404
    assert email.to not in client.get(changelist("health_outboxemail")).content.decode()


def test_an_email_that_cannot_be_rendered_still_opens() -> None:
    email = reminder(language="en")
    OutboxEmail.objects.filter(pk=email.pk).update(kind="gone_kind")
    response = client_for(make_specialist()).get(change_url(email))
    assert response.status_code == 200
    assert "cannot be shown as sent" in response.content.decode()


def test_an_email_whose_link_cannot_be_built_still_lists_and_opens() -> None:
    seller = make_seller()
    store_account = make_store_account(seller=seller, marketplace="PL")
    email = queue_email(
        kind=EmailKind.APPEAL_REJECTED,
        key=f"appeal_rejected:{store_account.pk}:broken",
        seller=seller,
        store_account=store_account,
        context={"enforcement_id": "not-a-number", "note": "n"},
    )
    client = client_for(make_specialist())
    listing = client.get(changelist("health_outboxemail"))
    assert listing.status_code == 200
    assert "Appeal rejected" in listing.content.decode()
    assert client.get(change_url(email)).status_code == 200
