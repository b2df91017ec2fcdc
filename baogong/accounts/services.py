"""Accounts: create users with a role on a scope, reset passwords, revoke grants.

Who may grant what follows the tree: a role holder grants only roles below
their own, and only on nodes inside their own subtree; residents' accounts are
given by the staff who keep the register of that household's building.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import AREA_ROLES, Role, RoleGrant, User
from baogong.accounts.scoping import REGISTER_ROLES, scope_for
from baogong.areas.models import Area, Household
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.core.phones import PhoneError, normalize_phone

# Which roles each role may grant. The bureau and suppliers grant nothing here.
GRANTABLE: dict[str, frozenset[str]] = {
    Role.DISTRICT_ADMIN: frozenset(
        {
            Role.STREET_STAFF,
            Role.COMMUNITY_STAFF,
            Role.LIAISON,
            Role.VOLUNTEER,
            Role.BUREAU_STAFF,
            Role.RESIDENT,
        }
    ),
    Role.STREET_STAFF: frozenset(
        {Role.COMMUNITY_STAFF, Role.LIAISON, Role.VOLUNTEER, Role.RESIDENT}
    ),
    Role.COMMUNITY_STAFF: frozenset({Role.LIAISON, Role.VOLUNTEER, Role.RESIDENT}),
}
# The kind of node each area role is granted on.
ROLE_AREA_KINDS: dict[str, frozenset[str]] = {
    Role.DISTRICT_ADMIN: frozenset({Area.Kind.DISTRICT}),
    Role.BUREAU_STAFF: frozenset({Area.Kind.DISTRICT}),
    Role.STREET_STAFF: frozenset({Area.Kind.STREET}),
    Role.COMMUNITY_STAFF: frozenset({Area.Kind.COMMUNITY}),
    Role.LIAISON: frozenset({Area.Kind.COMPOUND}),
    Role.VOLUNTEER: frozenset({Area.Kind.COMPOUND, Area.Kind.BUILDING}),
}

TEMPORARY_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i


def temporary_password() -> str:
    """A password easy to read out on the phone: 10 characters, no look-alikes."""
    return "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(10))


def grantable_roles(by: User, area: Area) -> list[str]:
    """The area roles `by` may grant on `area` (empty if none)."""
    scope = scope_for(by)
    if scope.superuser:
        allowed = set(AREA_ROLES)
    else:
        allowed = set()
        for role, paths in scope.area_paths.items():
            if any(area.path.startswith(p) for p in paths):
                allowed |= GRANTABLE.get(role, frozenset())
    return [
        r
        for r in Role.values
        if r in allowed and r != Role.RESIDENT and area.kind in ROLE_AREA_KINDS.get(r, ())
    ]


def _check_may_grant(
    by: User, role: str, *, area: Area | None, household: Household | None
) -> None:
    if role == Role.RESIDENT:
        if household is None or not scope_for(by).has_any(REGISTER_ROLES | {Role.DISTRICT_ADMIN}):
            raise NotAllowed()
        if not scope_for(by).can_edit_area(household.building):
            raise NotAllowed()
        return
    if area is None or role not in grantable_roles(by, area):
        raise NotAllowed()


def _find_or_create_user(*, phone: str, name: str, by: User) -> tuple[User, str | None]:
    """Return the user with this phone (or a new one) and its temporary password if new."""
    try:
        phone = normalize_phone(phone)
    except PhoneError:
        raise InvalidInput(
            _("“%(value)s” is not a mainland mobile number."), value=phone
        ) from None
    if not name.strip():
        raise InvalidInput(_("Please enter the person's name."))
    # Lock the row so two staff adding the same person at once do not both create it.
    user = User.objects.select_for_update().filter(phone=phone).first()
    if user is not None:
        return user, None
    password = temporary_password()
    user = User(phone=phone, name=name.strip(), password_change_required=True)
    user.set_password(password)
    user._history_user = by
    user.save()
    return user, password


@transaction.atomic
def account_grant(
    *,
    phone: str,
    name: str,
    role: str,
    by: User,
    area: Area | None = None,
    household: Household | None = None,
) -> tuple[RoleGrant, str | None]:
    """Give the person with `phone` the `role` on a node or household, creating their account.

    Returns the grant and, for a new account, the temporary password to hand over
    (it is shown once and never stored in clear). Raises NotAllowed, InvalidInput
    or Conflict (the person already holds this role there).
    """
    _check_may_grant(by, role, area=area, household=household)
    user, password = _find_or_create_user(phone=phone, name=name, by=by)
    scope_filter = {"household": household} if role == Role.RESIDENT else {"area": area}
    if RoleGrant.objects.filter(user=user, role=role, **scope_filter).exists():
        raise Conflict(_("%(name)s already has this role here."), name=user.name)
    grant = RoleGrant(user=user, role=role, granted_by=by, **scope_filter)
    grant._history_user = by
    grant.save()
    return grant, password


def may_manage(by: User, user: User) -> bool:
    """Whether `by` may reset `user`'s password or revoke their grants: every grant
    `user` holds must be one `by` could give."""
    if by.is_superuser:
        return True
    if user.is_superuser or user.pk == by.pk:
        return False
    grants = list(user.grants.select_related("area", "household__building"))
    if not grants:
        return False
    for grant in grants:
        try:
            _check_may_grant(by, grant.role, area=grant.area, household=grant.household)
        except NotAllowed:
            return False
    return True


@transaction.atomic
def account_reset_password(*, user: User, by: User) -> str:
    """Set a new temporary password (to be changed at next login) and return it."""
    if not may_manage(by, user):
        raise NotAllowed()
    password = temporary_password()
    user.set_password(password)
    user.password_change_required = True
    user._history_user = by
    user.save(update_fields=["password", "password_change_required"])
    return password


@transaction.atomic
def grant_revoke(*, grant: RoleGrant, by: User) -> None:
    _check_may_grant(by, grant.role, area=grant.area, household=grant.household)
    grant._history_user = by
    grant.delete()


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    user.set_password(new_password)
    user.password_change_required = False
    user._history_user = user
    user.save(update_fields=["password", "password_change_required"])
