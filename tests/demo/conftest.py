from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from baogong.demo.services import demo_load


@pytest.fixture
def fast_passwords(settings):
    """Hash with MD5 in these tests: PBKDF2 costs half a second per login checked."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo district, loaded once for a module's read-mostly tests.

    It is loaded inside a transaction that is rolled back when the module ends; each test
    runs in a savepoint within it (pytest-django's per-test transaction nests), so every
    test sees the demo as loaded and whatever a test changes is gone for the next. Tests
    that need an empty database must come before the first test using it in the module.
    """
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        yield demo_load(by=None)
        transaction.set_rollback(True)
