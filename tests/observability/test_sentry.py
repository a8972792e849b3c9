"""Sentry: nothing without SENTRY_DSN; with it, error reports with the Django and Celery
integrations and no personal data, sent to the DSN's server."""

from __future__ import annotations

import gzip
import http.server
import os
import subprocess
import sys
import threading

import sentry_sdk
from django.conf import settings

REPORT = """
import logging, django, sentry_sdk
django.setup()
client = sentry_sdk.get_client()
print("integrations:", sorted(client.integrations))
print("pii:", client.options["send_default_pii"])
logging.getLogger("health").error("could not reach seller5@example.com at +48 512 345 678")
sentry_sdk.flush(timeout=5)
"""


def test_without_a_dsn_nothing_is_started() -> None:
    assert settings.SENTRY_ENABLED is False
    assert not sentry_sdk.get_client().is_active()


def test_with_a_dsn_errors_are_reported_without_personal_data() -> None:
    received: list[bytes] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            encoding = self.headers.get("Content-Encoding")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "br":
                import brotli

                body = brotli.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "aha_site.settings",
            "SENTRY_DSN": f"http://publickey@127.0.0.1:{server.server_port}/1",
        }
        result = subprocess.run(
            [sys.executable, "-c", REPORT],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert "'celery'" in result.stdout and "'django'" in result.stdout
    assert "pii: False" in result.stdout
    reports = b"".join(received).decode()
    assert "could not reach [redacted] at [redacted]" in reports
    assert "example.com" not in reports and "512 345" not in reports
