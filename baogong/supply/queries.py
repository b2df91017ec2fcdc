"""Reads of suppliers, catalogs and assignments that pages, exports and other apps share.

Who sees a supplier:

- staff (BROWSE_ROLES) see the suppliers assigned anywhere in their subtree or
  above it (an assignment serves its area and all below, so a compound's liaison
  sees a supplier assigned to the whole street);
- district administrators also see suppliers assigned nowhere yet (they register
  and place them); superusers see every supplier;
- a supplier's own users see their supplier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet

from baogong.accounts.models import Role
from baogong.accounts.scoping import BROWSE_ROLES, scope_for
from baogong.areas.models import Area
from baogong.core.errors import NotFound
from baogong.supply.models import Outlet, Package, PackageLine, Supplier, SupplierArea
from baogong.supply.services import ASSIGNABLE_KINDS, SUPPLIER_ADMIN_ROLES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from baogong.accounts.models import User

_UNASSIGNED_ROLES = frozenset({Role.DISTRICT_ADMIN})


def ancestor_paths(paths: Iterable[str]) -> set[str]:
    """Every path from the root down to each of `paths`: "/1/7/" gives "/1/" and "/1/7/"."""
    found = set()
    for path in paths:
        parts = path.strip("/").split("/")
        found |= {"/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)}
    return found


def _under(field: str, paths: Iterable[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def suppliers_for_area(area: Area, *, active_only: bool = True) -> QuerySet[Supplier]:
    """Suppliers assigned to `area` or to any node above it (one query)."""
    assigned = SupplierArea.objects.filter(area_id__in=[*area.ancestor_ids, area.pk])
    suppliers = Supplier.objects.filter(pk__in=assigned.values("supplier_id"))
    return suppliers.filter(is_active=True) if active_only else suppliers


def suppliers_visible_to(user: User) -> QuerySet[Supplier]:
    """Every supplier `user` may look at (see the module docstring)."""
    scope = scope_for(user)
    if scope.superuser:
        return Supplier.objects.all()
    paths = scope.paths_for(BROWSE_ROLES)
    q = Q(pk__in=scope.supplier_ids)
    if paths:
        # In or below a staff node, or on the node's path up to the root.
        assigned = SupplierArea.objects.filter(
            _under("area__path", paths) | Q(area__path__in=ancestor_paths(paths))
        )
        q |= Q(pk__in=assigned.values("supplier_id"))
    if scope.paths_for(_UNASSIGNED_ROLES):
        q |= ~Q(pk__in=SupplierArea.objects.values("supplier_id"))
    return Supplier.objects.filter(q)


def supplier_for(user: User, pk: int) -> Supplier:
    """A supplier `user` may look at, else raise NotFound."""
    try:
        return suppliers_visible_to(user).get(pk=pk)
    except (Supplier.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def supplier_list(user: User, *, kind: str = "", search: str = "") -> QuerySet[Supplier]:
    """The suppliers page: visible suppliers with the areas they serve and catalog size."""
    suppliers = suppliers_visible_to(user)
    if kind:
        suppliers = suppliers.filter(kind=kind)
    if search:
        suppliers = suppliers.filter(
            Q(name__icontains=search)
            | Q(contact_name__icontains=search)
            | Q(pk__in=Package.objects.filter(name__icontains=search).values("supplier_id"))
        )
    return (
        suppliers.annotate(
            packages_count=Count("packages", filter=Q(packages__is_active=True), distinct=True)
        )
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=SupplierArea.objects.select_related("area").order_by("area__path"),
            )
        )
        .order_by("-is_active", "name")
    )


def packages_of(supplier: Supplier, *, active_only: bool = True) -> QuerySet[Package]:
    """A supplier's catalog with its lines, in the order the page shows it."""
    packages = Package.objects.filter(supplier=supplier)
    if active_only:
        packages = packages.filter(is_active=True)
    return packages.prefetch_related(
        Prefetch("lines", queryset=PackageLine.objects.order_by("position", "pk"))
    ).order_by("-is_active", "category", "name")


def package_for(user: User, pk: int) -> Package:
    """A package of a supplier `user` may look at, else raise NotFound."""
    try:
        return (
            Package.objects.filter(supplier__in=suppliers_visible_to(user))
            .select_related("supplier")
            .get(pk=pk)
        )
    except (Package.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def outlets_of(supplier: Supplier) -> QuerySet[Outlet]:
    return supplier.outlets.select_related("area").order_by("name")


def outlet_for(user: User, pk: int) -> Outlet:
    try:
        return (
            Outlet.objects.filter(supplier__in=suppliers_visible_to(user))
            .select_related("supplier", "area")
            .get(pk=pk)
        )
    except (Outlet.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def areas_served(supplier: Supplier) -> QuerySet[SupplierArea]:
    return supplier.assignments.select_related("area", "assigned_by").order_by("area__path")


# --- assignments -----------------------------------------------------------------------


def assignable_areas(user: User) -> QuerySet[Area]:
    """Streets, communities and compounds where `user` may assign suppliers."""
    scope = scope_for(user)
    areas = Area.objects.filter(kind__in=ASSIGNABLE_KINDS)
    if scope.superuser:
        return areas.order_by("path")
    return areas.filter(_under("path", scope.paths_for(SUPPLIER_ADMIN_ROLES))).order_by("path")


def assignments_managed_by(user: User) -> QuerySet[SupplierArea]:
    """Assignments `user` may remove: those on areas of their subtree."""
    scope = scope_for(user)
    assignments = SupplierArea.objects.select_related("supplier", "area", "assigned_by")
    if not scope.superuser:
        assignments = assignments.filter(
            _under("area__path", scope.paths_for(SUPPLIER_ADMIN_ROLES))
        )
    return assignments.order_by("area__path", "supplier__name")


def assignments_above(user: User) -> QuerySet[SupplierArea]:
    """Assignments made above `user`'s subtree, which serve it too (read-only for them)."""
    scope = scope_for(user)
    if scope.superuser:
        return SupplierArea.objects.none()
    paths = scope.paths_for(SUPPLIER_ADMIN_ROLES)
    above = ancestor_paths(paths) - set(paths)
    return (
        SupplierArea.objects.filter(area__path__in=above)
        .select_related("supplier", "area")
        .order_by("area__path", "supplier__name")
    )


def area_labels(areas: Iterable[Area]) -> dict[int, str]:
    """ "街道 › 社区 › 小区" for each area, below the district (one query for all names)."""
    areas = list(areas)
    ids = {i for area in areas for i in area.ancestor_ids}
    names = dict(
        Area.objects.filter(pk__in=ids).exclude(kind=Area.Kind.DISTRICT).values_list("pk", "name")
    )
    return {
        area.pk: " › ".join([*(names[i] for i in area.ancestor_ids if i in names), area.name])
        for area in areas
    }


def outlet_area_choices(supplier: Supplier) -> QuerySet[Area]:
    """Where an outlet may lie: streets, communities and compounds of the supplier's districts."""
    roots = {
        path.strip("/").split("/")[0]
        for path in supplier.assignments.values_list("area__path", flat=True)
    }
    areas = Area.objects.filter(kind__in=ASSIGNABLE_KINDS)
    if roots:
        areas = areas.filter(_under("path", (f"/{root}/" for root in roots)))
    return areas.order_by("path")
