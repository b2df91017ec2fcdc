"""Generate a synthetic district as plain data: streets → communities → compounds → households.

Plain module (no ORM, no Django settings): it returns dataclasses and never
touches a database, so three callers share one generator:

- `manage.py make_city` writes a city into the database through
  `baogong.demo.services.city_write`;
- `manage.py load_demo` builds the Fancheng demo district (`baogong.demo.fancheng`)
  from the same building, household and phone helpers;
- benchmarks under `bench/` write the same city to spreadsheets without a
  database, e.g. a household register for the import benchmark::

      from baogong.demo.citygen import RegisterRow, generate_city, register_rows
      city = generate_city(100_000, seed=1)
      sheet.append(list(RegisterRow._fields))
      for row in register_rows(city):   # street, community, compound, building, unit, room, …
          sheet.append(list(row))

Deterministic: the same `households` and `seed` give the identical tree,
names, rooms and phones on every machine, because every draw comes from one
`random.Random(seed)` in a fixed order (no sets are iterated, no clock is read).
The household count is exact: the last building is cut short if needed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from baogong.areas.addresses import building_name
from baogong.demo import names
from baogong.demo.names import Gender, Generation

# The values of baogong.areas.models.Containment and Gate.Kind, repeated here
# so this module stays importable without Django; a test checks they agree.
NONE = "none"
CONTROLLED = "controlled"
SEALED = "sealed"
GATE = "gate"

# Containment dates are counted back from this fixed day (the Fancheng plan
# started on 9 February), never from today, so every run writes the same rows.
REFERENCE_DATE = date(2026, 2, 9)

# Xiangyang, Fancheng district: the centre the coordinates scatter around.
CENTRE_LATITUDE = 32.04
CENTRE_LONGITUDE = 112.14

_SPECIAL_NOTES_ALONE = "独居老人"
_SPECIAL_NOTES = (
    ("慢性病，需长期用药", False),
    ("行动不便", True),
    ("残疾人", True),
    ("孕妇", False),
    ("困难家庭", False),
)


# --- phones ------------------------------------------------------------------


class FakePhones:
    """Hand out unique, well-formed mobile numbers that reach nobody.

    All numbers are in 170 2000 0000 – 170 9999 9999. The 170 prefix is a
    virtual-operator range; the lower blocks are kept for fixed accounts:
    170 0000 xxxx–170 0002 xxxx for test factories, 170 1000 xxxx for the
    demo logins. Within that span the i-th number is (a·i + b) mod span with
    `a` coprime to the span, a permutation: numbers never repeat (up to 80
    million of them) and still look scattered rather than sequential.
    """

    FIRST = 170_2000_0000
    SPAN = 8000_0000  # 2^10 · 5^7, so any `a` not divisible by 2 or 5 is coprime

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed * 1_000_003 + 17)
        multiplier = rng.randrange(self.SPAN // 3, self.SPAN)
        while multiplier % 2 == 0 or multiplier % 5 == 0:
            multiplier += 1
        self._multiplier = multiplier
        self._offset = rng.randrange(self.SPAN)
        self._issued = 0

    def next(self) -> str:
        if self._issued >= self.SPAN:
            raise OverflowError("the fake phone range is used up")
        number = self.FIRST + (self._multiplier * self._issued + self._offset) % self.SPAN
        self._issued += 1
        return str(number)


# --- the tree as plain data ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResidentSpec:
    name: str
    phone: str = ""
    is_contact: bool = False
    special_group: bool = False
    needs_door_delivery: bool = False
    notes: str = ""


@dataclass(frozen=True, slots=True)
class HouseholdSpec:
    unit: str  # entrance number as digits, "" when the building has none
    floor: int
    room: str
    members_count: int
    phone: str
    residents: tuple[ResidentSpec, ...]
    phone_alt: str = ""
    containment: str = NONE
    containment_since: date | None = None
    notes: str = ""


@dataclass(slots=True)
class BuildingSpec:
    name: str
    units_count: int
    households: list[HouseholdSpec] = field(default_factory=list)
    containment: str = NONE
    containment_since: date | None = None
    containment_until: date | None = None


@dataclass(frozen=True, slots=True)
class GateSpec:
    name: str
    kind: str = GATE
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(slots=True)
class CompoundSpec:
    name: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    gates: list[GateSpec] = field(default_factory=list)
    buildings: list[BuildingSpec] = field(default_factory=list)


@dataclass(slots=True)
class CommunitySpec:
    name: str
    code: str = ""
    compounds: list[CompoundSpec] = field(default_factory=list)


@dataclass(slots=True)
class StreetSpec:
    name: str
    code: str = ""
    communities: list[CommunitySpec] = field(default_factory=list)


@dataclass(slots=True)
class CitySpec:
    """A whole district; `seed` is kept so output can say how to rebuild it."""

    name: str
    seed: int
    code: str = ""
    streets: list[StreetSpec] = field(default_factory=list)

    def communities(self) -> Iterator[CommunitySpec]:
        for street in self.streets:
            yield from street.communities

    def compounds(self) -> Iterator[CompoundSpec]:
        for community in self.communities():
            yield from community.compounds

    def buildings(self) -> Iterator[BuildingSpec]:
        for compound in self.compounds():
            yield from compound.buildings

    def households(self) -> Iterator[HouseholdSpec]:
        for building in self.buildings():
            yield from building.households

    def counts(self) -> dict[str, int]:
        """Count every kind of row the city will write, in tree order."""
        compounds = list(self.compounds())
        buildings = [b for c in compounds for b in c.buildings]
        households = [h for b in buildings for h in b.households]
        return {
            "streets": len(self.streets),
            "communities": sum(len(s.communities) for s in self.streets),
            "compounds": len(compounds),
            "gates": sum(len(c.gates) for c in compounds),
            "buildings": len(buildings),
            "households": len(households),
            "residents": sum(len(h.residents) for h in households),
        }


class RegisterRow(NamedTuple):
    """One household as a row of a register spreadsheet."""

    street: str
    community: str
    compound: str
    building: str
    unit: str
    room: str
    members_count: int
    contact: str
    phone: str


def register_rows(city: CitySpec) -> Iterator[RegisterRow]:
    """Yield the city's households in tree order, one flat row each (for spreadsheets)."""
    for street in city.streets:
        for community in street.communities:
            for compound in community.compounds:
                for building in compound.buildings:
                    for household in building.households:
                        contact = next((r.name for r in household.residents if r.is_contact), "")
                        yield RegisterRow(
                            street.name,
                            community.name,
                            compound.name,
                            building.name,
                            household.unit,
                            household.room,
                            household.members_count,
                            contact,
                            household.phone,
                        )


# --- buildings -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layout:
    """The shape of a building: floors × rooms per floor × entrances (0: not numbered)."""

    floors: int
    rooms_per_floor: int
    entrances: int

    @property
    def size(self) -> int:
        return self.floors * self.rooms_per_floor * max(self.entrances, 1)

    def flats(self) -> Iterator[tuple[str, int, str]]:
        """Yield (unit, floor, room) in register order: entrance, then floor, then door."""
        units = [str(u) for u in range(1, self.entrances + 1)] or [""]
        for unit in units:
            for floor in range(1, self.floors + 1):
                for door in range(1, self.rooms_per_floor + 1):
                    yield unit, floor, f"{floor}{door:02d}"


def walk_up_layout(rng: random.Random, *, small: bool = False) -> Layout:
    """A 1980s–2000s walk-up: about six floors, two to four flats per landing.

    `small` draws the older, smaller blocks (mostly two flats per landing, at
    most two entrances) that keep the demo district quick to load.
    """
    if small:
        return Layout(
            floors=rng.choice((5, 6, 6, 7)),
            rooms_per_floor=rng.choices((2, 3), weights=(4, 1))[0],
            entrances=rng.choices((0, 1, 2), weights=(1, 3, 3))[0],
        )
    return Layout(
        floors=rng.choice((5, 6, 6, 6, 7)),
        rooms_per_floor=rng.choices((2, 3, 4), weights=(6, 2, 2))[0],
        entrances=rng.choices((0, 1, 2, 3), weights=(1, 3, 4, 3))[0],
    )


def tower_layout(rng: random.Random) -> Layout:
    """A newer lift tower: one entrance (often not numbered), many floors."""
    return Layout(
        floors=rng.randint(11, 18), rooms_per_floor=rng.randint(2, 4), entrances=rng.choice((0, 1))
    )


def building_names(rng: random.Random, count: int) -> list[str]:
    """Name a compound's buildings the way one developer would: 1号楼…, 1栋…, 1幢… or A座…."""
    style = rng.choices(("号楼", "栋", "幢", "座"), weights=(6, 3, 1, 1))[0]
    if style == "座" and count <= 8:
        return [building_name(chr(ord("A") + i)) for i in range(count)]
    if style in ("号楼", "座"):
        return [building_name(str(i)) for i in range(1, count + 1)]
    return [f"{i}{style}" for i in range(1, count + 1)]


def containment_for(
    rng: random.Random, *, sealed: float, controlled: float
) -> tuple[str, date | None, date | None]:
    """Draw a building's containment: (status, since, until), dated from REFERENCE_DATE."""
    draw = rng.random()
    if draw < sealed:
        return SEALED, REFERENCE_DATE - timedelta(days=rng.randint(0, 6)), None
    if draw < sealed + controlled:
        since = REFERENCE_DATE - timedelta(days=rng.randint(3, 10))
        return CONTROLLED, since, since + timedelta(days=14)
    return NONE, None, None


def coordinate(centre: float, spread: float, rng: random.Random) -> Decimal:
    return Decimal(f"{centre + rng.uniform(-spread, spread):.6f}")


def gates_for(rng: random.Random, lat: Decimal, lon: Decimal, *, most: int = 2) -> list[GateSpec]:
    """One to `most` gates; the first is where trucks stop, so it has coordinates."""
    sides = ["东门", "南门", "西门", "北门"]
    rng.shuffle(sides)
    count = rng.randint(1, most)
    gates = [GateSpec(sides[0] if count > 1 else "大门", GATE, lat, lon)]
    gates += [GateSpec(side) for side in sides[1:count]]
    return gates


# --- people ------------------------------------------------------------------------


def family(
    rng: random.Random, phones: FakePhones, members: int
) -> tuple[tuple[ResidentSpec, ...], str]:
    """Draw a household of `members` people (1–5); return them and the second phone.

    The first person is the contact and carries the household phone. Adults
    have their own phones, children none, some elders none; an elder living
    alone is a special-care resident who needs door delivery.
    """
    head_gender = rng.choice((Gender.MALE, Gender.FEMALE))
    head_surname, spouse_surname = names.surname(rng), names.surname(rng)
    # Children (and the paternal grandparents who live with them) take the father's name.
    father_surname = head_surname if head_gender is Gender.MALE else spouse_surname
    people: list[tuple[str, Generation, Gender]] = []  # (surname, generation, gender)
    if members == 1:
        generation = Generation.ELDER if rng.random() < 0.45 else Generation.ADULT
        people.append((head_surname, generation, head_gender))
    else:
        elderly_couple = members == 2 and rng.random() < 0.4
        generation = Generation.ELDER if elderly_couple else Generation.ADULT
        spouse_gender = Gender.FEMALE if head_gender is Gender.MALE else Gender.MALE
        people.append((head_surname, generation, head_gender))
        people.append((spouse_surname, generation, spouse_gender))
        for _child in range(min(members - 2, 2 if members < 5 else 1)):
            people.append((father_surname, Generation.CHILD, rng.choice(list(Gender))))
        while len(people) < members:
            grandfather = len(people) % 2 == 1
            people.append(
                (
                    father_surname if grandfather else names.surname(rng),
                    Generation.ELDER,
                    Gender.MALE if grandfather else Gender.FEMALE,
                )
            )

    taken: list[str] = []
    residents: list[ResidentSpec] = []
    for index, (surname, generation, gender) in enumerate(people):
        name = names.person_name(
            rng, family=surname, gender=gender, generation=generation, taken=taken
        )
        taken.append(name)
        has_phone = (
            index == 0
            or (generation is Generation.ADULT)
            or (generation is Generation.ELDER and rng.random() < 0.5)
        )
        special, door, notes = False, False, ""
        if members == 1 and generation is Generation.ELDER:
            special, door, notes = True, rng.random() < 0.7, _SPECIAL_NOTES_ALONE
        elif generation is not Generation.CHILD and rng.random() < 0.03:
            notes, door = rng.choice(_SPECIAL_NOTES)
            special = True
        residents.append(
            ResidentSpec(
                name=name,
                phone=phones.next() if has_phone else "",
                is_contact=index == 0,
                special_group=special,
                needs_door_delivery=door,
                notes=notes,
            )
        )
    second = next((r.phone for r in residents[1:] if r.phone), "")
    return tuple(residents), second


def single_resident(rng: random.Random, phones: FakePhones) -> tuple[int, ResidentSpec]:
    """Draw a household's size and its one registered resident: the contact, with a phone."""
    members = rng.choices((1, 2, 3, 4, 5), weights=(15, 30, 30, 15, 10))[0]
    elder = rng.random() < (0.5 if members == 1 else 0.12)
    alone_elder = members == 1 and elder
    resident = ResidentSpec(
        name=names.person_name(rng, generation=Generation.ELDER if elder else Generation.ADULT),
        phone=phones.next(),
        is_contact=True,
        special_group=alone_elder,
        needs_door_delivery=alone_elder and rng.random() < 0.7,
        notes=_SPECIAL_NOTES_ALONE if alone_elder else "",
    )
    return members, resident


# --- the synthetic city ---------------------------------------------------------------


def generate_city(households: int, *, seed: int, name: str | None = None) -> CitySpec:
    """Build a district of exactly `households` flats, one registered resident each.

    Sizes follow real estates: 4–8 communities per street office, 1–3
    compounds per community, 20–60 buildings per compound, buildings of about
    six floors × 2–4 flats × 1–3 entrances (one in ten a lift tower). Streets
    are added until the count is reached, so a city of 100,000 households has
    about seven street offices and one of 500 has one.
    """
    if households < 1:
        raise ValueError("a city needs at least one household")
    rng = random.Random(seed)
    phones = FakePhones(seed)
    city = CitySpec(name=name or f"合成区-{households}-{seed}", seed=seed)
    street_names: set[str] = set()
    # Compound names are unique city-wide: addresses name the compound, not its parents.
    compound_names: set[str] = set()
    remaining = households
    while remaining > 0:
        street = StreetSpec(names.place_name(rng, "街道", street_names))
        street_names.add(street.name)
        city.streets.append(street)
        street_lat = coordinate(CENTRE_LATITUDE, 0.05, rng)
        street_lon = coordinate(CENTRE_LONGITUDE, 0.05, rng)
        community_names: set[str] = set()
        for _community in range(rng.randint(4, 8)):
            if remaining <= 0:
                break
            community = CommunitySpec(names.place_name(rng, "社区", community_names))
            community_names.add(community.name)
            street.communities.append(community)
            for _compound in range(rng.randint(1, 3)):
                if remaining <= 0:
                    break
                compound = _synthetic_compound(
                    rng, phones, compound_names, street_lat, street_lon, remaining
                )
                compound_names.add(compound.name)
                community.compounds.append(compound)
                remaining -= sum(len(b.households) for b in compound.buildings)
    return city


def _synthetic_compound(
    rng: random.Random,
    phones: FakePhones,
    taken: set[str],
    street_lat: Decimal,
    street_lon: Decimal,
    remaining: int,
) -> CompoundSpec:
    lat = coordinate(float(street_lat), 0.01, rng)
    lon = coordinate(float(street_lon), 0.01, rng)
    compound = CompoundSpec(names.compound_name(rng, taken), lat, lon, gates_for(rng, lat, lon))
    count = rng.randint(20, 60)
    for building_name_ in building_names(rng, count):
        if remaining <= 0:
            break
        layout = tower_layout(rng) if rng.random() < 0.1 else walk_up_layout(rng)
        status, since, until = containment_for(rng, sealed=0.02, controlled=0.03)
        building = BuildingSpec(
            building_name_,
            layout.entrances,
            containment=status,
            containment_since=since,
            containment_until=until,
        )
        for unit, floor, room in layout.flats():
            if remaining <= 0:
                break
            members, resident = single_resident(rng, phones)
            building.households.append(
                HouseholdSpec(
                    unit=unit,
                    floor=floor,
                    room=room,
                    members_count=members,
                    phone=resident.phone,
                    residents=(resident,),
                )
            )
            remaining -= 1
        compound.buildings.append(building)
    return compound
