"""The browser tests' live server binds a port the system picks (port 0), not a probed one."""

from __future__ import annotations

import os
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

import tests.browser.chromium  # noqa: F401  (sets the live server's address)


def test_the_live_server_address_asks_the_system_for_a_port() -> None:
    assert os.environ["DJANGO_LIVE_TEST_SERVER_ADDRESS"].endswith(":0")


@pytest.mark.django_db(transaction=True)
def test_the_live_server_serves_on_the_port_it_was_given(live_server) -> None:
    port = urlparse(live_server.url).port
    assert port and port not in range(8100, 8300)
    with urlopen(f"{live_server.url}/healthz/db", timeout=10) as response:  # noqa: S310
        assert response.status == 200
