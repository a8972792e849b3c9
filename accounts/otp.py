"""The back office admits only staff verified by a second factor (TOTP).

This module is imported while Django loads its apps (the admin's AppConfig points here), so it
imports no models; the devices and forms live in accounts/two_factor.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.sites import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed the second factor (OTPMiddleware adds `is_verified`)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


def second_factor_url(request: HttpRequest) -> str:
    """The sign-in step that asks for the code, coming back to the page asked for."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return f"{reverse('accounts:verify_two_factor')}?{urlencode({'next': next_url})}"


def with_mixins(base: type, *mixins: type) -> type:
    """`base` with the mixins it lacks in front of it (the same class when it has them all)."""
    missing = tuple(mixin for mixin in mixins if not issubclass(base, mixin))
    if not missing:
        return base
    return type(base.__name__, (*missing, base), {"__module__": base.__module__})


class StaffAdminSite(AdminSite):
    """The default admin site, open only to active staff whose session is OTP-verified."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request)

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        # Every ModelAdmin records its edits in the audit trail (accounts/admin_audit.py), and
        # every time it shows, its inlines' too, names its zone (accounts/admin_times.py).
        from django.contrib.admin import ModelAdmin

        from accounts.admin_audit import AuditedAdminMixin
        from accounts.admin_times import ZonedTimesMixin

        base = with_mixins(admin_class or ModelAdmin, AuditedAdminMixin, ZonedTimesMixin)
        base.inlines = [with_mixins(inline, ZonedTimesMixin) for inline in base.inlines]
        super().register(model_or_iterable, base, **options)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # Staff who passed the password step but not the code go to the code step, instead of
        # seeing the password form again.
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not is_verified(request):
            return redirect(second_factor_url(request))
        return super().login(request, extra_context)


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin with StaffAdminSite as `admin.site`, so every registration stays."""

    default_site = "accounts.otp.StaffAdminSite"
