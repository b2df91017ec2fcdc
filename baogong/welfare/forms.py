from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from baogong.welfare.models import Category, CheckIn, Hearing, Mobility, NeedCategory, SpecialCare
from baogong.welfare.services import CareDetails, NeedLine

NEED_ROWS = 3  # need lines on the call form: enough for one call, no "add row" script needed
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CareForm(forms.Form):
    categories = forms.MultipleChoiceField(
        label=_("Categories"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    needs_door_delivery = forms.BooleanField(label=_("Needs door delivery"), required=False)
    mobility = forms.ChoiceField(label=_("Mobility"), choices=Mobility.choices)
    medicines = forms.CharField(label=_("Medicine names"), max_length=200, required=False)
    language = forms.CharField(label=_("Language or dialect"), max_length=50, required=False)
    hearing = forms.ChoiceField(label=_("Hearing"), choices=Hearing.choices)
    emergency_name = forms.CharField(label=_("Emergency contact"), max_length=50, required=False)
    emergency_phone = forms.CharField(
        label=_("Emergency contact phone"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    volunteers = forms.ModelMultipleChoiceField(
        label=_("Assigned volunteers"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They see this record, phone the resident and get the tasks."),
    )
    cadence_days = forms.IntegerField(
        label=_("Call every (days)"), min_value=1, max_value=30, initial=3
    )
    consent = forms.BooleanField(label=_("Consent given"), required=False)
    consent_date = forms.DateField(label=_("Consent date"), required=False, widget=_DATE)
    review_date = forms.DateField(label=_("Review date"), required=False, widget=_DATE)
    notes = forms.CharField(
        label=_("Notes"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, volunteers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteers"].queryset = volunteers
        self.fields["volunteers"].label_from_instance = lambda user: user.name

    @classmethod
    def initial_for(cls, care: SpecialCare | None, needs_door_delivery: bool) -> dict[str, Any]:
        if care is None:
            return {"cadence_days": 3, "needs_door_delivery": needs_door_delivery}
        names = (
            "categories",
            "mobility",
            "medicines",
            "language",
            "hearing",
            "emergency_name",
            "emergency_phone",
            "cadence_days",
            "consent",
            "consent_date",
            "review_date",
            "notes",
        )
        initial = {name: getattr(care, name) for name in names}
        initial.update(
            needs_door_delivery=needs_door_delivery, volunteers=list(care.volunteers.all())
        )
        return initial

    def details(self) -> CareDetails:
        data = dict(self.cleaned_data)
        volunteers = data.pop("volunteers")
        return CareDetails(**data, volunteer_ids=[user.pk for user in volunteers])


class CallForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How did the call go?"), choices=CheckIn.Outcome.choices, widget=forms.RadioSelect
    )
    wellbeing = forms.ChoiceField(
        label=_("How is the person?"),
        required=False,
        choices=CheckIn.Wellbeing.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(NEED_ROWS):
            self.fields[f"need_{n}_category"] = forms.ChoiceField(
                label=_("Need %(n)s: what") % {"n": n + 1},
                required=False,
                choices=[("", "—"), *NeedCategory.choices],
            )
            self.fields[f"need_{n}_item"] = forms.CharField(
                label=_("Need %(n)s: item or detail") % {"n": n + 1}, max_length=100, required=False
            )
            self.fields[f"need_{n}_quantity"] = forms.IntegerField(
                label=_("Need %(n)s: quantity") % {"n": n + 1},
                min_value=1,
                max_value=999,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("outcome")
            and data["outcome"] != CheckIn.Outcome.NOT_REACHED
            and not data.get("wellbeing")
        ):
            self.add_error("wellbeing", _("Say how the person is."))
        for n in range(NEED_ROWS):
            if (data.get(f"need_{n}_item") or data.get(f"need_{n}_quantity")) and not data.get(
                f"need_{n}_category"
            ):
                self.add_error(f"need_{n}_category", _("Choose what is needed."))
        return data

    def need_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"need_{n}_category"], self[f"need_{n}_item"], self[f"need_{n}_quantity"])
            for n in range(NEED_ROWS)
        ]

    def needs(self) -> list[NeedLine]:
        data = self.cleaned_data
        return [
            NeedLine(
                data[f"need_{n}_category"],
                data.get(f"need_{n}_item") or "",
                data.get(f"need_{n}_quantity") or 1,
            )
            for n in range(NEED_ROWS)
            if data.get(f"need_{n}_category")
        ]


class ExportForm(forms.Form):
    LISTS = (("people", _("People list")), ("needs", _("Needs list")))
    list = forms.ChoiceField(label=_("List"), choices=LISTS, required=False)
    as_of = forms.DateField(
        label=_("As of (end of day)"),
        required=False,
        widget=_DATE,
        help_text=_("Leave empty for now."),
    )
    personal = forms.BooleanField(label=_("With names and phone numbers"), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Special-care register (Excel)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
