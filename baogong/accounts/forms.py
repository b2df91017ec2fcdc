from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role
from baogong.core.phones import PhoneError, normalize_phone


class PhoneLoginForm(AuthenticationForm):
    """Log in with a mobile number, written any usual way (spaces, +86, dashes)."""

    username = forms.CharField(
        label=_("Mobile number"),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "inputmode": "tel", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
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


class OwnPasswordForm(SetPasswordForm):
    """Choose a new password (after a temporary one, or any time)."""


class AccountGrantForm(forms.Form):
    """Give a person a role: their name, mobile number and (for staff) the role."""

    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=())

    def __init__(self, *args, roles: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]
        if len(roles) == 1:
            self.fields["role"].initial = roles[0]
            self.fields["role"].widget = forms.HiddenInput()

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except PhoneError:
            raise forms.ValidationError(
                _("Please enter a mainland mobile number, e.g. 138 0013 8000.")
            ) from None
