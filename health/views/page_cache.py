"""The dashboard page cached whole, under a fingerprint of every row it shows.

Building the page costs far more than reading its data: the ORM builds seven queries and the
templates render a few hundred nodes, about 15 ms of CPU, while the database reads the same rows
in well under a millisecond. So each request reads one fingerprint (an md5 the database takes of
every row the page shows, as JSON) and serves the page rendered for exactly those rows, language,
period and local day. A change to any of them (a case, a callback, a violation, the contact, a
day close) changes the key, so a seller sees every change at once and never a stale page: the
cache only saves rendering the same rows twice. The fingerprint is read before the rows of a
page being built, so a stored page is never older than its key.

What is per request is never cached: the CSRF token and the language form's return path are
placeholders filled in for each request. Pages with messages to show, pages with an open
callback request (its place in the queue depends on other sellers' requests) and databases other
than PostgreSQL are rendered every time. A page that counts down to a deadline is kept only until
the next minute of the countdown.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from dataclasses import dataclass
from functools import cache as once
from pathlib import Path

import django
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from redis.exceptions import RedisError

from accounts.models import EmergencyContact, Marketplace, Seller, StoreAccount, zone_named
from health.models import (
    OPEN_CALLBACK_STATUSES,
    AHACase,
    CallbackRequest,
    Enforcement,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
    Violation,
    ViolationScope,
)
from health.outlook import violations_since

logger = logging.getLogger(__name__)

PAGE_CACHE_KEY = "dashboard-page:{version}:{store_account}:{period}:{language}:{day}:{rows}"
# The key changes with every change of the page's rows; this only lets unused pages expire.
PAGE_CACHE_SECONDS = 24 * 3600
# Stand-ins rendered into the cached page and replaced per request. They are rendered as they
# are (safe strings), so their "<" cannot come from anything a user typed: that is escaped.
CSRF_PLACEHOLDER = mark_safe("<csrf-token-0d4c1f>")
PATH_PLACEHOLDER = mark_safe("<page-path-0d4c1f>")
CALLBACK_FIELDS = {"id", "status", "phone", "topic", "created_at", "finished_at"}
# What makes the page's HTML besides its rows: a release with other templates, translations,
# static files or code renders under another version, so no page of the old one is served.
RENDER_SOURCES = ("templates", "locale", "static", "health", "accounts", "aha_site")
RENDER_SUFFIXES = {".html", ".mo", ".css", ".js", ".py", ".lock", ".json"}


def _fingerprint_sql() -> str:
    """One statement: the store account's time zone if it is the seller's, the seller's latest
    callback request (the page shows it), and an md5 of every row the page shows."""
    sa, mp, hs = StoreAccount._meta.db_table, Marketplace._meta.db_table, HealthState._meta.db_table
    seller, contact = Seller._meta.db_table, EmergencyContact._meta.db_table
    event, case, violation = (
        EnrollmentEvent._meta.db_table,
        AHACase._meta.db_table,
        Violation._meta.db_table,
    )
    enforcement, callback = Enforcement._meta.db_table, CallbackRequest._meta.db_table
    callback_columns = ", ".join(f"cb.{column}" for column in callback_field_names())
    # Only table and column names are put into the text, from the models; every value is a
    # parameter.
    return f"""
SELECT
  mp.time_zone,
  {callback_columns},
  md5(json_build_array(
    (SELECT json_agg(json_build_array(a, m, h) ORDER BY a.id)
       FROM {sa} a JOIN {mp} m ON m.code = a.marketplace_id
       LEFT JOIN {hs} h ON h.store_account_id = a.id
      WHERE a.seller_id = %(seller)s),
    (SELECT json_build_array(s, c) FROM {seller} s LEFT JOIN {contact} c ON c.seller_id = s.id
      WHERE s.id = %(seller)s),
    (SELECT json_agg(e ORDER BY e.id) FROM {event} e
      WHERE e.store_account_id = %(store_account)s AND e.kind IN (%(removed)s, %(barred)s)),
    (SELECT json_agg(json_build_array(c, v) ORDER BY c.id)
       FROM {case} c LEFT JOIN {violation} v ON v.id = c.violation_id
      WHERE c.store_account_id = %(store_account)s),
    (SELECT json_agg(v ORDER BY v.id) FROM {violation} v JOIN {sa} a ON a.id = v.store_account_id
      WHERE (v.store_account_id = %(store_account)s
             OR (v.scope = %(account_wide)s AND a.seller_id = %(seller)s))
        AND v.detected_at >= %(since)s),
    (SELECT json_agg(f ORDER BY f.id) FROM {enforcement} f
      WHERE f.store_account_id = %(store_account)s),
    to_json(cb)
  )::text)
FROM {sa} sa JOIN {mp} mp ON mp.code = sa.marketplace_id
LEFT JOIN LATERAL (
  SELECT * FROM {callback} WHERE seller_id = %(seller)s ORDER BY created_at DESC, id DESC LIMIT 1
) cb ON true
WHERE sa.id = %(store_account)s AND sa.seller_id = %(seller)s
"""  # noqa: S608


@once
def callback_field_names() -> tuple[str, ...]:
    """The callback request's columns the page shows, in the model's order (for from_db)."""
    return tuple(
        field.attname
        for field in CallbackRequest._meta.concrete_fields
        if field.attname in CALLBACK_FIELDS
    )


# The statement's parameters, in order, with their types.
FINGERPRINT_PARAMETERS = {
    "seller": "bigint",
    "store_account": "bigint",
    "since": "timestamptz",
    "removed": "text",
    "barred": "text",
    "account_wide": "text",
}
# The raw connections the statement is prepared on (per connection, like its time zone).
_prepared_on: weakref.WeakSet[object] = weakref.WeakSet()


@once
def fingerprint_statement() -> tuple[str, str]:
    """PREPARE and EXECUTE for the fingerprint: planning its eight subqueries costs the
    database three times more than running them, so each connection plans it once."""
    text = _fingerprint_sql()
    digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:8]
    name = f"aha_dashboard_fingerprint_{digest}"
    for number, parameter in enumerate(FINGERPRINT_PARAMETERS, start=1):
        text = text.replace(f"%({parameter})s", f"${number}")
    types = ", ".join(FINGERPRINT_PARAMETERS.values())
    placeholders = ", ".join(["%s"] * len(FINGERPRINT_PARAMETERS))
    return f"PREPARE {name} ({types}) AS {text}", f"EXECUTE {name} ({placeholders})"


def _read_fingerprint(**parameters: object) -> tuple | None:
    prepare, execute = fingerprint_statement()
    connection.ensure_connection()
    raw = connection.connection
    if raw not in _prepared_on:
        # Connection set-up, as Django sets the time zone: not one of the page's queries.
        with raw.cursor() as cursor:
            cursor.execute(prepare)
        _prepared_on.add(raw)
    with connection.cursor() as cursor:
        cursor.execute(execute, [parameters[name] for name in FINGERPRINT_PARAMETERS])
        return cursor.fetchone()


@once
def render_version() -> str:
    """A digest of every file that shapes the page, read once per process: the project's code,
    templates, translations and static files, the pinned dependencies, and the collected static
    files' manifest (the hashed URLs the page links to)."""
    base = Path(settings.BASE_DIR)
    files = [path for folder in RENDER_SOURCES for path in sorted((base / folder).rglob("*"))]
    files += [base / "requirements.lock", Path(settings.STATIC_ROOT) / "staticfiles.json"]
    digest = hashlib.md5(django.get_version().encode(), usedforsecurity=False)
    for path in files:
        if path.suffix in RENDER_SUFFIXES and path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class CachedPage:
    """The cache slot of one request's page (the HTML when it was rendered before), and the
    seller's latest callback request, read with the fingerprint."""

    key: str
    html: str | None
    latest_callback: CallbackRequest | None
    # False while a callback request is open: the page is rendered every time.
    cacheable: bool = True

    # The context that renders the placeholders instead of the request's own values.
    placeholders = {"csrf_token": CSRF_PLACEHOLDER, "page_path": PATH_PLACEHOLDER}

    def fill(self, request: HttpRequest, html: str | None = None) -> str:
        """The page for this request: its own CSRF token and path in place of the stand-ins."""
        page = self.html if html is None else html
        page = page.replace(CSRF_PLACEHOLDER, get_token(request))
        return page.replace(PATH_PLACEHOLDER, escape(request.get_full_path()))

    def store(self, html: str, *, seconds: float = PAGE_CACHE_SECONDS) -> None:
        if not self.cacheable or seconds < 1:
            return
        try:
            cache.set(self.key, html, int(seconds))
        except RedisError:
            logger.warning("Cache unreachable; the dashboard page is not stored.")


def cached_page(request: HttpRequest, store_account_id: int, *, period: str) -> CachedPage | None:
    """The page's cache slot, or None when the page is rendered without a fingerprint (another
    seller's id, messages to show, not PostgreSQL)."""
    seller_id = getattr(request.user, "seller_id", None)
    if (
        seller_id is None
        or request.method not in ("GET", "HEAD")
        or connection.vendor != "postgresql"
        or len(get_messages(request))
    ):
        return None
    row = _read_fingerprint(
        seller=seller_id,
        store_account=store_account_id,
        # The violations the page reads: those it lists and those its outlook explains.
        since=violations_since(timezone.now()),
        removed=EnrollmentEventKind.REMOVED,
        barred=EnrollmentEventKind.BARRED,
        account_wide=ViolationScope.ACCOUNT_WIDE,
    )
    if row is None:
        # Not this seller's store account: the view answers 404 as for any other page.
        return None
    time_zone, *callback_values, rows = row
    latest_callback = (
        CallbackRequest.from_db(connection.alias, callback_field_names(), callback_values)
        if callback_values[0] is not None
        else None
    )
    cacheable = latest_callback is None or latest_callback.status not in OPEN_CALLBACK_STATUSES
    key = PAGE_CACHE_KEY.format(
        version=render_version(),
        store_account=store_account_id,
        period=period,
        language=translation.get_language(),
        day=timezone.now().astimezone(zone_named(time_zone)).date().isoformat(),
        rows=rows,
    )
    return CachedPage(
        key=key,
        html=_cache_get(key) if cacheable else None,
        latest_callback=latest_callback,
        cacheable=cacheable,
    )


def _cache_get(key: str) -> str | None:
    try:
        return cache.get(key)
    except RedisError:
        logger.warning("Cache unreachable; the dashboard page is rendered without it.")
        return None


def seconds_until_countdowns_change(cases: list[AHACase]) -> float:
    """How long the page's "... left" texts stay as rendered: until the next whole minute to
    the nearest deadline still ahead (each text counts minutes)."""
    now = timezone.now()
    seconds = float(PAGE_CACHE_SECONDS)
    for case in cases:
        if case.is_open and case.deadline_at and not case.engaged_at and case.deadline_at > now:
            seconds = min(seconds, (case.deadline_at - now).total_seconds() % 60)
    return seconds
