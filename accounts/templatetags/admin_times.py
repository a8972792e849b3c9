"""`{{ at|zoned:marketplace }}`: a time in the back office, in the marketplace's local time with
its zone named and UTC beside it (UTC alone without a marketplace). See accounts/admin_times.py."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.safestring import SafeString

from accounts.admin_times import marketplace_of, zoned_html
from accounts.models import Marketplace

register = template.Library()


@register.filter
def zoned(at: dt.datetime | None, where: object = None) -> SafeString | str:
    """`where`: a marketplace, or a row whose marketplace it is (a store account, a case)."""
    marketplace = where if isinstance(where, Marketplace) else marketplace_of(where)
    return zoned_html(at, marketplace)
