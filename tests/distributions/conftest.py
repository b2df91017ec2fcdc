"""A street with two compounds to plan free distributions in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from baogong.areas.models import Area, Containment, Household
from baogong.distributions import services
from baogong.distributions.models import Distribution
from baogong.distributions.planning import Band
from tests.factories import HouseholdFactory, make_area
from tests.requisitions.conftest import chain  # noqa: F401  (allocation orders to start from)

DEFAULT_BANDS = (Band(1, 2, 1), Band(3, 4, 2), Band(5, None, 3))


@dataclass
class Street:
    street: Area
    community: Area
    compound_a: Area
    compound_b: Area
    buildings: list[Area]  # a: 3号楼, 10号楼; b: 1号楼 (sealed)
    households: list[Household]

    def spec(self, **overrides) -> services.DistributionSpec:
        fields = {
            "title": "第1批政府保供包",
            "source": Distribution.Source.RESERVE,
            "targets": [self.street],
            "package": services.PackageSpec("保供包", "大米 5kg ×1\n食用油 1.8L ×1", 100),
        }
        fields.update(overrides)
        return services.DistributionSpec(**fields)

    def distribution(self, **overrides) -> Distribution:
        return services.distribution_create(spec=self.spec(**overrides), by=None)


@pytest.fixture
def street(db) -> Street:
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "王寨街道")
    community = make_area(Area.Kind.COMMUNITY, street, "春园社区")
    compound_a = make_area(Area.Kind.COMPOUND, community, "春园小区")
    compound_b = make_area(Area.Kind.COMPOUND, community, "秋园小区")
    b10 = make_area(Area.Kind.BUILDING, compound_a, "10号楼")
    b3 = make_area(Area.Kind.BUILDING, compound_a, "3号楼")
    sealed = make_area(Area.Kind.BUILDING, compound_b, "1号楼", containment=Containment.SEALED)
    households = []
    for building, members in ((b3, [1, 3, 5]), (b10, [2, 4]), (sealed, [1, 2])):
        for i, count in enumerate(members, start=1):
            households.append(
                HouseholdFactory(building=building, unit="1", room=f"{i}01", members_count=count)
            )
    return Street(street, community, compound_a, compound_b, [b3, b10, sealed], households)
