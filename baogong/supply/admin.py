"""Back office for suppliers, their outlets, catalogs and area assignments.

Who sees a supplier: its own contacts (supplier grants) and the staff of the
areas it is assigned to (an assignment serves its area and everything below,
so a community's staff also see suppliers assigned to their street). Only a
supplier's contacts and superusers change its rows; area staff who keep the
register (REGISTER_ROLES) assign suppliers to their areas.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from baogong.accounts.admin import ScopedAdmin, paths_q
from baogong.accounts.scoping import BROWSE_ROLES, Scope
from baogong.supply.models import Outlet, Package, PackageLine, Supplier, SupplierArea


def _ancestor_paths(paths: list[str]) -> set[str]:
    """Every path from the root down to each of `paths`: "/1/7/" gives "/1/" and "/1/7/"."""
    found = set()
    for path in paths:
        parts = path.strip("/").split("/")
        found |= {"/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)}
    return found


def assignments_seen_by(scope: Scope) -> QuerySet[SupplierArea]:
    """Assignments on, above or below the areas the user browses."""
    paths = scope.paths_for(BROWSE_ROLES)
    if not paths:
        return SupplierArea.objects.none()
    return SupplierArea.objects.filter(
        paths_q("area__path", paths) | Q(area__path__in=_ancestor_paths(paths))
    )


class SupplierScopedAdmin(ScopedAdmin):
    """Rows that belong to a supplier, reached through `supplier_field` ("" for Supplier)."""

    supplier_field = "supplier"

    def _supplier_id(self, obj: Any) -> int:
        return getattr(obj, f"{self.supplier_field}_id") if self.supplier_field else obj.pk

    def _lookup(self, suffix: str) -> str:
        return f"{self.supplier_field}__{suffix}" if self.supplier_field else suffix

    def scope_queryset(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        assigned = assignments_seen_by(scope).values("supplier_id")
        return queryset.filter(
            Q(**{self._lookup("pk__in"): scope.supplier_ids})
            | Q(**{self._lookup("pk__in"): assigned})
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        scope = self.scope(request)
        return scope.superuser or bool(scope.supplier_ids) or scope.has_any(BROWSE_ROLES)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.scope(request)
        if obj is None or scope.superuser:
            return self.has_module_permission(request)
        return (
            self._supplier_id(obj) in scope.supplier_ids
            or assignments_seen_by(scope).filter(supplier_id=self._supplier_id(obj)).exists()
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.scope(request)
        if scope.superuser:
            return True
        return bool(scope.supplier_ids) and (
            obj is None or self._supplier_id(obj) in scope.supplier_ids
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        if name == "supplier":
            return Supplier.objects.filter(pk__in=scope.supplier_ids)
        if name == "area":
            return scope.areas()
        return None


@admin.register(Supplier)
class SupplierAdmin(SupplierScopedAdmin):
    supplier_field = ""
    list_display = (
        "name",
        "kind",
        "contact_name",
        "contact_phone",
        "vehicles_count",
        "daily_capacity",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name", "contact_name", "contact_phone")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.scope(request).superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.scope(request).superuser


@admin.register(Outlet)
class OutletAdmin(SupplierScopedAdmin):
    list_display = ("name", "supplier", "kind", "area", "address", "phone")
    list_filter = ("kind",)
    search_fields = ("name", "address", "supplier__name")
    list_select_related = ("supplier", "area")
    autocomplete_fields = ("area",)


class PackageLineInline(admin.TabularInline):
    model = PackageLine
    extra = 1
    fields = ("position", "item", "specification", "quantity", "unit")

    # The package's admin has checked the user against the package's supplier.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.parent_admin_may_change(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.parent_admin_may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.parent_admin_may_change(request, obj)

    def parent_admin_may_change(self, request: HttpRequest, obj: Any) -> bool:
        return self.admin_site.get_model_admin(Package).has_change_permission(request, obj)


@admin.register(Package)
class PackageAdmin(SupplierScopedAdmin):
    list_display = (
        "name",
        "supplier",
        "category",
        "price",
        "default_stock_cap",
        "per_household_limit",
        "is_active",
    )
    list_filter = ("category", "is_active")
    search_fields = ("name", "aliases", "supplier__name")
    list_select_related = ("supplier",)
    inlines = (PackageLineInline,)


@admin.register(SupplierArea)
class SupplierAreaAdmin(ScopedAdmin):
    """Assignments: seen as for suppliers; made and removed by register keepers of the area."""

    area_attr = "area"
    list_display = ("supplier", "area", "assigned_by", "created_at")
    search_fields = ("supplier__name", "area__name")
    list_select_related = ("supplier", "area", "assigned_by")
    autocomplete_fields = ("area",)
    readonly_fields = ("assigned_by",)

    def scope_queryset(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        return queryset.filter(
            Q(pk__in=assignments_seen_by(scope).values("pk"))
            | Q(supplier_id__in=scope.supplier_ids)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        scope = self.scope(request)
        return super().has_module_permission(request) or bool(scope.supplier_ids)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or self.scope(request).superuser:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def scoped_choices(self, name: str, scope: Scope) -> QuerySet | None:
        if name == "area":
            return scope.areas(self.edit_roles)
        if name == "supplier":  # businesses, not people: any active one may be assigned
            return Supplier.objects.filter(is_active=True)
        return None

    def save_model(self, request: HttpRequest, obj: SupplierArea, form: Any, change: bool) -> None:
        if not change:
            obj.assigned_by = request.user
        super().save_model(request, obj, form, change)
