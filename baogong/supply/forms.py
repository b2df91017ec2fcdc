"""Forms of the supplier pages: they parse and validate; services write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from baogong.areas.models import Area
from baogong.areas.services import clean_phone
from baogong.core.errors import InvalidInput
from baogong.supply import queries, services
from baogong.supply.models import Outlet, Package, Supplier

_TEL = {"inputmode": "tel", "autocomplete": "off"}
_NUMBER = {"inputmode": "numeric"}


class AreaChoiceField(forms.ModelChoiceField):
    """Areas shown with where they lie: 王寨街道 › 陈庵社区 › 锦绣小区."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.labels: dict[int, str] = {}

    def set_areas(self, areas: QuerySet[Area]) -> None:
        self.queryset = areas
        self.labels = queries.area_labels(areas)

    def label_from_instance(self, obj: Area) -> str:
        return f"{self.labels.get(obj.pk, obj.name)} ({obj.kind_label})"


class SupplierFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=50,
        help_text=_("Supplier, contact or package name"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *Supplier.Kind.choices],
    )


class SupplierForm(forms.ModelForm):
    """A supplier's facts; `contact_only` keeps what its own users may change."""

    class Meta:
        model = Supplier
        fields = list(services.STAFF_FIELDS)
        widgets = {
            "contact_phone": forms.TextInput(attrs=_TEL),
            "vehicles_count": forms.NumberInput(attrs=_NUMBER),
            "daily_capacity": forms.NumberInput(attrs=_NUMBER),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(
        self,
        *args: Any,
        contact_only: bool = False,
        areas: QuerySet[Area] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if contact_only:
            for name in set(self.fields) - set(services.CONTACT_FIELDS):
                del self.fields[name]
        if self.instance.pk is None:
            del self.fields["is_active"]
        if areas is not None:
            field = AreaChoiceField(
                label=_("Serves"),
                queryset=Area.objects.none(),
                help_text=_("The street office, community or compound it will supply."),
            )
            field.set_areas(areas)
            self.fields["area"] = field

    def validate_unique(self) -> None:
        """The service says it better (and names the assignments page)."""

    def clean_contact_phone(self) -> str:
        try:
            return clean_phone(self.cleaned_data["contact_phone"].strip(), field=_("Contact phone"))
        except InvalidInput as error:
            raise ValidationError(error.message) from None

    def values(self) -> dict[str, Any]:
        """What to hand to the service: the supplier's fields only."""
        return {k: v for k, v in self.cleaned_data.items() if k in services.STAFF_FIELDS}


class OutletForm(forms.ModelForm):
    class Meta:
        model = Outlet
        fields = list(services.OUTLET_FIELDS)
        widgets = {
            "phone": forms.TextInput(attrs=_TEL),
            "latitude": forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            "longitude": forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
        }

    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none(), required=False)

    def __init__(self, *args: Any, areas: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].set_areas(areas)

    def validate_unique(self) -> None:
        """Checked by the service."""

    def clean_phone(self) -> str:
        try:
            return clean_phone(self.cleaned_data["phone"].strip(), field=_("Phone"))
        except InvalidInput as error:
            raise ValidationError(error.message) from None

    def values(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in services.OUTLET_FIELDS}


class PackageForm(forms.ModelForm):
    """A package's own fields; its lines come from `LineFormSet`."""

    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("A JPEG, PNG or WebP picture up to 2 MB."),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)

    class Meta:
        model = Package
        fields = [
            "name",
            "category",
            "price",
            "default_stock_cap",
            "per_household_limit",
            "aliases",
        ]
        widgets = {
            "price": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
            "default_stock_cap": forms.NumberInput(attrs=_NUMBER),
            "per_household_limit": forms.NumberInput(attrs=_NUMBER),
        }
        help_texts = {
            "aliases": _(
                "Other names people write in order chains, separated by commas: A套餐, 米面油, 1号."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].min_value = Decimal("0")
        self.fields["default_stock_cap"].min_value = 1
        self.fields["per_household_limit"].min_value = 1
        if not self.instance.photo:
            del self.fields["remove_photo"]

    def validate_unique(self) -> None:
        """Checked by the service, together with the short names."""

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo:
            problem = services.photo_problem(photo)
            if problem:
                raise ValidationError(problem)
        return photo

    def values(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in self.Meta.fields}


class LineForm(forms.Form):
    item = forms.CharField(
        label=_("Item"),
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 大米")}),
    )
    specification = forms.CharField(
        label=_("Specification"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 5kg")}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal("1"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 袋")}),
    )

    def has_changed(self) -> bool:
        # A row without item, specification or unit is blank, whatever its quantity says.
        return any(
            str(self.data.get(self.add_prefix(name), "")).strip()
            for name in ("item", "specification", "unit")
        )


class BaseLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[services.LineSpec]:
        """The lines kept, in the order shown; call only after is_valid()."""
        return [
            services.LineSpec(
                item=form.cleaned_data["item"],
                specification=form.cleaned_data.get("specification", ""),
                quantity=form.cleaned_data["quantity"],
                unit=form.cleaned_data.get("unit", ""),
            )
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("item")
        ]


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    min_num=1,
    can_delete=True,
    max_num=services.MAX_LINES,
    absolute_max=services.MAX_LINES,
)


def line_initial(package: Package | None) -> list[dict[str, Any]]:
    if package is None or package.pk is None:
        return []
    return [
        {
            "item": line.item,
            "specification": line.specification,
            "quantity": line.quantity.normalize(),
            "unit": line.unit,
        }
        for line in package.lines.all()
    ]


def with_extra_line(data: Any, prefix: str = "lines") -> Any:
    """The posted formset data with one more (blank) row."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(data.get(key, 0))
    except ValueError:
        total = 0
    if total < services.MAX_LINES:
        data[key] = str(total + 1)
        data[f"{prefix}-{total}-quantity"] = "1"
    return data


class AssignmentForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.none())
    area = AreaChoiceField(
        label=_("Area it serves"),
        queryset=Area.objects.none(),
        help_text=_("It serves this area and everything below it."),
    )

    def __init__(self, *args: Any, areas: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(is_active=True).order_by("name")
        self.fields["area"].set_areas(areas)


class AssignmentImportForm(forms.Form):
    file = forms.FileField(
        label=_("Assignment list"),
        help_text=_("An Excel file (.xlsx) with the columns 保供单位, 街道, 社区 and 小区."),
        widget=forms.FileInput(
            attrs={
                "accept": ".xlsx,.xls,.ods,.csv,application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet"
            }
        ),
    )
