from __future__ import annotations

import pytest


@pytest.fixture
def fast_passwords(settings):
    """Hash with MD5 in these tests: PBKDF2 costs half a second per login checked."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
