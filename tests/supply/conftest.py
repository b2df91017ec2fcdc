from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from baogong.accounts.models import Role
from baogong.supply.models import Package, PackageLine, Supplier, SupplierArea

# The browser fixtures (Chromium at phone size, log-in, axe-core) for test_browser_supply.py.
from tests.browser.conftest import (  # noqa: F401
    browser,
    check_accessibility,
    log_in,
    phone_page,
    visit,
)


@pytest.fixture(autouse=True)
def in_english(request, settings):
    """Tests read the English messages; browser tests keep the default Chinese (ui())."""
    if request.node.get_closest_marker("browser"):
        yield
        return
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded photos go to a temporary directory, never to var/media."""
    location = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }
    settings.MEDIA_ROOT = location
    return location


@pytest.fixture
def supplier(db) -> Supplier:
    return Supplier.objects.create(
        name="武商超市",
        kind=Supplier.Kind.SUPERMARKET,
        contact_name="王经理",
        contact_phone="13800138000",
        daily_capacity=300,
        vehicles_count=2,
    )


@pytest.fixture
def other_supplier(db) -> Supplier:
    return Supplier.objects.create(
        name="好邻居便利店", kind=Supplier.Kind.SMALL_SHOP, contact_phone="13900139000"
    )


@pytest.fixture
def served(tree, supplier, other_supplier):
    """`supplier` serves street a; `other_supplier` serves compound b."""
    SupplierArea.objects.create(supplier=supplier, area=tree.street_a)
    SupplierArea.objects.create(supplier=other_supplier, area=tree.compound_b)
    return tree


@pytest.fixture
def package(supplier) -> Package:
    package = Package.objects.create(
        supplier=supplier,
        name="米面粮油套餐",
        price=Decimal("88.00"),
        category=Package.Category.GRAIN_OIL,
        aliases="A餐, 米面油",
    )
    PackageLine.objects.create(package=package, item="大米", specification="5kg", unit="袋")
    PackageLine.objects.create(
        package=package, item="菜籽油", specification="1.8L", unit="桶", position=1
    )
    return package


@pytest.fixture
def street_staff(user_with_role, tree):
    return user_with_role(Role.STREET_STAFF, tree.street_a)


@pytest.fixture
def street_staff_b(user_with_role, tree):
    return user_with_role(Role.STREET_STAFF, tree.street_b)


@pytest.fixture
def supplier_user(user_with_role, supplier):
    return user_with_role(Role.SUPPLIER, supplier)


@pytest.fixture
def resident(user_with_role, tree):
    return user_with_role(Role.RESIDENT, tree.household_a)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, (200, 30, 30, 255)[: len(mode)]).save(out, fmt, **save)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)
