"""What every browser test shares: Debian's Chromium with the flags this machine needs, and a free
port for the live server."""

from __future__ import annotations

import os
import socket

# Playwright's sync API runs an event loop in this thread; the ORM calls here are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port(first: int = 8100, last: int = 8299) -> int:
    for port in range(first, last + 1):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for the live server")


os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", f"localhost:{free_port()}")
