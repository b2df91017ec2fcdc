"""Forms of the area pages and the admin: they parse and validate, services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from baogong.areas.addresses import AddressError, room_key, unit_key
from baogong.areas.models import Area, Gate, Household, Resident
from baogong.areas.queries import HouseholdCriteria
from baogong.areas.services import clean_phone
from baogong.core.errors import InvalidInput
from baogong.core.phones import PhoneError, normalize_phone

_TEL = {"inputmode": "tel", "autocomplete": "off"}


class HouseholdSearchForm(forms.Form):
    """Find households by address parts and phone, within the compounds offered."""

    field_order = ["compound", "building", "unit", "room", "phone"]

    building = forms.CharField(label=_("Building"), required=False, max_length=20,
                               help_text=_("For example 3号楼 or 3栋"))
    unit = forms.CharField(label=_("Entrance"), required=False, max_length=8)
    room = forms.CharField(label=_("Room"), required=False, max_length=16)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=24,
                            help_text=_("The full number or its last 4 digits"),
                            widget=forms.TextInput(attrs=_TEL))
    compound = forms.ModelChoiceField(label=_("Compound"), queryset=Area.objects.none(),
                                      required=False, empty_label=_("All compounds"))

    def __init__(self, *args: Any, compounds: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if compounds.count() > 1:
            self.fields["compound"].queryset = compounds
        else:  # nothing to choose between
            del self.fields["compound"]

    def clean_unit(self) -> str:
        try:
            return unit_key(self.cleaned_data["unit"])
        except AddressError:
            raise forms.ValidationError(_("Write the entrance as a number, e.g. 2."),
                                        code="invalid") from None

    def clean_room(self) -> str:
        raw = self.cleaned_data["room"]
        if not raw.strip():
            return ""
        try:
            return room_key(raw)
        except AddressError:
            raise forms.ValidationError(_("Write the room as a number, e.g. 502."),
                                        code="invalid") from None

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw or (len(raw) == 4 and raw.isdigit()):
            return raw
        try:
            return normalize_phone(raw)
        except PhoneError:
            raise forms.ValidationError(
                _("Enter a full phone number or just its last 4 digits."), code="invalid"
            ) from None

    def criteria(self) -> HouseholdCriteria:
        """The cleaned search; call only after is_valid()."""
        data = self.cleaned_data
        phone = data["phone"]
        tail = len(phone) == 4 and phone.isdigit()
        return HouseholdCriteria(
            building=data["building"].strip(), unit=data["unit"], room=data["room"],
            phone="" if tail else phone, phone_tail=phone if tail else "",
            compound=data.get("compound"),
        )


class PhoneFieldsMixin:
    """Validate phone fields the way the services do, so the error sits on the field."""

    phone_fields: tuple[str, ...] = ("phone",)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        for name in self.phone_fields:
            if name in cleaned:
                try:
                    cleaned[name] = clean_phone(cleaned[name], field=self.fields[name].label)
                except InvalidInput as error:
                    self.add_error(name, error.message)
        return cleaned


class HouseholdForm(PhoneFieldsMixin, forms.ModelForm):
    phone_fields = ("phone", "phone_alt")

    class Meta:
        model = Household
        fields = ["unit", "room", "members_count", "phone", "phone_alt", "containment",
                  "containment_since", "containment_until", "notes"]
        widgets = {
            "phone": forms.TextInput(attrs=_TEL),
            "phone_alt": forms.TextInput(attrs=_TEL),
            "containment_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "containment_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class ResidentForm(PhoneFieldsMixin, forms.ModelForm):
    class Meta:
        model = Resident
        fields = ["name", "phone", "is_contact", "special_group", "needs_door_delivery", "notes"]
        widgets = {
            "phone": forms.TextInput(attrs=_TEL),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, special_care: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not special_care:
            # Only SPECIAL_CARE_FLAG_ROLES see or set the flag (queries.sees_special_care).
            del self.fields["special_group"]


class GateForm(forms.ModelForm):
    class Meta:
        model = Gate
        fields = ["name", "kind", "building", "capacity", "latitude", "longitude", "notes"]
        help_texts = {
            "capacity": _(
                "Pick-up point: people who may wait at once, 2 m apart. "
                "Storage or transfer point: bags it holds."
            ),
            "building": _("Only for a building's own pick-up point."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        compound = self.instance.compound
        self.fields["building"].queryset = compound.children.filter(kind=Area.Kind.BUILDING)
