"""Forms of the transport pages. Choices come from the user's scope (views pass them in);
the services check everything again."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from baogong.fulfilment.models import Attestation, Vehicle
from baogong.fulfilment.transport import Owner

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _datetime(label) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, widget=DATETIME)


class OwnerForm(forms.Form):
    owner = forms.ChoiceField(label=_("Belongs to"))

    def __init__(self, *args, owners: list[Owner], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(o.key, o.label) for o in owners]
        if len(owners) == 1:
            self.fields["owner"].initial = owners[0].key


class VehicleForm(OwnerForm):
    plate = forms.CharField(label=_("Plate number"), max_length=12, help_text=_("e.g. 鄂F12345"))
    kind = forms.ChoiceField(label=_("Type"), choices=Vehicle.Kind.choices)
    capacity_bags = forms.IntegerField(label=_("Capacity (bags)"), min_value=0, initial=0)
    capacity_kg = forms.IntegerField(label=_("Capacity (kg)"), min_value=0, initial=0)


class CrewForm(OwnerForm):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=24)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        required=False,
        help_text=_("Only the first 3 and last 4 characters are kept."),
    )


class PassIssueForm(forms.Form):
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=None)
    valid_from = _datetime(_("Valid from"))
    valid_to = _datetime(_("Valid to"))
    areas = forms.ModelMultipleChoiceField(
        label=_("Areas covered"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    route = forms.CharField(label=_("Route (optional)"), max_length=200, required=False)
    authority = forms.CharField(
        label=_("Issued by"),
        max_length=100,
        required=False,
        help_text=_("Leave empty for your street's (or district's) epidemic command."),
    )

    def __init__(self, *args, vehicles: QuerySet, areas: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = vehicles
        self.fields["areas"].queryset = areas


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class EntryRequestForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=None)
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=None)
    crew = forms.ModelMultipleChoiceField(
        label=_("Crew (driver included)"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    cargo = forms.CharField(
        label=_("Cargo"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    arrive_from = _datetime(_("Arrive from"))
    arrive_to = _datetime(_("Arrive by"))

    def __init__(self, *args, sites: QuerySet, vehicles: QuerySet, crew: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["vehicle"].queryset = vehicles
        self.fields["crew"].queryset = crew


class EntryDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason (needed to refuse)"), max_length=200, required=False)


class StopForm(forms.Form):
    place = forms.ModelChoiceField(label=_("Stop: gate or transfer point"), queryset=None)
    window_from = _datetime(_("Arrive from"))
    window_to = _datetime(_("Arrive by"))
    rounds = forms.ModelMultipleChoiceField(
        label=_("Rounds carried to this stop"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, places: QuerySet, rounds: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["rounds"].queryset = rounds


class TripForm(StopForm):
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=None)
    vehicle_pass = forms.ModelChoiceField(label=_("Vehicle pass"), queryset=None, required=False)
    driver = forms.ModelChoiceField(label=_("Driver"), queryset=None)
    crew = forms.ModelMultipleChoiceField(
        label=_("Other crew"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    departs_at = _datetime(_("Planned departure"))
    field_order = ["vehicle", "vehicle_pass", "driver", "crew", "departs_at"]

    def __init__(self, *args, vehicles, passes, crew, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = vehicles
        self.fields["vehicle_pass"].queryset = passes
        self.fields["driver"].queryset = crew
        self.fields["crew"].queryset = crew


class AttestationForm(forms.Form):
    health_code = forms.ChoiceField(
        label=_("Health code"), choices=Attestation.HealthCode.choices, widget=forms.RadioSelect
    )
    travel_record = forms.CharField(
        label=_("Places visited in the last 14 days"), max_length=200, required=False
    )
    travel_ok = forms.BooleanField(
        label=_("I have not been to a medium- or high-risk area in the last 14 days"),
        required=False,
    )
    last_test_at = _datetime(_("Time of the last negative test"))
    symptoms = forms.BooleanField(label=_("I have fever, cough or other symptoms"), required=False)
    commitment_signed = forms.BooleanField(
        label=_("I promise the above is true and I will follow the epidemic rules at every stop"),
        required=False,
    )
    signed_name = forms.CharField(label=_("Type your name to sign"), max_length=50, required=False)
    photo = forms.ImageField(label=_("Photo of the health code (optional)"), required=False)


class DisinfectionForm(forms.Form):
    agent = forms.CharField(label=_("Agent"), max_length=50, initial="84消毒液")
    dilution = forms.CharField(label=_("Dilution"), max_length=20, initial="1:100")
    done_by = forms.CharField(label=_("Done by"), max_length=50)
    done_at = _datetime(_("Done at"))
    rest_minutes = forms.IntegerField(
        label=_("Rest before unloading (minutes)"), min_value=0, max_value=240, initial=30
    )
