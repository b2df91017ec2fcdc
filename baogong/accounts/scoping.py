"""The one place that says what a user may see.

Every query that returns areas, households or people starts from `scope_for(user)`.
A staff role granted on an area node reaches that node's whole subtree (one
prefix query on the materialised path); a resident reaches only their own
household; a supplier user reaches its supplier's rows (rounds come later).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from baogong.accounts.models import Role
from baogong.areas.models import Area, Household, Resident
from baogong.core.errors import NotAllowed, NotFound

if TYPE_CHECKING:
    from baogong.accounts.models import User

# What each role may do, beyond seeing its scope. Kept as data so the
# permission matrix test and the navigation read the same table.
BROWSE_ROLES = frozenset(
    {
        Role.DISTRICT_ADMIN,
        Role.STREET_STAFF,
        Role.COMMUNITY_STAFF,
        Role.LIAISON,
        Role.VOLUNTEER,
        Role.BUREAU_STAFF,
    }
)
# Roles that work with households and people (the bureau sees counts only).
HOUSEHOLD_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON, Role.VOLUNTEER}
)
# Roles that phone residents and so see full numbers within their scope.
FULL_PHONE_ROLES = HOUSEHOLD_ROLES
# Roles that keep the register: edit, import, export, give residents accounts.
REGISTER_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF})
# Roles that may enter orders for households of their area (phone, chain, spreadsheet).
PROXY_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON, Role.VOLUNTEER}
)
# Roles that run rounds for their area (open, close, cancel) besides the supplier itself.
ROUND_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}
)
# Special-care flags are sensitive personal data (DESIGN.md, "Personal data"):
# community-level staff who keep the register, and building volunteers whose
# grant covers the household's building. Liaisons and the bureau do not see them.
SPECIAL_CARE_ROLES = REGISTER_ROLES | frozenset({Role.VOLUNTEER})
# Who sees the bare "special-care resident" flag on register pages: the community's
# own staff. Assigned volunteers see their people through the welfare pages; everyone
# else (street and district staff included) sees at most "needs door delivery".
SPECIAL_CARE_FLAG_ROLES = frozenset({Role.COMMUNITY_STAFF})
# Roles that create staff accounts below them.
ACCOUNT_ADMIN_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.STREET_STAFF})


@dataclass
class Scope:
    """What one user reaches, computed once per request from their grants."""

    user: User
    superuser: bool = False
    area_paths: dict[str, set[str]] = field(default_factory=dict)  # role -> paths
    household_ids: set[int] = field(default_factory=set)
    supplier_ids: set[int] = field(default_factory=set)

    @property
    def roles(self) -> set[str]:
        roles = set(self.area_paths)
        if self.household_ids:
            roles.add(Role.RESIDENT)
        if self.supplier_ids:
            roles.add(Role.SUPPLIER)
        return roles

    def has_any(self, roles: frozenset[str]) -> bool:
        return self.superuser or bool(self.roles & roles)

    def paths_for(self, roles: frozenset[str]) -> list[str]:
        paths = {p for role in roles for p in self.area_paths.get(role, ())}
        # A grant inside another grant's subtree adds nothing; dropping it keeps queries short.
        return sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))

    def _under(self, prefix: str, roles: frozenset[str]) -> Q | None:
        paths = self.paths_for(roles)
        if not paths:
            return None
        q = Q()
        for path in paths:
            q |= Q(**{f"{prefix}path__startswith": path})
        return q

    # --- areas -------------------------------------------------------------
    def areas(self, roles: frozenset[str] = BROWSE_ROLES) -> QuerySet[Area]:
        if self.superuser:
            return Area.objects.all()
        q = self._under("", roles)
        return Area.objects.filter(q) if q is not None else Area.objects.none()

    @cached_property
    def root_areas(self) -> QuerySet[Area]:
        """The top nodes this user's browsing starts from."""
        if self.superuser:
            return Area.objects.filter(parent__isnull=True)
        return Area.objects.filter(path__in=self.paths_for(BROWSE_ROLES))

    def area(self, pk: int, roles: frozenset[str] = BROWSE_ROLES) -> Area:
        """Return the area if the user may see it with one of `roles`, else raise NotFound."""
        try:
            return self.areas(roles).get(pk=pk)
        except (Area.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None

    # --- households and people ------------------------------------------------
    def households(self, roles: frozenset[str] = HOUSEHOLD_ROLES) -> QuerySet[Household]:
        if self.superuser:
            return Household.objects.all()
        q = self._under("building__", roles)
        if Role.RESIDENT in roles and self.household_ids:
            own = Q(pk__in=self.household_ids)
            q = own if q is None else q | own
        return Household.objects.filter(q) if q is not None else Household.objects.none()

    def household(
        self, pk: int, roles: frozenset[str] = HOUSEHOLD_ROLES | {Role.RESIDENT}
    ) -> Household:
        try:
            return self.households(roles).select_related("building", "compound").get(pk=pk)
        except (Household.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None

    def residents(self, roles: frozenset[str] = HOUSEHOLD_ROLES) -> QuerySet[Resident]:
        return Resident.objects.filter(household__in=self.households(roles))

    def sees_full_phone(self, household: Household) -> bool:
        """Full numbers only to roles that phone people, within their scope, or to the household."""
        if self.superuser or household.pk in self.household_ids:
            return True
        return any(household.building.path.startswith(p) for p in self.paths_for(FULL_PHONE_ROLES))

    def can_edit_area(self, area: Area) -> bool:
        return self.superuser or any(
            area.path.startswith(p) for p in self.paths_for(REGISTER_ROLES)
        )

    def require(self, roles: frozenset[str]) -> None:
        if not self.has_any(roles):
            raise NotAllowed()


def scope_for(user: User) -> Scope:
    """Build (and cache on the user object) the scope of `user`."""
    cached = getattr(user, "_baogong_scope", None)
    if cached is not None:
        return cached
    scope = Scope(user=user, superuser=bool(user.is_active and user.is_superuser))
    if user.is_authenticated and user.is_active:
        for role, area_path, household_id, supplier_id in user.grants.values_list(
            "role", "area__path", "household_id", "supplier_id"
        ):
            if area_path:
                scope.area_paths.setdefault(role, set()).add(area_path)
            elif household_id:
                scope.household_ids.add(household_id)
            elif supplier_id:
                scope.supplier_ids.add(supplier_id)
    user._baogong_scope = scope
    return scope
