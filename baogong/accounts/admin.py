"""The back office: Django's admin, limited to what each staff user's grants reach.

`ScopedAdmin` is the base of every model admin in the project. Superusers see
and change everything. Other staff users (is_staff) see the rows under their
grants for the admin's `view_roles` and change those under `edit_roles`; the
role grants are the permission system here, Django's per-model permissions are
not consulted. Rows, object pages, history pages, foreign-key choices and
autocomplete results are all filtered through `scope_for(user)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from baogong.accounts import services as accounts_services
from baogong.accounts.models import Role, RoleGrant, User
from baogong.accounts.queries import MANAGER_ROLES, grants_managed_by
from baogong.accounts.scoping import BROWSE_ROLES, REGISTER_ROLES, Scope, scope_for
from baogong.core.errors import DomainError
from baogong.core.phones import PhoneError, normalize_phone

if TYPE_CHECKING:
    from django.db.models import Field

    from baogong.areas.models import Area


def paths_q(field: str, paths: list[str]) -> Q | None:
    """Rows whose `field` (an area path) lies under one of `paths`; None if there are none."""
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


class ScopedAdmin(SimpleHistoryAdmin):
    """A model admin whose rows and permissions follow the user's role grants.

    Subclasses name the area that governs a row with `area_attr` (dotted
    attributes from the row to an Area: "" for an Area itself, "building",
    "household.building") and give foreign-key choices with `scoped_choices`.
    """

    view_roles: frozenset[str] = BROWSE_ROLES
    edit_roles: frozenset[str] = REGISTER_ROLES
    area_attr: str = ""

    # --- scope --------------------------------------------------------------
    def scope(self, request: HttpRequest) -> Scope:
        return scope_for(request.user)

    def governing_area(self, obj: Any) -> Area | None:
        for part in filter(None, self.area_attr.split(".")):
            obj = getattr(obj, part)
        return obj

    def area_path_field(self) -> str:
        return "__".join([*filter(None, self.area_attr.split(".")), "path"])

    def scope_queryset(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        q = paths_q(self.area_path_field(), scope.paths_for(self.view_roles))
        return queryset.filter(q) if q is not None else queryset.none()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = self.scope(request)
        return queryset if scope.superuser else self.scope_queryset(queryset, scope)

    def covers(self, request: HttpRequest, obj: Any, roles: frozenset[str]) -> bool:
        """Whether the user holds one of `roles` over `obj` (over anything, if obj is None)."""
        scope = self.scope(request)
        if scope.superuser:
            return True
        if not scope.has_any(roles):
            return False
        if obj is None:
            return True
        try:
            area = self.governing_area(obj)
        except ObjectDoesNotExist:  # e.g. the history of a row whose parent is gone
            return False
        return area is not None and any(area.path.startswith(path)
                                        for path in scope.paths_for(roles))

    # --- permissions: from the grants, not from Django's model permissions ---
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.covers(request, None, self.view_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.covers(request, obj, self.view_roles)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.covers(request, None, self.edit_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.covers(request, obj, self.edit_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.covers(request, obj, self.edit_roles)

    # --- choices ------------------------------------------------------------
    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        """The rows a non-superuser may pick for foreign key `name`."""
        return None

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest,
                                 **kwargs: Any) -> forms.Field | None:
        scope = self.scope(request)
        if not scope.superuser:
            choices = self.scoped_choices(db_field.name, scope)
            # A foreign key nobody scoped offers nothing rather than every row.
            kwargs["queryset"] = (choices if choices is not None
                                  else db_field.remote_field.model.objects.none())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- errors from services -------------------------------------------------
    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """Show a service's refusal as a message instead of a server error.

        Forms validate what they can first; this catches the rest (the admin's
        transaction has already rolled back when the error reaches here).
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# --- users and grants: the accounts services decide who manages whom ------------------

class UserAddForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("phone", "name")
        field_classes: dict[str, Any] = {}

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except PhoneError:
            raise forms.ValidationError(_("Enter a mainland mobile number."),
                                        code="invalid") from None


class UserChangeForm(forms.ModelForm):
    """Without the password field: the admin never shows a hash, not even part of it."""

    class Meta:
        model = User
        fields = ("phone", "name", "is_active", "password_change_required", "is_staff",
                  "is_superuser", "groups", "user_permissions")

    clean_phone = UserAddForm.clean_phone


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    """Superusers manage every account here. Staff who give accounts (MANAGER_ROLES) see
    the people holding grants they manage and may change those accounts.services.may_manage
    allows; new accounts, roles and temporary passwords go through the accounts pages."""

    view_roles = edit_roles = MANAGER_ROLES
    form = UserChangeForm
    add_form = UserAddForm
    fieldsets = (
        (None, {"fields": ("phone", "name", "password_link")}),
        (_("Access"), {"fields": ("is_active", "password_change_required", "is_staff",
                                  "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("phone", "name", "usable_password", "password1", "password2")}),
    )
    readonly_fields = ("password_link", "last_login", "date_joined")
    list_display = ("name", "phone", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("phone", "name")
    ordering = ("name",)

    @admin.display(description=_("Password"))
    def password_link(self, obj: User) -> str:
        url = reverse("admin:auth_user_password_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Set a new password"))

    def scope_queryset(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        managed = grants_managed_by(scope.user).values("user_id")
        return queryset.filter(Q(pk__in=managed) | Q(pk=scope.user.pk))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or self.scope(request).superuser:
            return super().has_view_permission(request, obj)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or self.scope(request).superuser:
            return super().has_change_permission(request, obj)
        return accounts_services.may_manage(request.user, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.scope(request).superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.scope(request).superuser

    def user_change_password(self, request: HttpRequest, id: str,
                             form_url: str = "") -> HttpResponse:
        # Staff hand out temporary passwords through accounts_services.account_reset_password.
        if not self.scope(request).superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not self.scope(request).superuser:
            fields += ("is_staff", "is_superuser", "groups", "user_permissions")
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.scope(request).superuser:
            return fieldsets
        return [(name, {**options, "fields": [f for f in options["fields"]
                                              if f != "password_link"]})
                for name, options in fieldsets]


class RoleGrantForm(forms.ModelForm):
    class Meta:
        model = RoleGrant
        fields = ("user", "role", "area", "household", "supplier")


@admin.register(RoleGrant)
class RoleGrantAdmin(ScopedAdmin):
    """Grants the user manages (accounts.queries.grants_managed_by). Only a superuser adds
    or edits grants here; staff give roles on the accounts pages (accounts_services.account_grant),
    and taking a role away goes through accounts_services.grant_revoke."""

    view_roles = edit_roles = MANAGER_ROLES
    form = RoleGrantForm
    list_display = ("user", "role", "area", "household", "supplier", "granted_by", "created_at")
    list_filter = ("role",)
    search_fields = ("user__name", "user__phone", "area__name")
    autocomplete_fields = ("user", "area", "household")
    readonly_fields = ("granted_by",)
    list_select_related = ("user", "area", "household__building", "supplier", "granted_by")

    def scope_queryset(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        return queryset.filter(pk__in=grants_managed_by(scope.user).values("pk"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or self.scope(request).superuser:
            return super().has_view_permission(request, obj)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.scope(request).superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.scope(request).superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj) and (
            obj is None or self.scope(request).superuser or self._may_revoke(request, obj))

    def _may_revoke(self, request: HttpRequest, grant: RoleGrant) -> bool:
        if grant.role == Role.RESIDENT:
            return grant.household is not None and self.scope(request).can_edit_area(
                grant.household.building)
        return grant.area is not None and grant.role in accounts_services.grantable_roles(
            request.user, grant.area)

    def save_model(self, request: HttpRequest, obj: RoleGrant, form: forms.Form,
                   change: bool) -> None:
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: RoleGrant) -> None:
        accounts_services.grant_revoke(grant=obj, by=request.user)

    @transaction.atomic  # all or none of the selected rows
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for grant in queryset.select_related("area", "household__building"):
            accounts_services.grant_revoke(grant=grant, by=request.user)
