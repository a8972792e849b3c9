"""Upstream systems that call the API, and the import runs of the launch-day backfill."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    PROVISIONING_WRITE = "provisioning:write", _("Sellers, users, store accounts, contacts")
    ORDERS_WRITE = "orders:write", _("Daily orders")
    VIOLATIONS_WRITE = "violations:write", _("Violations and their resolution")
    HEALTH_READ = "health:read", _("Health of store accounts and the event feed")


class ApiClientQuerySet(models.QuerySet["ApiClient"]):
    def active(self) -> ApiClientQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiClient(models.Model):
    """An upstream system with a bearer token; only the token's SHA-256 is stored."""

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so an operator can tell tokens apart in the admin.
    token_prefix = models.CharField(max_length=12, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ImportRun(models.Model):
    """One run of `manage.py import_history`: what it loaded and replayed, and how long it took."""

    directory = models.CharField(max_length=500)
    status = models.CharField(max_length=10, default="running")
    stage = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Import of {self.directory} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 1)
