from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel
from baogong.core.phones import mask_phone, normalize_phone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(phone=normalize_phone(phone), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with a mobile number and a password."""

    phone = models.CharField(_("mobile number"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("back-office access"),
        default=False,
        help_text=_("May log in to the Django admin (still limited to their grants)."),
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    password_change_required = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when staff hand out a temporary password."),
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return f"{self.name} ({mask_phone(self.phone)})"

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("district administrator")
    STREET_STAFF = "street_staff", _("street office staff")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    LIAISON = "liaison", _("compound liaison")
    VOLUNTEER = "volunteer", _("building volunteer")
    BUREAU_STAFF = "bureau_staff", _("commerce bureau staff")
    MARKET_SUPERVISION = "market_supervision", _("market supervision officer")
    SUPPLIER = "supplier", _("supplier contact")
    RESIDENT = "resident", _("resident")


AREA_ROLES = frozenset(
    {
        Role.DISTRICT_ADMIN,
        Role.STREET_STAFF,
        Role.COMMUNITY_STAFF,
        Role.LIAISON,
        Role.VOLUNTEER,
        Role.BUREAU_STAFF,
        Role.MARKET_SUPERVISION,
    }
)


class RoleGrant(BaseModel):
    """A role a user holds on one scope: an area node and its subtree, a supplier or a household."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
    )
    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
    )
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
    )
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            # Each role has exactly one kind of scope; a grant without it would see nothing
            # or, worse, be read as "everything".
            models.CheckConstraint(
                name="rolegrant_scope_matches_role",
                condition=(
                    Q(
                        role__in=sorted(r.value for r in AREA_ROLES),
                        area__isnull=False,
                        supplier__isnull=True,
                        household__isnull=True,
                    )
                    | Q(
                        role=Role.SUPPLIER,
                        area__isnull=True,
                        supplier__isnull=False,
                        household__isnull=True,
                    )
                    | Q(
                        role=Role.RESIDENT,
                        area__isnull=True,
                        supplier__isnull=True,
                        household__isnull=False,
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=Q(area__isnull=False),
                name="rolegrant_user_role_area_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "supplier"],
                condition=Q(supplier__isnull=False),
                name="rolegrant_user_supplier_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "household"],
                condition=Q(household__isnull=False),
                name="rolegrant_user_household_unique",
            ),
        ]

    def __str__(self) -> str:
        scope = self.area or self.supplier or self.household
        return f"{self.get_role_display()} @ {scope}"
