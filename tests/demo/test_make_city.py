from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from baogong.areas.models import Area, Household, Resident
from tests.demo.helpers import (
    assert_fake_mobile,
    assert_paths_consistent,
    district_snapshot,
    table_state,
)

pytestmark = pytest.mark.django_db


def make_city(households: int, seed: int, name: str, *, history: bool = True) -> Area:
    out = StringIO()
    call_command(
        "make_city", households=households, seed=seed, name=name, no_history=not history, stdout=out
    )
    return Area.objects.get(parent__isnull=True, name=name)


def test_make_city_builds_exactly_the_households_asked_for():
    district = make_city(500, 1, "合成区A")
    households = Household.objects.filter(building__path__startswith=district.path)
    assert households.count() == 500
    assert Resident.objects.filter(household__in=households).count() == 500
    kinds = Counter(
        Area.objects.filter(path__startswith=district.path).values_list("kind", flat=True)
    )
    assert kinds[Area.Kind.DISTRICT] == 1
    for kind in (Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND, Area.Kind.BUILDING):
        assert kinds[kind] >= 1
    assert_paths_consistent(district)


def test_make_city_builds_a_single_household():
    district = make_city(1, 5, "合成区一户")
    assert Household.objects.filter(building__path__startswith=district.path).count() == 1
    assert_paths_consistent(district)


def test_make_city_with_the_same_seed_writes_the_same_rows():
    first = district_snapshot(make_city(500, 7, "合成区甲"))
    second = district_snapshot(make_city(500, 7, "合成区乙"))
    assert first == second
    assert len(first["households"]) == 500


def test_make_city_with_another_seed_writes_other_rows():
    first = district_snapshot(make_city(500, 7, "合成区甲"))
    other = district_snapshot(make_city(500, 8, "合成区丙"))
    assert first["areas"] != other["areas"]
    assert first["residents"] != other["residents"]
    assert ({h[6] for h in first["households"]} & {h[6] for h in other["households"]}) == set()


def test_make_city_uses_unique_valid_fake_phones():
    district = make_city(500, 3, "合成区B")
    households = Household.objects.filter(building__path__startswith=district.path)
    phones = list(households.values_list("phone", flat=True))
    assert len(set(phones)) == 500
    for phone in phones:
        assert_fake_mobile(phone)
    for phone in Resident.objects.filter(household__in=households).values_list("phone", flat=True):
        assert_fake_mobile(phone)


def test_make_city_keeps_the_register_keys_unique():
    district = make_city(2000, 11, "合成区C")
    keys = list(
        Household.objects.filter(building__path__startswith=district.path).values_list(
            "building_id", "unit", "room"
        )
    )
    assert len(keys) == len(set(keys)) == 2000
    siblings = list(
        Area.objects.filter(path__startswith=district.path).values_list("parent_id", "name")
    )
    assert len(siblings) == len(set(siblings))
    for household in Household.objects.filter(
        building__path__startswith=district.path
    ).select_related("building"):
        assert household.compound_id == household.building.parent_id
        assert household.floor == int(household.room[:-2])


def test_make_city_writes_history_unless_told_not_to():
    with_history = make_city(300, 2, "合成区D")
    households = Household.objects.filter(building__path__startswith=with_history.path)
    history = Household.history.filter(building_id__in=households.values("building_id"))
    assert history.count() == 300
    assert set(history.values_list("history_type", "history_change_reason")) == {("+", "make_city")}
    assert Resident.history.filter(household_id__in=households.values("pk")).count() == 300
    assert Area.history.filter(id=with_history.pk).exists()

    without = make_city(300, 2, "合成区E", history=False)
    households = Household.objects.filter(building__path__startswith=without.path)
    assert not Household.history.filter(id__in=households.values("pk")).exists()


def test_make_city_refuses_a_name_in_use_and_writes_nothing():
    make_city(100, 1, "合成区F")
    before = table_state()
    with pytest.raises(CommandError, match="already exists"):
        make_city(100, 2, "合成区F")
    assert table_state() == before


def test_make_city_reports_what_it_built():
    out = StringIO()
    call_command("make_city", households=250, seed=4, stdout=out)
    output = out.getvalue()
    assert "合成区-250-4" in output
    assert "households" in output and "250" in output
    assert " s" in output


def test_make_city_refuses_zero_households():
    with pytest.raises(CommandError):
        call_command("make_city", households=0, stdout=StringIO())
