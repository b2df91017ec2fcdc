"""Back office for the area tree and the household register, scoped by grants.

Households and residents are written through the same services as the pages
(household_save, resident_save, …), so admin edits are validated and audited
alike; see baogong.accounts.admin.ScopedAdmin for how scoping works.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from baogong.accounts.admin import ScopedAdmin
from baogong.accounts.scoping import HOUSEHOLD_ROLES, SPECIAL_CARE_FLAG_ROLES, Scope
from baogong.areas import services
from baogong.areas.forms import PhoneFieldsMixin
from baogong.areas.models import Area, Gate, Household, Resident


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    list_display = ("name", "kind", "parent", "code", "containment", "containment_since")
    list_filter = ("kind", "containment", "rural")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    fields = ("parent", "kind", "name", "code", "rural", "units_count", "containment",
              "containment_since", "containment_until", "cadence_days", "latitude",
              "longitude")

    def get_readonly_fields(self, request: HttpRequest, obj: Area | None = None) -> tuple:
        # Moving a node would leave its subtree's materialised paths behind.
        return ("parent", "kind") if obj is not None else ()

    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        return scope.areas(self.edit_roles) if name == "parent" else None

    def save_model(self, request: HttpRequest, obj: Area, form: forms.Form,
                   change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        fields = {name: value for name, value in form.cleaned_data.items()
                  if name not in ("parent", "kind", "name")}
        created = services.area_create(parent=obj.parent, kind=obj.kind, name=obj.name,
                                       by=request.user, **fields)
        # The admin goes on with the form's instance (log entry, redirect).
        obj.pk, obj.path, obj._state.adding = created.pk, created.path, False


@admin.register(Gate)
class GateAdmin(ScopedAdmin):
    area_attr = "compound"
    list_display = ("name", "compound", "kind", "notes")
    list_filter = ("kind",)
    search_fields = ("name", "compound__name")
    autocomplete_fields = ("compound",)
    list_select_related = ("compound",)

    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        if name == "compound":
            return scope.areas(self.edit_roles).filter(kind=Area.Kind.COMPOUND)
        return None


class HouseholdAdminForm(PhoneFieldsMixin, forms.ModelForm):
    phone_fields = ("phone", "phone_alt")

    class Meta:
        model = Household
        fields = ("building", "unit", "room", "floor", "members_count", "phone", "phone_alt",
                  "containment", "containment_since", "containment_until", "notes")


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ("name", "phone", "is_contact", "needs_door_delivery")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    # Read-only: residents are written on their own admin page, through resident_save.
    # Seeing the household (checked by its admin) is enough to see its residents.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    view_roles = HOUSEHOLD_ROLES
    area_attr = "building"
    form = HouseholdAdminForm
    list_display = ("__str__", "compound", "unit", "room", "members_count", "phone",
                    "containment")
    list_filter = ("containment", ("compound", admin.RelatedOnlyFieldListFilter))
    search_fields = ("room", "phone", "phone_alt", "building__name", "compound__name")
    autocomplete_fields = ("building",)
    list_select_related = ("building", "compound")
    inlines = (ResidentInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("building", "compound")

    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        if name == "building":
            return scope.areas(self.edit_roles).filter(kind=Area.Kind.BUILDING)
        return None

    def save_model(self, request: HttpRequest, obj: Household, form: forms.Form,
                   change: bool) -> None:
        services.household_save(household=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Household) -> None:
        services.household_delete(household=obj, by=request.user)

    @transaction.atomic  # all or none of the selected rows
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for household in queryset.select_related("building"):
            services.household_delete(household=household, by=request.user)


class ResidentAdminForm(PhoneFieldsMixin, forms.ModelForm):
    class Meta:
        model = Resident
        fields = ("household", "name", "phone", "is_contact", "special_group",
                  "needs_door_delivery", "notes")


@admin.register(Resident)
class ResidentAdmin(ScopedAdmin):
    """The special-care flag shows only where the user's special-care roles reach every
    row the admin shows them (queries.SPECIAL_CARE_FLAG_ROLES)."""

    view_roles = HOUSEHOLD_ROLES
    area_attr = "household.building"
    form = ResidentAdminForm
    list_display = ("name", "household", "phone", "is_contact", "special_group",
                    "needs_door_delivery")
    list_filter = ("is_contact", "special_group", "needs_door_delivery")
    search_fields = ("name", "phone", "household__room", "household__building__name")
    autocomplete_fields = ("household",)
    list_select_related = ("household__building",)

    def sees_special_care(self, request: HttpRequest) -> bool:
        scope = self.scope(request)
        care = scope.paths_for(SPECIAL_CARE_FLAG_ROLES)
        return scope.superuser or all(any(path.startswith(p) for p in care)
                                      for path in scope.paths_for(self.view_roles))

    def _without_special_care(self, request: HttpRequest, names: Any) -> Any:
        if self.sees_special_care(request):
            return names
        return type(names)(name for name in names if name != "special_group")

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._without_special_care(request, super().get_list_display(request))

    def get_list_filter(self, request: HttpRequest) -> Any:
        return self._without_special_care(request, super().get_list_filter(request))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._without_special_care(request, super().get_fields(request, obj))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        if not self.sees_special_care(request):
            kwargs["exclude"] = [*(kwargs.get("exclude") or ()), "special_group"]
        return super().get_form(request, obj, change, **kwargs)

    def set_history_delta_changes(self, request: HttpRequest, historical_records: Any,
                                  foreign_keys_are_objs: bool = True) -> None:
        if self.sees_special_care(request):
            super().set_history_delta_changes(request, historical_records,
                                              foreign_keys_are_objs)
            return
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(current, excluded_fields=["special_group"],
                                              foreign_keys_are_objs=foreign_keys_are_objs)
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        return scope.households(self.edit_roles) if name == "household" else None

    def save_model(self, request: HttpRequest, obj: Resident, form: forms.Form,
                   change: bool) -> None:
        services.resident_save(resident=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Resident) -> None:
        services.resident_delete(resident=obj, by=request.user)

    @transaction.atomic  # all or none of the selected rows
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for resident in queryset.select_related("household__building"):
            services.resident_delete(resident=resident, by=request.user)


admin.site.site_header = _("Baogong back office")
admin.site.site_title = _("Baogong back office")
