"""Forms of the rounds pages (create, edit, actions) and of the proxy order page."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from baogong.accounts.scoping import ROUND_ROLES
from baogong.areas.models import Area
from baogong.orders.models import Offer, Round
from baogong.orders.queries import path_prefixes
from baogong.orders.services import OfferSpec
from baogong.supply.models import Package, Supplier, SupplierArea

if TYPE_CHECKING:
    from baogong.accounts.scoping import Scope

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_NUMBER = {"inputmode": "numeric"}
# A sanity bound on a proxy quantity; the per-household limit is order_place's to enforce,
# so that its refusal (naming the package and the limit) is what the liaison reads.
MAX_QUANTITY = 99


# --- which suppliers and areas a user may pick ---------------------------------------------


def suppliers_for(scope: Scope) -> QuerySet[Supplier]:
    """Suppliers a user may run a round with: their own, or those assigned to an area at,
    above or below a node where they hold a round role."""
    if scope.superuser:
        return Supplier.objects.filter(is_active=True)
    q = Q(pk__in=sorted(scope.supplier_ids))
    paths = scope.paths_for(ROUND_ROLES)
    if paths:
        meets = Q(area__path__in={p for path in paths for p in path_prefixes(path)})
        for path in paths:
            meets |= Q(area__path__startswith=path)
        q |= Q(pk__in=SupplierArea.objects.filter(meets).values("supplier_id"))
    return Supplier.objects.filter(q, is_active=True).order_by("name")


def areas_for(scope: Scope, supplier: Supplier) -> QuerySet[Area]:
    """Compounds and communities the supplier serves (its assignments and all below them),
    narrowed for staff to their own subtrees."""
    served = Q(pk__in=[])
    for path in SupplierArea.objects.filter(supplier=supplier).values_list("area__path", flat=True):
        served |= Q(path__startswith=path)
    areas = Area.objects.filter(served, kind__in=[Area.Kind.COMMUNITY, Area.Kind.COMPOUND])
    if not (scope.superuser or supplier.pk in scope.supplier_ids):
        reach = Q(pk__in=[])
        for path in scope.paths_for(ROUND_ROLES):
            reach |= Q(path__startswith=path)
        areas = areas.filter(reach)
    return areas.select_related("parent").order_by("path")


class AreaChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        if obj.kind == Area.Kind.COMMUNITY:
            return str(_("%(name)s (whole community)") % {"name": obj.name})
        return f"{obj.parent.name} · {obj.name}" if obj.parent else obj.name


# --- round create / edit --------------------------------------------------------------------


class RoundForm(forms.Form):
    """The facts of a round; the packages it offers are the OfferFormSet beside it."""

    supplier = forms.ModelChoiceField(
        label=_("Supplier"), queryset=Supplier.objects.none(), empty_label=_("Choose a supplier")
    )
    title = forms.CharField(
        label=_("Title"), max_length=100, help_text=_("For example: 第3期 米面粮油和蔬菜")
    )
    areas = AreaChoiceField(
        label=_("Compounds or communities"),
        queryset=Area.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=_DATETIME)
    cutoff_at = forms.DateTimeField(label=_("Cut-off"), widget=_DATETIME)
    payment_deadline = forms.DateTimeField(
        label=_("Payment deadline"), required=False, widget=_DATETIME
    )
    delivery_at = forms.DateTimeField(
        label=_("Agreed delivery time"), required=False, widget=_DATETIME
    )
    delivery_place = forms.ChoiceField(
        label=_("Delivery place"), choices=Round.Place.choices, initial=Round.Place.GATE
    )
    delivery_note = forms.CharField(
        label=_("Place details"),
        max_length=200,
        required=False,
        help_text=_("Which gate or transfer point, and where to stand."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity (households)"),
        min_value=1,
        required=False,
        help_text=_("Households the supplier can pack and deliver this round; empty if no limit."),
        widget=forms.NumberInput(attrs=_NUMBER),
    )

    def __init__(
        self,
        *args: Any,
        suppliers: QuerySet[Supplier] | None,
        areas: QuerySet[Area],
        reload_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if suppliers is None:  # editing: the supplier stays
            del self.fields["supplier"]
        else:
            self.fields["supplier"].queryset = suppliers
            # Choosing a supplier reloads its areas and catalog in place (htmx).
            self.fields["supplier"].widget.attrs.update(
                {
                    "hx-get": reload_url,
                    "hx-trigger": "change",
                    "hx-target": "#supplier-parts",
                    "hx-select": "#supplier-parts",
                    "hx-swap": "outerHTML",
                }
            )
        self.fields["areas"].queryset = areas

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, cutoff = data.get("opens_at"), data.get("cutoff_at")
        if opens and cutoff and cutoff <= opens:
            self.add_error("cutoff_at", _("The cut-off must be after the opening time."))
        for name in ("payment_deadline", "delivery_at"):
            when = data.get(name)
            if when and opens and when <= opens:
                self.add_error(name, _("This must be after the opening time."))
        return data

    def round_fields(self) -> dict[str, Any]:
        """What round_create / round_update take, besides supplier and offers."""
        data = self.cleaned_data
        names = ("title", "opens_at", "cutoff_at", "payment_deadline", "delivery_at")
        return {
            **{name: data[name] for name in names},
            "areas": list(data["areas"]),
            "delivery_place": data["delivery_place"],
            "delivery_note": data["delivery_note"].strip(),
            "capacity": data["capacity"],
        }

    @classmethod
    def initial_for(cls, round_: Round, areas: Iterable[Area]) -> dict[str, Any]:
        return {
            "title": round_.title,
            "areas": [a.pk for a in areas],
            "opens_at": round_.opens_at,
            "cutoff_at": round_.cutoff_at,
            "payment_deadline": round_.payment_deadline,
            "delivery_at": round_.delivery_at,
            "delivery_place": round_.delivery_place,
            "delivery_note": round_.delivery_note,
            "capacity": round_.capacity,
        }


class OfferForm(forms.Form):
    """One catalog package: whether the round offers it, and on what terms."""

    package = forms.IntegerField(widget=forms.HiddenInput)
    include = forms.BooleanField(label=_("Offer"), required=False)
    code = forms.CharField(
        label=_("Option"), max_length=4, required=False, widget=forms.TextInput(attrs={"size": 3})
    )
    price = forms.DecimalField(
        label=_("Price (yuan)"),
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    stock_cap = forms.IntegerField(
        label=_("Stock cap"), min_value=1, required=False, widget=forms.NumberInput(attrs=_NUMBER)
    )
    per_household_limit = forms.IntegerField(
        label=_("Limit per household"),
        min_value=1,
        max_value=MAX_QUANTITY,
        required=False,
        widget=forms.NumberInput(attrs=_NUMBER),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("include"):
            for name in ("code", "price", "stock_cap", "per_household_limit"):
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, _("Needed for an offered package."))
            if data.get("code"):
                data["code"] = data["code"].strip().upper()
        return data


class BaseOfferFormSet(forms.BaseFormSet):
    """One row per catalog package; `packages` maps package id → package."""

    def __init__(self, *args: Any, packages: Mapping[int, Package], **kwargs: Any) -> None:
        self.packages = packages
        super().__init__(*args, **kwargs)
        for form in self.forms:
            form.package_obj = packages.get(_int(form["package"].value()))

    def clean(self) -> None:
        if any(self.errors):
            return
        included = [f.cleaned_data for f in self.forms if f.cleaned_data.get("include")]
        if not included:
            raise forms.ValidationError(_("Offer at least one package."))
        if any(data["package"] not in self.packages for data in included):
            raise forms.ValidationError(_("A round offers only its own supplier's packages."))
        codes = [data["code"] for data in included]
        if len(set(codes)) != len(codes):
            raise forms.ValidationError(
                _("Each package in a round needs its own option letter or number.")
            )

    def offer_specs(self) -> list[OfferSpec]:
        return [
            OfferSpec(
                package=self.packages[data["package"]],
                code=data["code"],
                price=data["price"],
                stock_cap=data["stock_cap"],
                per_household_limit=data["per_household_limit"],
            )
            for data in (f.cleaned_data for f in self.forms)
            if data.get("include")
        ]


OfferFormSet = forms.formset_factory(OfferForm, formset=BaseOfferFormSet, extra=0)


def offer_initial(packages: Sequence[Package], offers: Sequence[Offer] = ()) -> list[dict]:
    """Rows for the offer table: the round's present offers first, then the rest of the
    catalog with the package's own terms and the next free option letter."""
    rows = [
        {
            "package": o.package_id,
            "include": True,
            "code": o.code,
            "price": o.price,
            "stock_cap": o.stock_cap,
            "per_household_limit": o.per_household_limit,
        }
        for o in offers
    ]
    offered = {o.package_id for o in offers}
    free = iter(c for c in string.ascii_uppercase if c not in {o.code for o in offers})
    for package in packages:
        if package.pk in offered:
            continue
        rows.append(
            {
                "package": package.pk,
                "include": not offers,
                "code": next(free, ""),
                "price": package.price,
                "stock_cap": package.default_stock_cap,
                "per_household_limit": package.per_household_limit,
            }
        )
    return rows


class ActionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (told to the liaisons and the supplier)"), max_length=100, required=False
    )


# --- proxy orders ---------------------------------------------------------------------------


class ProxyOrderForm(forms.Form):
    """A quantity per offer for one household; 0 (or empty) leaves a package out."""

    household = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        offers: Sequence[Offer],
        current: Mapping[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.offers = list(offers)
        current = current or {}
        for position, offer in enumerate(self.offers):
            attrs = {
                **_NUMBER,
                "min": 0,
                "placeholder": "0",
                "class": "qty",
                "data-price": f"{offer.price:.2f}",
                "aria-describedby": f"id_offer_{offer.pk}_meta",
                "autocomplete": "off",
            }
            if position == 0:  # the quantities come right after picking a household
                attrs["autofocus"] = True
            self.fields[f"offer_{offer.pk}"] = forms.IntegerField(
                label=f"{offer.code}. {offer.name}",
                min_value=0,
                max_value=MAX_QUANTITY,
                required=False,
                initial=current.get(offer.pk) or None,
                widget=forms.NumberInput(attrs=attrs),
            )

    def rows(self) -> list[tuple[Offer, forms.BoundField]]:
        return [(offer, self[f"offer_{offer.pk}"]) for offer in self.offers]

    def lines(self) -> dict[int, int]:
        """Offer id → quantity, for order_place (zeros left in: they drop a line)."""
        return {offer.pk: self.cleaned_data.get(f"offer_{offer.pk}") or 0 for offer in self.offers}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
