"""Checks shared by the demo and synthetic-city tests."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Max

from baogong.areas.models import Area, Household, Resident
from baogong.core.phones import normalize_phone


def table_state() -> dict[str, tuple[int, Any]]:
    """Row count and latest change of every table, to prove a command wrote nothing."""
    state = {}
    for model in apps.get_models():
        manager = model._base_manager
        latest = None
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            latest = manager.aggregate(latest=Max("updated_at"))["latest"]
        state[model._meta.label] = (manager.count(), latest)
    return state


def district_snapshot(district: Area) -> dict[str, list[tuple]]:
    """Everything under `district` keyed by names, not primary keys, so two copies compare equal."""
    areas = list(
        Area.objects.filter(path__startswith=district.path).values(
            "pk",
            "parent_id",
            "kind",
            "name",
            "code",
            "latitude",
            "longitude",
            "units_count",
            "containment",
            "containment_since",
            "containment_until",
        )
    )
    by_pk = {area["pk"]: area for area in areas}

    def name_path(pk: int) -> tuple[str, ...]:
        area = by_pk[pk]
        if area["pk"] == district.pk:
            return ()
        return (*name_path(area["parent_id"]), area["name"])

    area_rows = sorted(
        (
            name_path(a["pk"]),
            a["kind"],
            a["code"],
            a["latitude"],
            a["longitude"],
            a["units_count"],
            a["containment"],
            a["containment_since"],
            a["containment_until"],
        )
        for a in areas
    )
    households = Household.objects.filter(building__path__startswith=district.path)
    household_rows = sorted(
        (
            name_path(h.building_id),
            name_path(h.compound_id),
            h.unit,
            h.floor,
            h.room,
            h.members_count,
            h.phone,
            h.phone_alt,
            h.containment,
            h.containment_since,
            h.notes,
        )
        for h in households
    )
    resident_rows = sorted(
        (
            name_path(r.household.building_id),
            r.household.unit,
            r.household.room,
            r.name,
            r.phone,
            r.is_contact,
            r.special_group,
            r.needs_door_delivery,
            r.notes,
        )
        for r in Resident.objects.filter(household__in=households).select_related("household")
    )
    return {"areas": area_rows, "households": household_rows, "residents": resident_rows}


def assert_paths_consistent(district: Area) -> None:
    """Every node's path is its parent's path plus its own key."""
    areas = {a.pk: a for a in Area.objects.filter(path__startswith=district.path)}
    assert district.path == f"/{district.pk}/"
    for area in areas.values():
        if area.parent_id is not None:
            assert area.path == f"{areas[area.parent_id].path}{area.pk}/", area
            assert Area.CHILD_KIND[areas[area.parent_id].kind] == area.kind


def assert_fake_mobile(phone: str) -> None:
    assert normalize_phone(phone) == phone
    assert phone.startswith("170") and len(phone) == 11
