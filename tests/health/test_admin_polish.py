"""The back office speaks the staff member's language (User.language): a Polish specialist
reads the queues, their columns, filters and counts, the case page and the audit in Polish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import AHACase
from health.services import assignment
from tests.health.test_admin import change_url, changelist, client_for, make_specialist, open_case

pytestmark = pytest.mark.django_db


def polish_specialist():
    specialist = make_specialist()
    specialist.language = "pl"
    specialist.save(update_fields=["language"])
    return specialist


def test_the_index_and_its_queue_counts_read_in_polish() -> None:
    open_case()
    html = client_for(polish_specialist()).get(reverse("admin:index")).content.decode()
    for text in [
        "Stanowisko specjalisty",
        "Praca do wykonania",
        "Otwarte sprawy AHA",
        "Termin mija w ciągu 4 godzin",
        "Odwołania czekające na decyzję",
        "Kondycja konta",
        "Wyloguj",  # Django's own
    ]:
        assert text in html, text
    assert "Work waiting" not in html


def test_the_case_queue_reads_in_polish_columns_filters_and_views() -> None:
    case = open_case()
    AHACase.objects.filter(pk=case.pk).update(deadline_at=timezone.now() + dt.timedelta(hours=20))
    html = client_for(polish_specialist()).get(changelist("health_ahacase")).content.decode()
    for text in ["Sprawy AHA", "Termin", "Pozostały czas", "Przypisano do", "widok", "Moje"]:
        assert text in html, text
    assert "poniżej 24 h: zostało 19 godz." in html
    assert "Deadline" not in html and "Time left" not in html


def test_the_case_page_and_its_audit_read_in_polish() -> None:
    case = open_case()
    specialist = polish_specialist()
    assignment.assign_case(case=case, to=specialist, by=specialist)
    client = client_for(specialist)
    html = client.get(change_url(case)).content.decode()
    for text in [
        "Zapisz próbę kontaktu",
        "Numer, na który mamy zadzwonić",
        "Czas lokalny teraz",
        "Przypisano sprawę AHA",
        "Przyczyna",  # a field's own verbose name
    ]:
        assert text in html, text
    audit = client.get(changelist("health_auditentry")).content.decode()
    assert "Przypisano sprawę AHA" in audit and "Dziennik zdarzeń" in audit


def test_an_english_specialist_still_reads_english() -> None:
    open_case()
    html = client_for(make_specialist()).get(changelist("health_ahacase")).content.decode()
    assert "AHA cases" in html and "Deadline" in html and "Sprawy AHA" not in html
