from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from baogong.accounts.forms import PhoneLoginForm
from baogong.accounts.models import Role
from baogong.accounts.scoping import BROWSE_ROLES, scope_for


class LoginView(auth_views.LoginView):
    form_class = PhoneLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their work starts."""
    scope = scope_for(request.user)
    if scope.has_any(BROWSE_ROLES):
        return redirect("areas:browse")
    if scope.has_any(frozenset({Role.RESIDENT})):
        return redirect("areas:my_household")
    return redirect("accounts:profile")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
