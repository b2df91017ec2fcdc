from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from baogong.accounts.models import Role, User
from baogong.areas.models import Area, Household
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` need PostgreSQL's row locking; CI runs them there."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("row locking under concurrency is tested on PostgreSQL (CI runs it)")


@pytest.fixture(scope="session", autouse=True)
def media_per_test_process(tmp_path_factory) -> Iterator[None]:
    """Files the tests write go under pytest's temporary directory, one per test process
    (pytest-xdist runs two), so two processes whose databases hand out the same ids
    never write the same document path, and nothing lands in var/media."""
    location = tmp_path_factory.mktemp("media")
    storages = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": location}},
    }
    with override_settings(MEDIA_ROOT=location, STORAGES=storages):
        yield


@pytest.fixture(autouse=True)
def one_race_at_a_time(request) -> Iterator[None]:
    """PostgreSQL race tests open up to 60 connections each: across test processes they
    take turns (a lock file shared by the processes), staying under max_connections."""
    if not request.node.get_closest_marker("postgres"):
        yield
        return
    lock_path = Path(tempfile.gettempdir()) / "baogong-tests-postgres-races.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@dataclass
class Tree:
    """Two of everything, so every scope has an 'inside' and an 'outside'.

    district
      street_a ── community_a ── compound_a ── building_a ── household_a
      street_b ── community_b ── compound_b ── building_b ── household_b
    """

    district: Area
    street_a: Area
    community_a: Area
    compound_a: Area
    building_a: Area
    household_a: Household
    street_b: Area
    community_b: Area
    compound_b: Area
    building_b: Area
    household_b: Household


@pytest.fixture
def tree(db) -> Tree:
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    nodes = {}
    for side in ("a", "b"):
        street = make_area(Area.Kind.STREET, district, f"街道{side}")
        community = make_area(Area.Kind.COMMUNITY, street, f"社区{side}")
        compound = make_area(Area.Kind.COMPOUND, community, f"小区{side}")
        building = make_area(Area.Kind.BUILDING, compound, "3号楼", units_count=2)
        household = HouseholdFactory(building=building, unit="2", room="502")
        ResidentFactory(household=household)
        nodes.update(
            {
                f"street_{side}": street,
                f"community_{side}": community,
                f"compound_{side}": compound,
                f"building_{side}": building,
                f"household_{side}": household,
            }
        )
    return Tree(district=district, **nodes)


@pytest.fixture
def user_with_role(db):
    """Make a user holding `role` on `scope` (an Area, a Household or a Supplier)."""

    def make(role: str, scope=None) -> User:
        user = UserFactory()
        if role == Role.RESIDENT:
            grant(user, role, household=scope)
        elif role == Role.SUPPLIER:
            grant(user, role, supplier=scope)
        else:
            grant(user, role, area=scope)
        return user

    return make


@pytest.fixture
def make_register(tmp_path):
    """Write a register workbook (.xlsx) into tmp_path and return its path.

    `title` adds a title row above the headings, as real registers have.
    """
    counter = iter(range(1, 1000))

    def make(
        headings: list[str], rows: list[list], *, title: str | None = None, name: str | None = None
    ):
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        if title:
            sheet.append([title])
        sheet.append(headings)
        for row in rows:
            sheet.append(row)
        path = tmp_path / (name or f"register-{next(counter)}.xlsx")
        workbook.save(path)
        return path

    return make


@pytest.fixture(autouse=True)
def english_unless_browser(request, settings):
    """Assertions read English msgids; browser tests keep the Chinese default for screenshots.

    Tests of the Chinese interface itself set LANGUAGE_CODE back to "zh-hans".
    """
    if request.node.get_closest_marker("browser") is None:
        settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 at full strength costs ~0.3 s per user; tests make hundreds of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
