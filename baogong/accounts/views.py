from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baogong.accounts import services
from baogong.accounts.forms import AccountGrantForm, OwnPasswordForm, PhoneLoginForm
from baogong.accounts.models import Role, User
from baogong.accounts.queries import MANAGER_ROLES, grants_managed_by
from baogong.accounts.scoping import BROWSE_ROLES, scope_for
from baogong.core.errors import DomainError, NotAllowed, NotFound


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
    if scope.supplier_ids:
        return redirect("supply:supplier_list")
    if scope.has_any(frozenset({Role.RESIDENT})):
        return redirect("orders:shop")
    return redirect("accounts:profile")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    grants = request.user.grants.select_related("area", "household__building", "supplier")
    return render(request, "accounts/profile.html", {"grants": grants})


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = OwnPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_change(user=request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your new password is saved."))
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    if not scope_for(request.user).has_any(MANAGER_ROLES):
        raise PermissionDenied
    page = Paginator(grants_managed_by(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/account_list.html", {"page": page})


@login_required
def account_create(request: HttpRequest, area_pk: int) -> HttpResponse:
    """Give someone a staff or volunteer role on an area node."""
    try:
        area = scope_for(request.user).area(area_pk)
    except NotFound:
        raise Http404 from None
    roles = services.grantable_roles(request.user, area)
    if not roles:
        raise PermissionDenied
    return _grant_form(request, roles=roles, area=area, household=None)


@login_required
def resident_account_create(request: HttpRequest, household_pk: int) -> HttpResponse:
    """Give a resident an account for their own household."""
    try:
        household = scope_for(request.user).household(household_pk)
    except NotFound:
        raise Http404 from None
    if not scope_for(request.user).can_edit_area(household.building):
        raise PermissionDenied
    return _grant_form(request, roles=[Role.RESIDENT], area=None, household=household)


def _grant_form(request, *, roles, area, household) -> HttpResponse:
    form = AccountGrantForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        try:
            grant, password = services.account_grant(
                phone=form.cleaned_data["phone"],
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                area=area,
                household=household,
                by=request.user,
            )
        except NotAllowed:
            raise PermissionDenied from None
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return render(
                request, "accounts/account_created.html", {"grant": grant, "password": password}
            )
    return render(
        request, "accounts/account_form.html", {"form": form, "area": area, "household": household}
    )


@login_required
@require_POST
def account_reset_password(request: HttpRequest, user_pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_pk)
    if not services.may_manage(request.user, user):
        raise Http404
    password = services.account_reset_password(user=user, by=request.user)
    return render(
        request, "accounts/password_reset_done.html", {"account": user, "password": password}
    )


@login_required
@require_POST
def grant_revoke(request: HttpRequest, grant_pk: int) -> HttpResponse:
    grant = get_object_or_404(grants_managed_by(request.user), pk=grant_pk)
    try:
        services.grant_revoke(grant=grant, by=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    messages.success(
        request, _("The role was taken away from %(name)s.") % {"name": grant.user.name}
    )
    return redirect("accounts:list")
