from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django's login form, passing the request on so login throttling sees the address."""


class PasswordResetRequestForm(forms.Form):
    """The address a seller's team member signs up with."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
