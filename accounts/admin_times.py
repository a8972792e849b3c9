"""How the back office writes a time: the marketplace's local time with its zone named, and UTC
beside it, so a deadline in Tokyo and a log line in UTC can be read side by side.

One helper for every page: `zoned_time` (plain text, for messages), `zoned_html` (columns and
templates, the `zoned` filter of the admin_times template library) and `ZonedTimesMixin`, which
StaffAdminSite.register adds to every ModelAdmin so that Django's own datetime columns and
read-only fields name their zone too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import Marketplace

EMPTY = "-"


def local_part(at: dt.datetime, marketplace: Marketplace) -> str:
    """'2025-03-02 14:00 CET (Europe/Warsaw)'."""
    local = at.astimezone(marketplace.zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({marketplace.time_zone})"


def utc_part(at: dt.datetime, *, beside: dt.datetime | None = None) -> str:
    """'09:00 UTC', with the date when it differs from the local time's (or stands alone)."""
    utc = at.astimezone(dt.UTC)
    if beside is not None and beside.date() == utc.date():
        return f"{utc:%H:%M} UTC"
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def zoned_time(at: dt.datetime | None, marketplace: Marketplace | None = None) -> str:
    """'2025-03-02 14:00 CET (Europe/Warsaw), 13:00 UTC'; '2025-03-02 13:00 UTC' with no
    marketplace; a dash for no time."""
    if at is None:
        return EMPTY
    if marketplace is None:
        return utc_part(at)
    return f"{local_part(at, marketplace)}, {utc_part(at, beside=at.astimezone(marketplace.zone))}"


def zoned_html(at: dt.datetime | None, marketplace: Marketplace | None = None) -> SafeString | str:
    """The same as a <time> element, UTC on a quieter line of its own."""
    if at is None:
        return EMPTY
    iso = at.astimezone(dt.UTC).isoformat(timespec="seconds")
    if marketplace is None:
        return format_html('<time datetime="{}">{}</time>', iso, utc_part(at))
    local = at.astimezone(marketplace.zone)
    return format_html(
        '<time datetime="{}">{}<span class="utc"><span class="sep">, </span>{}</span></time>',
        iso,
        local_part(at, marketplace),
        utc_part(at, beside=local),
    )


def marketplace_of(obj: Any) -> Marketplace | None:
    """The marketplace whose local time a row's times are read in: its own, its store
    account's, or its case's store account's; None (UTC alone) for rows of no marketplace."""
    if isinstance(obj, Marketplace):
        return obj
    for path in ("marketplace", "store_account", "case"):
        related = getattr(obj, path, None) if _is_set_relation(obj, path) else None
        if isinstance(related, Marketplace):
            return related
        if related is not None and related is not obj:
            found = marketplace_of(related)
            if found is not None:
                return found
    return None


def _is_set_relation(obj: Any, name: str) -> bool:
    # A relation that is set: reading an empty one would ask the database for nothing, and a
    # non-relation attribute of that name is no marketplace. Following a set one queries unless
    # the caller read it with select_related, as every list and panel that shows times does.
    try:
        field = obj._meta.get_field(name)
    except (AttributeError, FieldDoesNotExist):
        return False
    return field.is_relation and getattr(obj, field.attname, None) is not None


def datetime_fields(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.get_fields() if isinstance(f, models.DateTimeField)}


class ZonedTimesMixin:
    """Every datetime column and read-only datetime field of a ModelAdmin (or inline) names its
    zone: the row's marketplace's local time with UTC beside it, or UTC alone."""

    model: type[models.Model]

    # A ModelAdmin says where its rows' times are read with a `marketplace_of(obj)` method of its
    # own; the mixin defines none, as it comes first in the classes StaffAdminSite makes.
    def _marketplace_of(self, obj: Any) -> Marketplace | None:
        return getattr(self, "marketplace_of", marketplace_of)(obj)

    def zoned_column(self, name: str) -> Callable[[Any], SafeString | str]:
        """The display of datetime field `name`, one function per field (admin compares them)."""
        cache: dict[str, Callable] = self.__dict__.setdefault("_zoned_columns", {})
        if name not in cache:
            field = self.model._meta.get_field(name)

            def column(obj: Any) -> SafeString | str:
                return zoned_html(getattr(obj, name), self._marketplace_of(obj))

            column.__name__ = name
            column.short_description = field.verbose_name  # type: ignore[attr-defined]
            column.admin_order_field = name  # type: ignore[attr-defined]
            cache[name] = column
        return cache[name]

    def _zoned(self, names: Any, only: set[str] | None = None) -> list:
        times = datetime_fields(self.model)
        if only is not None:
            times &= only
        return [self.zoned_column(n) if isinstance(n, str) and n in times else n for n in names]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(db_field, models.DateTimeField) and formfield is not None:
            # An editable time is entered and shown in UTC (the server's zone): say so.
            formfield.help_text = " ".join(filter(None, [str(formfield.help_text), _("In UTC.")]))
        return formfield

    def get_list_display(self, request: HttpRequest) -> list:
        return self._zoned(super().get_list_display(request))  # type: ignore[misc]

    def _read_only_times(self, request: HttpRequest, obj: Any) -> set[str]:
        """The datetime fields shown read-only on this page (all of them without change rights)."""
        declared = set(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is not None and not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return datetime_fields(self.model)
        return datetime_fields(self.model) & declared

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list:
        declared = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        only = self._read_only_times(request, obj)
        return self._zoned(declared, only) + [
            self.zoned_column(name) for name in sorted(only) if name not in declared
        ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        only = self._read_only_times(request, obj)
        seen: set = set()
        fieldsets = []
        for title, options in super().get_fieldsets(request, obj):  # type: ignore[misc]
            lines = []
            for line in options["fields"]:
                # A fieldset line is a name or a tuple of names shown side by side.
                names = line if isinstance(line, list | tuple) else [line]
                # get_fields lists an editable field and, shown read-only, its column again.
                zoned = [n for n in self._zoned(names, only) if n not in seen]
                seen.update(zoned)
                if zoned:
                    lines.append(tuple(zoned) if isinstance(line, list | tuple) else zoned[0])
            fieldsets.append((title, {**options, "fields": lines}))
        return fieldsets
