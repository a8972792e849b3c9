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

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    token_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("token hash")
    )
    # The first characters of the token, so an operator can tell tokens apart in the admin.
    token_prefix = models.CharField(max_length=12, editable=False, verbose_name=_("token prefix"))
    scopes = models.JSONField(default=list, verbose_name=_("scopes"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ImportRun(models.Model):
    """One run of `manage.py import_history`: what it loaded and replayed, and how long it took."""

    directory = models.CharField(max_length=500, verbose_name=_("directory"))
    status = models.CharField(max_length=10, default="running", verbose_name=_("status"))
    stage = models.CharField(max_length=40, blank=True, verbose_name=_("stage"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("counts"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Import of {self.directory} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 1)
