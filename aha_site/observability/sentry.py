"""Error reports to Sentry when SENTRY_DSN is set; nothing at all when it is not."""

from __future__ import annotations

from typing import Any

from aha_site.observability.logs import REQUEST_ID, redact


def init_sentry(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Start the SDK with the Django and Celery integrations and personal data off."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No user emails, addresses, cookies or request bodies in a report.
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=tag_and_redact,
    )
    return True


def tag_and_redact(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Tag the report with the request id of the log lines, and redact its messages."""
    request_id = REQUEST_ID.get()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    for entry in (event.get("logentry"), event.get("message")):
        if isinstance(entry, dict) and isinstance(entry.get("message"), str):
            entry["message"] = redact(entry["message"])
            entry.pop("params", None)
        elif isinstance(entry, str):
            event["message"] = redact(entry)
    for exception in (event.get("exception") or {}).get("values", []):
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
    return event
