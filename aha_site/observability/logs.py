"""Log lines an operator can search: JSON lines in production (LOG_FORMAT=json, the default with
DEBUG off), readable lines in development, each with the request id, the user id and the task id
of its context; and never a phone number, an email address or a token, whoever logged them.

Redaction happens where every record is made (a log record factory), so it covers the records of
third-party loggers and reaches every handler alike; the formatters redact tracebacks too."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
USER_ID: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="-")
TASK_ID: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="-")
# The request being answered, so the user id can be read once authentication has loaded it.
REQUEST: contextvars.ContextVar[Any] = contextvars.ContextVar("request", default=None)

REDACTED = "[redacted]"
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers as people write them: +48 512 345 678, +48-512-345-678, +48512345678.
PHONE = re.compile(r"\+\d(?:[\s().-]?\d){6,15}")
# A bearer token, or the value of a field whose name says it is a secret.
SECRET_FIELD = re.compile(
    r"(?i)\b(bearer\s+|(?:token|password|passwd|secret|sessionid|csrftoken|api[_-]?key|otp)"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s\"'&;,]+)"
)
# Long random strings (session keys, API tokens): 32 or more letters and digits with at least four
# of each, which long identifiers (some_function_name) are not; UUIDs (task ids) are kept.
LONG_TOKEN = re.compile(r"\b(?=(?:[A-Za-z_-]*\d){4})(?=(?:[\d_-]*[A-Za-z]){4})[A-Za-z0-9_-]{32,}\b")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with email addresses, phone numbers and tokens replaced by [redacted]."""
    text = EMAIL.sub(REDACTED, text)
    text = PHONE.sub(REDACTED, text)
    text = SECRET_FIELD.sub(lambda match: match.group(1) + REDACTED, text)
    return LONG_TOKEN.sub(lambda m: m.group(0) if UUID.fullmatch(m.group(0)) else REDACTED, text)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_user_id() -> str:
    """The signed-in user's id, if authentication has already loaded the user for this request."""
    request = REQUEST.get()
    if request is None:
        return USER_ID.get()
    # Reading request.user would load the session and the user just to log a line; the user is
    # cached on the request once anything (a view, a middleware) has looked at it.
    user = getattr(request, "_cached_user", None)
    return str(user.pk) if user is not None and user.pk is not None else "-"


def install_record_factory() -> None:
    """Every record made from now on is redacted and carries its context ids."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what was given, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        record.request_id = REQUEST_ID.get()
        record.user_id = current_user_id()
        record.task_id = TASK_ID.get()
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class ContextDefaults(logging.Filter):
    """Fills the context ids on a record made before the factory was installed."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in ("request_id", "user_id", "task_id"):
            if not hasattr(record, name):
                setattr(record, name, "-")
        return True


class ReadableFormatter(logging.Formatter):
    """`time LEVEL logger [request user task] message`, tracebacks redacted."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s"
            " [req=%(request_id)s user=%(user_id)s task=%(task_id)s] %(message)s"
        )

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))


class JsonLinesFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id, user_id, task_id."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(task_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # Fields passed with extra= are kept by the JSON formatter: redact them too.
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in log_data.items()
        }


def logging_config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The LOGGING setting: one console handler in the chosen format."""
    install_record_factory()
    formatter = "json" if json_lines else "readable"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextDefaults},
            # Text from requests (a username, a path) goes into messages: it must not forge lines.
            "escape_controls": {"()": "aha_site.log_escaping.EscapeControlCharacters"},
        },
        "formatters": {
            "json": {"()": JsonLinesFormatter},
            "readable": {"()": ReadableFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["context", "escape_controls"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Failed sign-ins and lockouts are logged by axes; its start-up banner is noise.
            "axes.apps": {"level": "WARNING"},
        },
    }
