"""Factories for tests. Phones come from the 170 0000 range: clearly fake."""

from __future__ import annotations

import factory

from baogong.accounts.models import RoleGrant, User
from baogong.areas.models import Area, Household, Resident
from baogong.areas.services import area_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"1700000{n:04d}")
    name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "test-pass-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_area(kind: str, parent: Area | None = None, name: str | None = None, **fields) -> Area:
    count = Area.objects.count() + 1
    return area_create(parent=parent, kind=kind, name=name or f"{kind}-{count}", by=None, **fields)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    building = None  # pass building=...
    compound = factory.LazyAttribute(lambda o: o.building.parent)
    unit = "1"
    room = factory.Sequence(lambda n: f"{(n % 30) + 1}{(n % 4) + 1:02d}")
    phone = factory.Sequence(lambda n: f"1700001{n:04d}")
    members_count = 2


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    household = None  # pass household=...
    name = factory.Sequence(lambda n: f"测试居民{n}")
    phone = factory.Sequence(lambda n: f"1700002{n:04d}")
    is_contact = True


def grant(
    user: User,
    role: str,
    *,
    area: Area | None = None,
    household: Household | None = None,
    supplier=None,
) -> RoleGrant:
    return RoleGrant.objects.create(
        user=user, role=role, area=area, household=household, supplier=supplier
    )
