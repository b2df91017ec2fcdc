from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from baogong.core.phones import PhoneError, normalize_phone


class PhoneLoginForm(AuthenticationForm):
    """Log in with a mobile number, written any usual way (spaces, +86, dashes)."""

    username = forms.CharField(
        label=_("Mobile number"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "tel",
                                      "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("Wrong mobile number or password."),
        "inactive": _("This account is switched off. Ask your community office."),
    }

    def clean_username(self) -> str:
        raw = self.cleaned_data["username"]
        try:
            return normalize_phone(raw)
        except PhoneError:
            return raw.strip()
