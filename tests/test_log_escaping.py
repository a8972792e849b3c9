"""A newline (or any control character) in user text cannot forge a line in the log."""

from __future__ import annotations

import copy
import io
import logging
import logging.config

import pytest
from django.conf import settings
from django.urls import reverse

from aha_site.log_escaping import EscapeControlCharacters, escape_controls
from tests.client import Client

FORGED = "alice\n2026-12-02 12:00:00,000 INFO django.security login ok for admin"


def test_control_characters_are_written_as_escapes() -> None:
    assert escape_controls("a\nb\rc\td\x00e\x1b[31m\u2028") == "a\\nb\\rc\\td\\x00e\\x1b[31m\\u2028"
    assert escape_controls("Zażółć 東京") == "Zażółć 東京"


@pytest.fixture
def log_output():
    """The project's own logging configuration, its console writing into a buffer."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_a_newline_in_the_login_username_forges_no_line(log_output) -> None:
    Client().post(reverse("accounts:login"), {"username": FORGED, "password": "wrong"})
    lines = log_output.getvalue().splitlines()
    failures = [line for line in lines if "login failure" in line]
    assert failures, lines
    assert all(FORGED.replace("\n", "\\n") in line for line in failures)
    assert not any(
        line.startswith("2026-12-02 12:00:00,000 INFO django.security") for line in lines
    )


def test_arguments_of_every_kind_are_escaped() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s at %d", ("a\nb", 3), None)
    EscapeControlCharacters().filter(record)
    assert record.getMessage() == "user a\\nb at 3"
