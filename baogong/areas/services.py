"""Writes to the area tree and the household register.

Every function takes the acting user as `by=` and checks it may act on the
node; history rows (django-simple-history) record who changed what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from baogong.accounts.scoping import scope_for
from baogong.areas.addresses import floor_of
from baogong.areas.models import Area, Gate, Household, Resident
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.core.phones import PhoneError, normalize_phone

if TYPE_CHECKING:
    from baogong.accounts.models import User


def _require_register_rights(by: User | None, area: Area) -> None:
    """`by=None` is the system itself (demo loader, generator, migrations)."""
    if by is not None and not scope_for(by).can_edit_area(area):
        raise NotAllowed()


def set_path(area: Area) -> None:
    """Fill the materialised path of a saved area from its parent's path."""
    area.path = f"{area.parent.path if area.parent_id else '/'}{area.pk}/"


@transaction.atomic
def area_create(
    *, parent: Area | None, kind: str, name: str, by: User | None, **fields: Any
) -> Area:
    """Create a node under `parent`; its kind must be the one that belongs there."""
    if parent is None:
        if kind != Area.Kind.DISTRICT:
            raise InvalidInput(_("Only a district can be at the top of the tree."))
        if by is not None and not by.is_superuser:
            raise NotAllowed()
    else:
        _require_register_rights(by, parent)
        if Area.CHILD_KIND.get(parent.kind) != kind:
            raise InvalidInput(
                _("A %(child)s cannot be placed under a %(parent)s."),
                child=Area.Kind(kind).label,
                parent=parent.get_kind_display(),
            )
        fields.setdefault("rural", parent.rural)
    area = Area.objects.create(parent=parent, kind=kind, name=name.strip(), **fields)
    set_path(area)
    Area.objects.filter(pk=area.pk).update(path=area.path)
    return area


def clean_phone(raw: str, *, field: str) -> str:
    if not raw:
        return ""
    try:
        return normalize_phone(raw)
    except PhoneError:
        raise InvalidInput(
            _("%(field)s “%(value)s” is not a mainland mobile or landline number."),
            field=field,
            value=raw,
        ) from None


@transaction.atomic
def household_save(*, household: Household, by: User | None) -> Household:
    """Validate and save a new or edited household (building must be in the editor's scope)."""
    building = household.building
    if building.kind != Area.Kind.BUILDING:
        raise InvalidInput(_("A household must belong to a building."))
    _require_register_rights(by, building)
    household.compound_id = building.parent_id
    household.room = household.room.strip()
    household.unit = household.unit.strip()
    if household.floor is None:
        household.floor = floor_of(household.room)
    household.phone = clean_phone(household.phone, field=_("Contact phone"))
    household.phone_alt = clean_phone(household.phone_alt, field=_("Second phone"))
    clash = Household.objects.filter(
        building=building, unit=household.unit, room=household.room
    ).exclude(pk=household.pk)
    if clash.exists():
        raise InvalidInput(_("This building already has a household in that entrance and room."))
    household._history_user = by
    household.save()
    return household


@transaction.atomic
def household_delete(*, household: Household, by: User | None) -> None:
    _require_register_rights(by, household.building)
    household._history_user = by
    household.delete()


@transaction.atomic
def resident_save(*, resident: Resident, by: User | None) -> Resident:
    _require_register_rights(by, resident.household.building)
    resident.name = resident.name.strip()
    resident.phone = clean_phone(resident.phone, field=_("Phone"))
    if resident.is_contact and resident.phone and not resident.household.phone:
        resident.household.phone = resident.phone
        resident.household._history_user = by
        resident.household.save(update_fields=["phone", "updated_at"])
    resident._history_user = by
    resident.save()
    return resident


@transaction.atomic
def resident_delete(*, resident: Resident, by: User | None) -> None:
    _require_register_rights(by, resident.household.building)
    resident._history_user = by
    resident.delete()


@transaction.atomic
def gate_save(*, gate: Gate, by: User | None) -> Gate:
    """Save a gate, pick-up point, transfer point or storage place of a compound."""
    _require_register_rights(by, gate.compound)
    gate.name = gate.name.strip()
    if not gate.name:
        raise InvalidInput(_("Give the place a name."))
    if gate.building_id and gate.building.parent_id != gate.compound_id:
        raise InvalidInput(_("The building must belong to this compound."))
    if Gate.objects.filter(compound=gate.compound, name=gate.name).exclude(pk=gate.pk).exists():
        raise InvalidInput(
            _("This compound already has a place called “%(name)s”."), name=gate.name
        )
    gate.save()
    return gate
