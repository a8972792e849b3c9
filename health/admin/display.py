"""How the back office shows durations as a specialist reads them ("2 d 3 h left", "overdue by
5 h"). Times themselves are written by accounts/admin_times.py, one helper for every page."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _


def duration(delta: dt.timedelta) -> str:
    """A duration in the two largest units: '2 d 3 h', '5 h 10 min', '4 min'."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


def time_left(deadline: dt.datetime | None, now: dt.datetime) -> str:
    if deadline is None:
        return _("clock not started")
    if deadline < now:
        return _("overdue by %(time)s") % {"time": duration(now - deadline)}
    return _("%(time)s left") % {"time": duration(deadline - now)}
