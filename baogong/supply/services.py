"""Writes to suppliers, their outlets, catalogs and area assignments.

Who may do what:

- street office staff and district administrators (`SUPPLIER_ADMIN_ROLES`) create
  suppliers for their area, edit every supplier assigned somewhere in their
  subtree (with its outlets and catalog), and assign suppliers to the streets,
  communities and compounds of their subtree. A supplier assigned nowhere belongs
  to the district administrators.
- a supplier's own users (supplier grants) keep its contact and delivery
  capability, its outlets and its catalog.
- `by=None` is the system itself (demo loader, management commands).

Every write sets `_history_user`, so django-simple-history records who changed what.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from simple_history.utils import bulk_create_with_history

from baogong.accounts.models import Role
from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.areas.services import clean_phone
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.supply.models import Outlet, Package, PackageLine, Supplier, SupplierArea

if TYPE_CHECKING:
    from django.core.files import File

    from baogong.accounts.models import User

# Roles that keep the supplier register of their subtree and assign suppliers to it.
SUPPLIER_ADMIN_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.STREET_STAFF})
# An assignment serves a street office, a community or a compound (and all below it).
ASSIGNABLE_KINDS = (Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND)
# What a supplier's own users may change about it; the rest is the street office's.
CONTACT_FIELDS = ("contact_name", "contact_phone", "vehicles_count", "daily_capacity")
STAFF_FIELDS = ("name", "kind", "licence", "notes", "is_active", *CONTACT_FIELDS)
OUTLET_FIELDS = ("kind", "name", "address", "area", "phone", "latitude", "longitude")
PACKAGE_FIELDS = (
    "name",
    "category",
    "price",
    "default_stock_cap",
    "per_household_limit",
    "aliases",
    "is_active",
)

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; refuses decompression bombs
PHOTO_MAX_SIDE = 1600  # stored photos are scaled down to this: a package list on a phone
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
MAX_LINES = 50
MAX_STOCK = 1_000_000
MAX_PRICE = Decimal("99999999.99")
MAX_QUANTITY = Decimal("999999.99")
_CENT = Decimal("0.01")
_ALIAS_SPLIT = re.compile(r"[,，、;；\n]+")
_FULLWIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
)


@dataclass(frozen=True)
class LineSpec:
    """One line of a package as a form or an import gives it: 大米 5kg ×1 袋."""

    item: str
    specification: str = ""
    quantity: Decimal = Decimal("1")
    unit: str = ""


class _Problems:
    """Collect every failure of a validation, then raise them as one InvalidInput."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str, **params: Any) -> None:
        self.messages.append(message % params if params else message)

    def raise_any(self) -> None:
        if self.messages:
            raise InvalidInput(" ".join(self.messages))


def name_key(text: str) -> str:
    """Compare names the way people read them: no spaces, half-width, case-blind."""
    return re.sub(r"\s+", "", str(text).translate(_FULLWIDTH)).casefold()


def _collapse(text: Any) -> str:
    return " ".join(str(text or "").translate(_FULLWIDTH).split())


# --- who may do what ------------------------------------------------------------------


def may_manage_supplier(user: User | None, supplier: Supplier) -> bool:
    """Street office staff and district admins of an area the supplier is assigned in."""
    if user is None:
        return True
    scope = scope_for(user)
    if scope.superuser:
        return True
    paths = scope.paths_for(SUPPLIER_ADMIN_ROLES)
    if not paths:
        return False
    served = list(supplier.assignments.values_list("area__path", flat=True))
    if any(area_path.startswith(p) for area_path in served for p in paths):
        return True
    # Serving nowhere yet: the district administrators keep it until someone assigns it.
    return not served and bool(scope.paths_for(frozenset({Role.DISTRICT_ADMIN})))


def may_edit_catalog(user: User | None, supplier: Supplier) -> bool:
    """The supplier's own users, or staff who manage the supplier."""
    if user is None or supplier.pk in scope_for(user).supplier_ids:
        return True
    return may_manage_supplier(user, supplier)


def may_assign(user: User | None, area: Area) -> bool:
    """Street office staff and district admins assign suppliers within their subtree."""
    if user is None:
        return True
    scope = scope_for(user)
    return scope.superuser or any(
        area.path.startswith(p) for p in scope.paths_for(SUPPLIER_ADMIN_ROLES)
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


# --- suppliers -------------------------------------------------------------------------


def _clean_supplier(values: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    cleaned = dict(values)
    if "name" in values:
        cleaned["name"] = name = _collapse(values["name"])
        if not name:
            problems.add(_("The supplier needs a name."))
        elif len(name) > Supplier._meta.get_field("name").max_length:
            problems.add(_("The supplier's name is too long."))
    if "kind" in values and values["kind"] not in Supplier.Kind.values:
        problems.add(_("Choose what kind of supplier this is."))
    for field in ("contact_name", "licence"):
        if field in values:
            cleaned[field] = _collapse(values[field])
            if len(cleaned[field]) > Supplier._meta.get_field(field).max_length:
                problems.add(
                    _("%(field)s is too long."),
                    field=Supplier._meta.get_field(field).verbose_name,
                )
    if "notes" in values:
        cleaned["notes"] = str(values["notes"] or "").strip()
    if "contact_phone" in values:
        try:
            cleaned["contact_phone"] = clean_phone(
                str(values["contact_phone"] or "").strip(), field=_("Contact phone")
            )
        except InvalidInput as error:
            problems.add(error.message)
    for field, limit in (("vehicles_count", 10_000), ("daily_capacity", MAX_STOCK)):
        if field in values:
            number = values[field]
            if not isinstance(number, int) or not 0 <= number <= limit:
                problems.add(
                    _("%(field)s must be a whole number from 0 to %(max)s."),
                    field=Supplier._meta.get_field(field).verbose_name,
                    max=limit,
                )
    return cleaned


def _check_supplier_name(name: str, *, exclude: int | None, problems: _Problems) -> None:
    others = Supplier.objects.exclude(pk=exclude).values_list("name", flat=True)
    if name and any(name_key(other) == name_key(name) for other in others):
        problems.add(
            _(
                "A supplier named “%(name)s” is already registered. If it should serve your "
                "area, assign it on the assignments page."
            ),
            name=name,
        )


def _save_supplier(supplier: Supplier, by: User | None) -> None:
    supplier._history_user = by
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError:  # two people registering the same name at the same moment
        raise InvalidInput(
            _("A supplier named “%(name)s” is already registered."), name=supplier.name
        ) from None


@transaction.atomic
def supplier_create(
    *, name: str, kind: str, area: Area | None, by: User | None, **fields: Any
) -> Supplier:
    """Register a supplier and assign it to `area` (in the creator's subtree).

    Street office staff must name the area it serves; district administrators
    (and the system) may leave it for later. Raises NotAllowed or InvalidInput.
    """
    if area is not None:
        _require(may_assign(by, area))
    elif by is not None:
        scope = scope_for(by)
        _require(scope.superuser or bool(scope.paths_for(frozenset({Role.DISTRICT_ADMIN}))))
    unknown = set(fields) - set(STAFF_FIELDS)
    if unknown:
        raise TypeError(f"supplier_create() got unexpected fields {sorted(unknown)}")
    problems = _Problems()
    values = _clean_supplier({"name": name, "kind": kind, **fields}, problems)
    _check_supplier_name(values["name"], exclude=None, problems=problems)
    if area is not None and area.kind not in ASSIGNABLE_KINDS:
        problems.add(_("A supplier serves a street office, a community or a compound."))
    problems.raise_any()
    supplier = Supplier(**values)
    _save_supplier(supplier, by)
    if area is not None:
        _assign(supplier, area, by)
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, by: User | None, **fields: Any) -> Supplier:
    """Change a supplier's facts.

    Staff who manage it change everything; its own users change only its contact
    and delivery capability (CONTACT_FIELDS). Raises NotAllowed or InvalidInput.
    """
    unknown = set(fields) - set(STAFF_FIELDS)
    if unknown:
        raise TypeError(f"supplier_update() got unexpected fields {sorted(unknown)}")
    if not may_manage_supplier(by, supplier):
        _require(by is not None and supplier.pk in scope_for(by).supplier_ids)
        if set(fields) - set(CONTACT_FIELDS):
            raise NotAllowed(
                _(
                    "A supplier's own users change its contact and delivery capability; "
                    "ask the street office to change the rest."
                )
            )
    problems = _Problems()
    values = _clean_supplier(fields, problems)
    if "name" in values:
        _check_supplier_name(values["name"], exclude=supplier.pk, problems=problems)
    problems.raise_any()
    for field, value in values.items():
        setattr(supplier, field, value)
    _save_supplier(supplier, by)
    return supplier


# --- outlets ---------------------------------------------------------------------------


def _clean_outlet(values: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    cleaned = dict(values)
    if "name" in values:
        cleaned["name"] = _collapse(values["name"])
        if not cleaned["name"]:
            problems.add(_("The outlet needs a name."))
        elif len(cleaned["name"]) > Outlet._meta.get_field("name").max_length:
            problems.add(_("The outlet's name is too long."))
    if "address" in values:
        cleaned["address"] = _collapse(values["address"])
        if len(cleaned["address"]) > Outlet._meta.get_field("address").max_length:
            problems.add(_("The address is too long."))
    if "kind" in values and values["kind"] not in Outlet.Kind.values:
        problems.add(_("Choose what kind of outlet this is."))
    if "phone" in values:
        try:
            cleaned["phone"] = clean_phone(str(values["phone"] or "").strip(), field=_("Phone"))
        except InvalidInput as error:
            problems.add(error.message)
    area = values.get("area")
    if area is not None and area.kind not in ASSIGNABLE_KINDS:
        problems.add(_("An outlet lies in a street office, a community or a compound."))
    for field, limit in (("latitude", 90), ("longitude", 180)):
        value = values.get(field)
        if value is not None and not -limit <= value <= limit:
            problems.add(
                _("%(field)s must lie between -%(max)s and %(max)s."),
                field=Outlet._meta.get_field(field).verbose_name,
                max=limit,
            )
    return cleaned


def _save_outlet(outlet: Outlet, by: User | None, problems: _Problems) -> Outlet:
    clash = Outlet.objects.filter(supplier_id=outlet.supplier_id).exclude(pk=outlet.pk)
    if any(name_key(n) == name_key(outlet.name) for n in clash.values_list("name", flat=True)):
        problems.add(_("This supplier already has an outlet named “%(name)s”."), name=outlet.name)
    problems.raise_any()
    outlet._history_user = by
    try:
        with transaction.atomic():
            outlet.save()
    except IntegrityError:
        raise InvalidInput(
            _("This supplier already has an outlet named “%(name)s”."), name=outlet.name
        ) from None
    return outlet


@transaction.atomic
def outlet_create(*, supplier: Supplier, name: str, by: User | None, **fields: Any) -> Outlet:
    """Add a shop, market stall or front warehouse to a supplier."""
    _require(may_edit_catalog(by, supplier))
    if set(fields) - set(OUTLET_FIELDS):
        raise TypeError(f"outlet_create() got unexpected fields {sorted(fields)}")
    problems = _Problems()
    values = _clean_outlet({"name": name, **fields}, problems)
    return _save_outlet(Outlet(supplier=supplier, **values), by, problems)


@transaction.atomic
def outlet_update(*, outlet: Outlet, by: User | None, **fields: Any) -> Outlet:
    _require(may_edit_catalog(by, outlet.supplier))
    if set(fields) - set(OUTLET_FIELDS):
        raise TypeError(f"outlet_update() got unexpected fields {sorted(fields)}")
    problems = _Problems()
    for field, value in _clean_outlet(fields, problems).items():
        setattr(outlet, field, value)
    return _save_outlet(outlet, by, problems)


# --- packages --------------------------------------------------------------------------


def split_aliases(text: str) -> list[str]:
    """The short names of a package, as written: "A餐, 米面油、套餐1" → three names."""
    seen: dict[str, str] = {}
    for part in _ALIAS_SPLIT.split(str(text or "")):
        alias = _collapse(part)
        if alias and name_key(alias) not in seen:
            seen[name_key(alias)] = alias
    return list(seen.values())


def _clean_package(values: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    cleaned = dict(values)
    if "name" in values:
        cleaned["name"] = _collapse(values["name"])
        if not cleaned["name"]:
            problems.add(_("The package needs a name."))
        elif len(cleaned["name"]) > Package._meta.get_field("name").max_length:
            problems.add(_("The package's name is too long."))
    if "category" in values and values["category"] not in Package.Category.values:
        problems.add(_("Choose a category."))
    if "price" in values:
        cleaned["price"] = _money(values["price"], problems)
    if "default_stock_cap" in values:
        cap = values["default_stock_cap"]
        if not isinstance(cap, int) or not 1 <= cap <= MAX_STOCK:
            problems.add(
                _("The stock per round must be a whole number from 1 to %(max)s."), max=MAX_STOCK
            )
    if "per_household_limit" in values:
        limit = values["per_household_limit"]
        if not isinstance(limit, int) or not 1 <= limit <= 99:
            problems.add(_("The limit per household must be a whole number from 1 to 99."))
    if "aliases" in values:
        cleaned["aliases"] = ", ".join(split_aliases(values["aliases"]))
        if len(cleaned["aliases"]) > Package._meta.get_field("aliases").max_length:
            problems.add(_("The short names are too long together; keep the ones people use."))
    return cleaned


def _money(value: Any, problems: _Problems) -> Decimal:
    try:
        price = Decimal(str(value).strip().lstrip("¥￥"))
    except (InvalidOperation, ValueError):
        problems.add(_("The price must be an amount in yuan, such as 88 or 39.90."))
        return Decimal("0")
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        problems.add(_("The price must be an amount in yuan, such as 88 or 39.90."))
        return Decimal("0")
    if price != price.quantize(_CENT):
        problems.add(_("The price has more than two decimal places."))
    return price.quantize(_CENT)


def _clean_lines(lines: list[LineSpec], problems: _Problems) -> list[LineSpec]:
    if not lines:
        problems.add(
            _("A package needs at least one line; a single item is a package with one line.")
        )
    if len(lines) > MAX_LINES:
        problems.add(_("A package has at most %(max)s lines."), max=MAX_LINES)
    cleaned = []
    for number, line in enumerate(lines, start=1):
        item, spec, unit = _collapse(line.item), _collapse(line.specification), _collapse(line.unit)
        if not item:
            problems.add(_("Line %(line)s: the item is missing."), line=number)
        for value, field in ((item, "item"), (spec, "specification"), (unit, "unit")):
            if len(value) > PackageLine._meta.get_field(field).max_length:
                problems.add(
                    _("Line %(line)s: the %(field)s is too long."),
                    line=number,
                    field=PackageLine._meta.get_field(field).verbose_name,
                )
        try:
            quantity = Decimal(str(line.quantity))
        except (InvalidOperation, ValueError):
            quantity = Decimal("-1")
        if not quantity.is_finite() or not 0 < quantity <= MAX_QUANTITY:
            problems.add(_("Line %(line)s: the quantity must be more than 0."), line=number)
        elif quantity != quantity.quantize(_CENT):
            problems.add(
                _("Line %(line)s: the quantity has more than two decimal places."), line=number
            )
        cleaned.append(LineSpec(item, spec, quantity, unit))
    return cleaned


def _check_names_free(package: Package, problems: _Problems) -> None:
    """A chain line names a package by name or short name: no two may share one."""
    if not package.is_active:
        return
    mine = {name_key(package.name): package.name} | {
        name_key(a): a for a in split_aliases(package.aliases)
    }
    others = Package.objects.filter(supplier_id=package.supplier_id, is_active=True).exclude(
        pk=package.pk
    )
    for other_name, other_aliases in others.values_list("name", "aliases"):
        theirs = {name_key(other_name)} | {name_key(a) for a in split_aliases(other_aliases)}
        for key in sorted(mine.keys() & theirs):
            if key == name_key(package.name) == name_key(other_name):
                problems.add(
                    _("This supplier already has a package named “%(name)s”."), name=other_name
                )
            else:
                problems.add(
                    _(
                        "“%(alias)s” already names the package “%(package)s”; a chain line "
                        "could not tell them apart."
                    ),
                    alias=mine[key],
                    package=other_name,
                )


def _write_lines(package: Package, lines: list[LineSpec], by: User | None) -> None:
    """Replace the package's lines; history records what they were and who changed them."""
    for line in package.lines.all():
        line._history_user = by
        line.delete()
    bulk_create_with_history(
        [
            PackageLine(
                package=package,
                item=line.item,
                specification=line.specification,
                quantity=line.quantity,
                unit=line.unit,
                position=position,
            )
            for position, line in enumerate(lines)
        ],
        PackageLine,
        default_user=by,
    )


def _save_package(package: Package, by: User | None) -> None:
    package._history_user = by
    try:
        with transaction.atomic():
            package.save()
    except IntegrityError:  # a concurrent save took the name
        raise InvalidInput(
            _("This supplier already has a package named “%(name)s”."), name=package.name
        ) from None


@transaction.atomic
def package_create(
    *,
    supplier: Supplier,
    name: str,
    price: Decimal | str,
    lines: list[LineSpec],
    by: User | None,
    photo: File | None = None,
    **fields: Any,
) -> Package:
    """Add a package with its lines (and photo) to a supplier's catalog, all or nothing.

    Raises NotAllowed unless `by` may edit the catalog; InvalidInput listing every
    problem (name, price, limits, short names clashing, lines, photo).
    """
    _require(may_edit_catalog(by, supplier))
    if set(fields) - set(PACKAGE_FIELDS):
        raise TypeError(f"package_create() got unexpected fields {sorted(fields)}")
    problems = _Problems()
    values = _clean_package({"name": name, "price": price, **fields}, problems)
    lines = _clean_lines(lines, problems)
    package = Package(supplier=supplier, **values)
    _check_names_free(package, problems)
    content = _prepare_photo(photo, problems) if photo is not None else None
    problems.raise_any()
    _save_package(package, by)
    _write_lines(package, lines, by)
    if content is not None:
        _store_photo(package, content, by)
    return package


@transaction.atomic
def package_update(
    *,
    package: Package,
    by: User | None,
    lines: list[LineSpec] | None = None,
    photo: File | None = None,
    remove_photo: bool = False,
    **fields: Any,
) -> Package:
    """Change a package; `lines`, when given, replace its lines. All or nothing.

    Rounds already opened keep their own copy of name, price and limits (Offer),
    so a change here applies to rounds opened from now on.
    """
    _require(may_edit_catalog(by, package.supplier))
    if set(fields) - set(PACKAGE_FIELDS):
        raise TypeError(f"package_update() got unexpected fields {sorted(fields)}")
    # Lock the package: two editors replacing its lines at once would interleave
    # their delete and insert and leave both sets of lines.
    package = Package.objects.select_for_update().select_related("supplier").get(pk=package.pk)
    problems = _Problems()
    for field, value in _clean_package(fields, problems).items():
        setattr(package, field, value)
    if lines is not None:
        lines = _clean_lines(lines, problems)
    _check_names_free(package, problems)
    content = _prepare_photo(photo, problems) if photo is not None else None
    problems.raise_any()
    if content is not None:
        _store_photo(package, content, by)  # saves the package
    else:
        if remove_photo:
            _forget_photo(package)
        _save_package(package, by)  # a history row even when only the lines change
    if lines is not None:
        _write_lines(package, lines, by)
    return package


@transaction.atomic
def package_photo_set(*, package: Package, photo: File | None, by: User | None) -> Package:
    """Replace a package's photo (None removes it). Raises InvalidInput if it is no image."""
    _require(may_edit_catalog(by, package.supplier))
    problems = _Problems()
    content = _prepare_photo(photo, problems) if photo is not None else None
    problems.raise_any()
    if content is None:
        _forget_photo(package)
        _save_package(package, by)
    else:
        _store_photo(package, content, by)
    return package


def _set_active(package: Package, active: bool, by: User | None) -> Package:
    _require(may_edit_catalog(by, package.supplier))
    current = Package.objects.select_for_update().get(pk=package.pk)
    if current.is_active == active:
        package.is_active = active
        return package
    current.is_active = active
    problems = _Problems()
    _check_names_free(current, problems)
    problems.raise_any()
    _save_package(current, by)
    package.is_active, package.updated_at = active, current.updated_at
    return package


@transaction.atomic
def package_deactivate(*, package: Package, by: User | None) -> Package:
    """Take a package out of the catalog; rounds already opened keep offering it."""
    return _set_active(package, False, by)


@transaction.atomic
def package_reactivate(*, package: Package, by: User | None) -> Package:
    """Put a package back in the catalog (its names must still be free)."""
    return _set_active(package, True, by)


def _prepare_photo(upload: File, problems: _Problems) -> ContentFile | None:
    """Check that `upload` is a picture of at most PHOTO_MAX_BYTES and re-encode it.

    Re-encoding drops what a phone camera adds (GPS position in EXIF) and anything
    that is not the picture itself; large photos are scaled to PHOTO_MAX_SIDE.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        problems.add(
            _("The photo is %(size)s; photos up to %(limit)s can be uploaded."),
            size=filesizeformat(size),
            limit=filesizeformat(PHOTO_MAX_BYTES),
        )
        return None
    upload.seek(0)
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        problems.add(
            _("The photo is larger than %(limit)s."), limit=filesizeformat(PHOTO_MAX_BYTES)
        )
        return None
    not_a_photo = _("The file is not a photo. Upload a JPEG, PNG, WebP or GIF picture.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS:
                problems.add(not_a_photo)
                return None
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                problems.add(_("The photo has too many pixels; take a smaller one."))
                return None
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            transparent = picture.mode in ("RGBA", "LA", "PA") or (
                picture.mode == "P" and "transparency" in picture.info
            )
            out = io.BytesIO()
            if transparent:
                picture.convert("RGBA").save(out, "PNG", optimize=True)
                extension = "png"
            else:
                picture.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                extension = "jpg"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        problems.add(not_a_photo)
        return None
    return ContentFile(out.getvalue(), name=f"photo.{extension}")


def photo_problem(upload: File) -> str | None:
    """Why `upload` cannot be a package photo, or None if it can (for forms)."""
    problems = _Problems()
    _prepare_photo(upload, problems)
    upload.seek(0)
    return " ".join(problems.messages) or None


def _store_photo(package: Package, content: ContentFile, by: User | None) -> None:
    old = package.photo.name
    extension = content.name.rsplit(".", 1)[-1]
    name = f"{package.supplier_id}-{package.pk}-{secrets.token_hex(6)}.{extension}"
    package.photo.save(name, content, save=False)
    _save_package(package, by)
    if old:
        _delete_after_commit(package, old)


def _forget_photo(package: Package) -> None:
    if package.photo.name:
        _delete_after_commit(package, package.photo.name)
        package.photo = ""


def _delete_after_commit(package: Package, name: str) -> None:
    storage = package.photo.storage
    transaction.on_commit(lambda: storage.delete(name))


# --- assignments -----------------------------------------------------------------------


def _check_assignable(supplier: Supplier, area: Area, by: User | None) -> None:
    _require(may_assign(by, area))
    if area.kind not in ASSIGNABLE_KINDS:
        raise InvalidInput(_("A supplier serves a street office, a community or a compound."))
    if not supplier.is_active:
        raise InvalidInput(
            _("“%(name)s” is no longer active and cannot be assigned."), name=supplier.name
        )


def _assign(supplier: Supplier, area: Area, by: User | None) -> SupplierArea:
    existing = SupplierArea.objects.filter(supplier=supplier, area=area).first()
    if existing is not None:
        return existing
    assignment = SupplierArea(supplier=supplier, area=area, assigned_by=by)
    assignment._history_user = by
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:  # assigned by someone else a moment ago: same outcome
        return SupplierArea.objects.get(supplier=supplier, area=area)
    return assignment


@transaction.atomic
def supplier_assign(supplier: Supplier, area: Area, *, by: User | None) -> SupplierArea:
    """Assign `supplier` to serve `area` and everything below it; assigning twice is a no-op.

    Raises NotAllowed unless `by` is street office staff or a district admin over
    `area`; InvalidInput for a building or district, or an inactive supplier.
    """
    _check_assignable(supplier, area, by)
    return _assign(supplier, area, by)


@transaction.atomic
def supplier_unassign(supplier: Supplier, area: Area, *, by: User | None) -> bool:
    """Stop `supplier` serving `area`; True if it did. Rounds already opened are kept."""
    _require(may_assign(by, area))
    assignment = SupplierArea.objects.filter(supplier=supplier, area=area).first()
    if assignment is None:
        return False
    assignment._history_user = by
    assignment.delete()
    return True
