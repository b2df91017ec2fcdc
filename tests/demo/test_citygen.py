"""The generator is plain Python: these tests need no database."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from baogong.areas.addresses import floor_of
from baogong.areas.models import Containment, Gate
from baogong.demo import citygen, names
from baogong.demo.citygen import FakePhones, generate_city, register_rows
from baogong.demo.names import Gender, Generation
from tests.demo.helpers import assert_fake_mobile


@pytest.mark.parametrize("households", [1, 17, 500, 4321])
def test_generate_city_makes_exactly_the_households_asked_for(households):
    city = generate_city(households, seed=3)
    counts = city.counts()
    assert counts["households"] == households
    assert counts["residents"] == households
    assert len(list(register_rows(city))) == households


def test_generate_city_is_deterministic_per_seed():
    assert generate_city(800, seed=5) == generate_city(800, seed=5)
    assert generate_city(800, seed=5) != generate_city(800, seed=6)


def test_generate_city_is_sized_like_a_real_district():
    city = generate_city(30_000, seed=9)
    for street in city.streets[:-1]:  # the last one stops when the count is reached
        assert 4 <= len(street.communities) <= 8
    for compound in list(city.compounds())[:-1]:
        assert 20 <= len(compound.buildings) <= 60
        assert 1 <= len(compound.gates) <= 2
        assert compound.gates[0].latitude is not None
    sizes = [len(b.households) for b in city.buildings()]
    assert 20 <= sum(sizes) / len(sizes) <= 80


def test_generate_city_keeps_names_and_rooms_unique_where_the_register_needs_it():
    city = generate_city(20_000, seed=2)
    assert len({s.name for s in city.streets}) == len(city.streets)
    compounds = [c.name for c in city.compounds()]
    assert len(set(compounds)) == len(compounds)
    for street in city.streets:
        assert len({c.name for c in street.communities}) == len(street.communities)
    for compound in city.compounds():
        assert len({b.name for b in compound.buildings}) == len(compound.buildings)
        for building in compound.buildings:
            flats = [(h.unit, h.room) for h in building.households]
            assert len(flats) == len(set(flats))
            for household in building.households:
                assert floor_of(household.room) == household.floor
                assert (household.unit == "") == (building.units_count == 0)


def test_generate_city_phones_are_unique_valid_and_fake():
    phones = [h.phone for h in generate_city(5000, seed=4).households()]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert_fake_mobile(phone)
        # Kept clear of the blocks the test factories and demo logins use.
        assert phone >= "17020000000"


def test_fake_phones_never_repeat_and_differ_by_seed():
    first, second = FakePhones(1), FakePhones(2)
    drawn = [first.next() for _ in range(50_000)]
    assert len(set(drawn)) == len(drawn)
    assert drawn[:100] != [second.next() for _ in range(100)]


def test_family_members_have_distinct_names_and_the_contact_first():
    rng, phones = random.Random(1), FakePhones(1)
    for _ in range(500):
        members = rng.randint(1, 5)
        residents, second_phone = citygen.family(rng, phones, members)
        assert len(residents) == members
        assert len({r.name for r in residents}) == members
        assert residents[0].is_contact and residents[0].phone
        assert not any(r.is_contact for r in residents[1:])
        assert second_phone in ("", *[r.phone for r in residents[1:]])


def test_person_names_look_like_chinese_names():
    rng = random.Random(8)
    drawn = [
        names.person_name(rng, generation=g, gender=s)
        for g in Generation
        for s in Gender
        for _ in range(200)
    ]
    assert all(2 <= len(name) <= 4 for name in drawn)
    # Common surnames are common: 王/李/张 head a good share of any register.
    surnames = Counter(name[0] for name in drawn)
    assert surnames["王"] + surnames["李"] + surnames["张"] > len(drawn) / 10
    assert len(set(drawn)) > len(drawn) / 2


def test_person_name_avoids_names_already_taken():
    rng = random.Random(3)
    taken = {names.person_name(random.Random(3), family="王")}
    assert names.person_name(rng, family="王", taken=taken) not in taken


def test_citygen_values_match_the_model_choices():
    assert {citygen.NONE, citygen.CONTROLLED, citygen.SEALED} <= set(Containment.values)
    assert citygen.GATE in Gate.Kind.values
