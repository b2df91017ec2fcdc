from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel


class Supplier(BaseModel):
    """A business that supplies rounds: shop, platform, supermarket, co-op, state enterprise."""

    class Kind(models.TextChoices):
        SMALL_SHOP = "small_shop", _("small shop")
        PLATFORM = "platform", _("e-commerce platform")
        SUPERMARKET = "supermarket", _("large supermarket")
        COOP = "coop", _("farmers' co-op")
        STATE_ENTERPRISE = "state_enterprise", _("state supply enterprise")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=24, blank=True)
    vehicles_count = models.PositiveSmallIntegerField(_("delivery vehicles"), default=0)
    daily_capacity = models.PositiveIntegerField(
        _("daily capacity (households)"),
        default=0,
        help_text=_("Households it can pack and deliver in a day; 0 if not known."),
    )
    licence = models.CharField(_("business licence"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    # The supplier's collection code (收款码) residents scan to pay.
    payment_qr = models.ImageField(_("payment QR code"), upload_to="payment_qr/", blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Outlet(BaseModel):
    """A supplier's shop, market stall or front warehouse."""

    class Kind(models.TextChoices):
        STORE = "store", _("store")
        MARKET = "market", _("market stall")
        WAREHOUSE = "warehouse", _("front warehouse")

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="outlets"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STORE)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outlets",
    )
    phone = models.CharField(_("phone"), max_length=24, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")
        ordering = ["supplier_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "name"], name="outlet_supplier_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.name}"


class SupplierArea(BaseModel):
    """A supplier assigned to serve an area (street, community or compound) and all below it."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="assignments"
    )
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.CASCADE,
        related_name="supplier_assignments",
    )
    assigned_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("supplier assignment")
        verbose_name_plural = _("supplier assignments")
        constraints = [
            # Importing the assignment list twice must not duplicate it.
            models.UniqueConstraint(fields=["supplier", "area"], name="supplierarea_unique")
        ]

    def __str__(self) -> str:
        return f"{self.supplier} → {self.area}"


class Package(BaseModel):
    """A priced bundle in a supplier's catalog (套餐); a single item is a one-line package."""

    class Category(models.TextChoices):
        GRAIN_OIL = "grain_oil", _("grain & oil")
        VEGETABLES = "vegetables", _("vegetables")
        MEAT_EGGS = "meat_eggs", _("meat & eggs")
        DAILY_GOODS = "daily_goods", _("daily goods")
        INFANT = "infant", _("infant")
        MEDICINE = "medicine", _("medicine-adjacent")
        MIXED = "mixed", _("mixed")

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="packages"
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.MIXED
    )
    price = models.DecimalField(
        _("price (yuan)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    photo = models.ImageField(_("photo"), upload_to="packages/", blank=True)
    default_stock_cap = models.PositiveIntegerField(
        _("stock per round"), default=100, help_text=_("How many can be sold in one round.")
    )
    per_household_limit = models.PositiveSmallIntegerField(_("limit per household"), default=1)
    aliases = models.CharField(
        _("short names"),
        max_length=200,
        blank=True,
        help_text=_("Other names people write in order chains, separated by commas."),
    )
    is_active = models.BooleanField(_("in catalog"), default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["supplier_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "name"], name="package_supplier_name_unique"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="package_price_not_negative"),
            models.CheckConstraint(
                condition=Q(per_household_limit__gte=1), name="package_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PackageLine(models.Model):
    """One item of a package: 大米 5kg ×1."""

    package = models.ForeignKey(
        Package, verbose_name=_("package"), on_delete=models.CASCADE, related_name="lines"
    )
    item = models.CharField(_("item"), max_length=50)
    specification = models.CharField(_("specification"), max_length=50, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=8, decimal_places=2, default=Decimal("1")
    )
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("package line")
        verbose_name_plural = _("package lines")
        ordering = ["package_id", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="packageline_quantity_positive"
            )
        ]

    def __str__(self) -> str:
        spec = f" {self.specification}" if self.specification else ""
        return f"{self.item}{spec} ×{self.quantity.normalize()}{self.unit}"
