from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.monitoring.checks import Figures
from baogong.monitoring.models import Commodity, ReportingSchedule

FIGURE_LABELS = {
    "opening": _("opening stock"),
    "received": _("purchases in"),
    "sold": _("sales out"),
    "closing": _("closing stock"),
    "price": _("retail price (yuan)"),
}


def _number(label: str, *, places: int = 2) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=places,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


class ReportEntryForm(forms.Form):
    """One day's figures for every monitored commodity; a commodity left blank is skipped."""

    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )

    def __init__(
        self, *args, commodities: Sequence[Commodity], openings: dict[int, Decimal], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.commodities = list(commodities)
        for commodity in self.commodities:
            for name, label in FIGURE_LABELS.items():
                field = _number(f"{commodity.name} · {label}")
                if name == "opening" and commodity.pk in openings:
                    field.initial = openings[commodity.pk]
                self.fields[self.key(commodity, name)] = field

    @staticmethod
    def key(commodity: Commodity, name: str) -> str:
        return f"c{commodity.pk}_{name}"

    def groups(self) -> list[tuple[Commodity, list[tuple[str, forms.BoundField]]]]:
        """Per item, its fields with their short labels (the fieldset's legend names the item)."""
        return [
            (c, [(label, self[self.key(c, name)]) for name, label in FIGURE_LABELS.items()])
            for c in self.commodities
        ]

    def clean_date(self) -> dt.date:
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return date

    def clean(self) -> dict:
        data = super().clean()
        self.entries: list[tuple[Commodity, Figures]] = []
        for commodity in self.commodities:
            values = {name: data.get(self.key(commodity, name)) for name in FIGURE_LABELS}
            if all(v is None for v in values.values()):
                continue
            empty = [name for name, v in values.items() if v is None]
            for name in empty:
                self.add_error(self.key(commodity, name), _("Fill in every figure of this item."))
            if not empty:
                self.entries.append((commodity, Figures(**values)))
        if not self.entries and not self.errors:
            raise forms.ValidationError(_("Fill in the figures of at least one item."))
        return data


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("Use the template: one row per outlet, date and item."),
    )


class AlertActionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you found or did. Required to close the alert."),
    )


class CommodityForm(forms.ModelForm):
    class Meta:
        model = Commodity
        fields = [
            "name",
            "category",
            "unit",
            "baseline_price",
            "min_days_of_cover",
            "max_daily_rise_pct",
            "max_baseline_rise_pct",
            "max_ratio_fall_pct",
            "reserve_days",
            "is_active",
        ]


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = ReportingSchedule
        fields = ["name", "kind", "due_time", "days_of_month", "remind_minutes_before", "is_active"]
        widgets = {"due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def clean_days_of_month(self) -> str:
        text = self.cleaned_data["days_of_month"].replace("，", ",")
        days = [part.strip() for part in text.split(",") if part.strip()]
        if any(not d.isdigit() or not 1 <= int(d) <= 31 for d in days):
            raise forms.ValidationError(_("Write days from 1 to 31 separated by commas."))
        return ",".join(str(int(d)) for d in days)


class DayForm(forms.Form):
    """The dashboard's filters (GET)."""

    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    commodity = forms.ModelChoiceField(
        label=_("Item"), required=False, queryset=Commodity.objects.filter(is_active=True)
    )
