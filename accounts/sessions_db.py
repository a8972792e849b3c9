"""Sessions in the database alone (no shared cache configured): Django's, with a renamed sign-in
backend read under its current name (accounts.sessions.RENAMED_BACKENDS)."""

from __future__ import annotations

from django.contrib.sessions.backends import db

from accounts.sessions import with_current_backend


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        return with_current_backend(super().load())
