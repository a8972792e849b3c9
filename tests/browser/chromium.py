"""What every browser test shares: Debian's Chromium with the flags this machine needs, and a
live server on a port the system picks."""

from __future__ import annotations

import os

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


# Port 0: the system picks a free port when the live server binds (Django's LiveServerThread
# reads it back), so nothing can take it between a probe and the bind.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost:0")
