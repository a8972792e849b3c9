"""The browser every browser test drives."""

from __future__ import annotations

import pytest

from tests.browser.chromium import CHROMIUM_ARGS


@pytest.fixture
def browser(chromium_path):
    """Chromium for one test, started after the test's database is set up.

    Function scope on purpose: Playwright's sync API switches this thread into a greenlet with
    a context of its own, and Django keeps its connections per context. A browser started before
    a transactional test's set-up (module or session scope) leaves that test on another
    connection object than the one holding the serialized migrated data, so the data is not
    restored and every later test finds no marketplaces."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
