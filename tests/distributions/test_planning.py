"""The allocation rules as a pure function: sizes, priority, shortfalls, unservable households."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from baogong.distributions import planning
from baogong.distributions.planning import (
    DUPLICATE,
    NO_ROOM,
    OTHER,
    SEALED_OR_SPECIAL,
    WAITING_LIST,
    Band,
    HouseholdRow,
    Rules,
    allocate,
)

BANDS = (Band(1, 2, 1), Band(3, 4, 2), Band(5, None, 3))
MAIN, SPECIAL = 1, 2


def row(pk, *, members=1, building=10, room=None, unit="1", **flags) -> HouseholdRow:
    return HouseholdRow(
        id=pk,
        compound_id=1,
        building_id=building,
        unit=unit,
        room=room if room is not None else str(100 + pk),
        members=members,
        order=(building, unit, pk),
        **flags,
    )


def test_one_pack_per_household_by_default():
    plan = allocate([row(1, members=5), row(2)], Rules(MAIN, {MAIN: 10}))
    assert [(line.household_id, line.packs, line.served) for line in plan.lines] == [
        (1, 1, True),
        (2, 1, True),
    ]
    assert plan.shortfalls == []


def test_size_bands_give_packs_by_household_size():
    rows = [row(pk, members=m) for pk, m in enumerate([1, 2, 3, 4, 5, 9], start=1)]
    plan = allocate(rows, Rules(MAIN, {MAIN: 100}, bands=BANDS))
    assert [line.packs for line in plan.lines] == [1, 1, 2, 2, 3, 3]
    assert plan.packs_allocated() == Counter({MAIN: 12})


def test_special_groups_get_extra_packs_or_their_own_package():
    rows = [row(1, members=3, special=True), row(2, members=3)]
    plan = allocate(rows, Rules(MAIN, {MAIN: 100}, bands=BANDS, special_extra=1))
    assert [(line.household_id, line.packs, line.special) for line in plan.lines] == [
        (1, 3, True),
        (2, 2, False),
    ]
    plan = allocate(rows, Rules(MAIN, {MAIN: 100, SPECIAL: 5}, special_package=SPECIAL))
    assert {line.household_id: line.package_id for line in plan.lines} == {1: SPECIAL, 2: MAIN}


def test_shortfall_leaves_out_by_the_stated_rule():
    """Sealed and special households first, then building order; the rest wait."""
    rows = [
        row(1, building=1),
        row(2, building=2, sealed=True),
        row(3, building=3),
        row(4, building=4, special=True),
        row(5, building=5),
    ]
    plan = allocate(rows, Rules(MAIN, {MAIN: 3}))
    assert [line.household_id for line in plan.served] == [2, 4, 1]
    assert [line.household_id for line in plan.left_out] == [3, 5]
    assert [line.priority for line in plan.lines] == [SEALED_OR_SPECIAL] * 2 + [OTHER] * 3
    [shortfall] = plan.shortfalls
    assert (shortfall.available, shortfall.needed, shortfall.households_left_out) == (3, 5, 2)
    assert shortfall.first_rank_left_out == 4


def test_waiting_list_of_an_earlier_batch_comes_first():
    rows = [row(1, sealed=True), row(2, waiting=True)]
    plan = allocate(rows, Rules(MAIN, {MAIN: 1}))
    assert [(line.household_id, line.priority, line.served) for line in plan.lines] == [
        (2, WAITING_LIST, True),
        (1, SEALED_OR_SPECIAL, False),
    ]


def test_nobody_is_skipped_for_a_later_household_that_fits():
    """A 3-pack household that does not fit is not passed over for a 1-pack one behind it."""
    rows = [row(1, members=5), row(2, members=1)]
    plan = allocate(rows, Rules(MAIN, {MAIN: 2}, bands=BANDS))
    assert [line.served for line in plan.lines] == [False, False]
    assert plan.shortfalls[0].unused == 2


def test_households_without_room_or_with_a_duplicate_address_are_set_aside():
    rows = [
        row(1, room=""),
        row(2, room="502", unit="2"),
        row(3, room="０５０２室", unit="2单元"),  # the same flat, written another way
        row(4, room="502", unit="3"),
    ]
    plan = allocate(rows, Rules(MAIN, {MAIN: 10}))
    assert [line.household_id for line in plan.lines] == [4]
    assert {(u.household_id, u.reason) for u in plan.unservable} == {
        (1, NO_ROOM),
        (2, DUPLICATE),
        (3, DUPLICATE),
    }


def test_per_compound_summary_counts_households_and_packs():
    rows = [row(1, building=10), row(2, building=11), row(3, building=11)]
    plan = allocate(rows, Rules(MAIN, {MAIN: 2}))
    plan.names = {1: "春园小区", 10: "3号楼", 11: "10号楼"}
    [compound] = planning.per_compound(plan)
    assert (compound.households, compound.served, compound.left_out) == (3, 2, 1)
    assert compound.packs == Counter({MAIN: 2})
    assert [(b.name, b.households, b.served) for b in compound.buildings] == [
        ("3号楼", 1, 1),
        ("10号楼", 2, 1),
    ]


households = st.lists(
    st.tuples(
        st.integers(1, 8),  # members
        st.integers(1, 6),  # building
        st.booleans(),  # sealed
        st.booleans(),  # special
        st.booleans(),  # on an earlier waiting list
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    data=households,
    main_stock=st.integers(0, 120),
    special_stock=st.integers(0, 30),
    use_bands=st.booleans(),
    extra=st.integers(0, 2),
    special_package=st.booleans(),
)
def test_allocation_invariants(data, main_stock, special_stock, use_bands, extra, special_package):
    rows = [
        row(pk, members=m, building=b, sealed=sealed, special=special, waiting=waiting)
        for pk, (m, b, sealed, special, waiting) in enumerate(data, start=1)
    ]
    rules = Rules(
        MAIN,
        {MAIN: main_stock, SPECIAL: special_stock},
        bands=BANDS if use_bands else (),
        special_package=SPECIAL if special_package else None,
        special_extra=extra,
    )
    plan = allocate(rows, rules)
    # Everyone is in the plan once; nobody twice.
    assert sorted(line.household_id for line in plan.lines) == [r.id for r in rows]
    # The total allocated never exceeds the stock, per package.
    for package, packs in plan.packs_allocated().items():
        assert packs <= rules.stock[package]
    # Sizes follow the bands (plus the special extra).
    by_id = {r.id: r for r in rows}
    for line in plan.lines:
        base = planning.packs_for(by_id[line.household_id].members, rules.bands)
        assert line.packs == base + (extra if line.special else 0)
    # Priority respected: per package, nobody left out while someone ranked after them is
    # served, so no higher class waits while a lower one gets packs of the same package.
    for package in (MAIN, SPECIAL):
        lines = [line for line in plan.lines if line.package_id == package]
        first_out = next((line.rank for line in lines if not line.served), None)
        if first_out is not None:
            assert all(not line.served for line in lines if line.rank > first_out)
        ranks = [(line.priority, line.rank) for line in lines]
        assert ranks == sorted(ranks)
    # Never a silent shortfall: every household left out is counted in a stated shortfall.
    assert sum(s.households_left_out for s in plan.shortfalls) == len(plan.left_out)
