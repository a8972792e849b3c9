from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import passwords, two_factor
from accounts.forms import PasswordResetRequestForm
from accounts.models import User

# The secret of an enrolment in progress lives in the (server-side) session until confirmed, so
# showing the enrolment page writes nothing.
PENDING_KEY = "two_factor_pending_key"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The seller's stores with their status; staff go to the back office."""
    if request.user.seller_id is None:
        return (
            redirect("admin:index")
            if request.user.is_staff
            else render(request, "accounts/no_seller.html", status=403)
        )
    # Imported here: the health app builds on accounts, not the other way round.
    from health.views.home import HOME_FIGURES, store_summaries

    summaries = store_summaries(request)
    context = {
        "summaries": summaries,
        "needing_action": [summary for summary in summaries if summary.needs_action],
        **HOME_FIGURES,
    }
    return render(request, "accounts/home.html", context)


@never_cache
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out, and say so on the sign-in page, in the language the user was reading."""
    language = get_language() or settings.LANGUAGE_CODE
    logout(request)
    messages.success(request, _("You are signed out."))
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    # The session held the user, and with it the language: the cookie keeps it for the page after.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def next_url(request: HttpRequest) -> str:
    """Where to go after the second factor: a same-site `next`, else the back office."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # A path only: redirect() reads anything else ("12", "admin:index") as a view's name.
    safe = candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if safe else reverse("admin:index")


def staff_only(request: HttpRequest) -> User:
    # Sellers are never asked for a second factor (decision): the step does not exist for them.
    if not request.user.is_staff:
        raise Http404
    return request.user


def with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify_two_factor(request: HttpRequest) -> HttpResponse:
    """The sign-in step after the password for staff: the code from their authenticator app."""
    user = staff_only(request)
    target = next_url(request)
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect(with_next("accounts:enrol_two_factor", target))
    if user.is_verified():
        return redirect(target)
    form = two_factor.CodeForm(
        request.POST or None,
        verify=lambda code: two_factor.check_device_code(device=device, code=code),
    )
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        return redirect(target)
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": target})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol_two_factor(request: HttpRequest) -> HttpResponse:
    """Self-service set-up of an authenticator app, for staff who have none yet."""
    user = staff_only(request)
    target = next_url(request)
    # Decision: a second device needs an operator; otherwise a stolen password could add one.
    if two_factor.confirmed_device(user) is not None:
        return redirect(with_next("accounts:verify_two_factor", target))
    hex_key = request.session.get(PENDING_KEY) or two_factor.new_secret()
    request.session[PENDING_KEY] = hex_key
    form = two_factor.CodeForm(
        request.POST or None,
        verify=lambda code: (
            None
            if two_factor.code_matches_key(hex_key=hex_key, code=code)
            else str(two_factor.WRONG_CODE)
        ),
    )
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.enrol_device(user=user, hex_key=hex_key)
        except two_factor.TwoFactorError:
            return redirect(with_next("accounts:verify_two_factor", target))
        del request.session[PENDING_KEY]
        otp_login(request, device)
        return redirect(target)
    context = {
        "form": form,
        "next": target,
        "secret": two_factor.base32_secret(hex_key),
        "uri": two_factor.provisioning_uri(user=user, hex_key=hex_key),
    }
    return render(request, "registration/two_factor_enrol.html", context)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a set-password link; the answer is the same whether or not the address is known."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        passwords.request_password_reset(
            email=form.cleaned_data["email"], address=request.META.get("REMOTE_ADDR", "")
        )
        return redirect("accounts:password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form})


def password_reset_done(request: HttpRequest) -> HttpResponse:
    """What every request for a link is told."""
    return render(request, "registration/password_reset_done.html")
