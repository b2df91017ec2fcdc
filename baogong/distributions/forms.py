"""The distribution form: source, package(s), target areas, allocation rule."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from baogong.areas.models import Area
from baogong.distributions.models import DEFAULT_BANDS, Distribution
from baogong.distributions.planning import Band
from baogong.distributions.services import DistributionSpec, PackageSpec

BAND = re.compile(r"^(\d+)\s*(?:[-–~至]\s*(\d+)|(\+))?\s*[:：]\s*(\d+)$")


def bands_text(bands) -> str:
    return ", ".join(
        f"{b[0]}-{b[1]}:{b[2]}" if b[1] is not None else f"{b[0]}+:{b[2]}" for b in bands
    )


def parse_bands(text: str) -> list[Band]:
    """ "1-2:1, 3-4:2, 5+:3" → bands; a bad part is named in the error."""
    bands = []
    for part in re.split(r"[,，;；\n]+", text.strip()):
        part = part.strip()
        if not part:
            continue
        match = BAND.match(part)
        if not match:
            raise forms.ValidationError(
                _('"%(part)s" is not a band: write people-people:packs, e.g. 1-2:1 or 5+:3.'),
                params={"part": part},
            )
        low, high, open_end, packs = match.groups()
        upper = None if open_end else int(high or low)
        bands.append(Band(int(low), upper, int(packs)))
    return bands


class DistributionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    source = forms.ChoiceField(label=_("Source"), choices=Distribution.Source.choices)
    donor_name = forms.CharField(label=_("Donor (for a donation)"), max_length=100, required=False)
    targets = forms.ModelMultipleChoiceField(
        label=_("Target areas"),
        queryset=Area.objects.none(),
        help_text=_("Every household under the chosen areas gets an allocation."),
    )
    package_name = forms.CharField(label=_("Package"), max_length=60)
    package_contents = forms.CharField(
        label=_("Contents (one item per line)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("e.g. 大米 5kg ×1"),
    )
    package_quantity = forms.IntegerField(label=_("Packs available"), min_value=0)
    rule = forms.ChoiceField(
        label=_("Allocation rule"),
        choices=Distribution.Rule.choices,
        initial=Distribution.Rule.PER_HOUSEHOLD,
    )
    bands = forms.CharField(
        label=_("Household size bands (people:packs)"),
        required=False,
        initial=bands_text(DEFAULT_BANDS),
        help_text=_("Used with the rule by household size, e.g. 1-2:1, 3-4:2, 5+:3."),
    )
    special_extra_packs = forms.IntegerField(
        label=_("Extra packs for special-group households"), min_value=0, max_value=10, initial=0
    )
    special_name = forms.CharField(
        label=_("Different package for special-group households (optional)"),
        max_length=60,
        required=False,
    )
    special_contents = forms.CharField(
        label=_("Its contents (one item per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    special_quantity = forms.IntegerField(
        label=_("Its packs available"), min_value=0, required=False
    )
    waiting_from = forms.ModelChoiceField(
        label=_("Serve first the waiting list of"),
        queryset=Distribution.objects.none(),
        required=False,
    )

    def __init__(self, *args, areas=None, earlier=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["targets"].queryset = areas
            self.fields["targets"].label_from_instance = lambda a: f"{a.name} ({a.kind_label})"
        if earlier is not None:
            self.fields["waiting_from"].queryset = earlier

    def clean_bands(self) -> list[Band]:
        return parse_bands(self.cleaned_data.get("bands") or "")

    def clean(self):
        data = super().clean()
        if data.get("special_name") and data.get("special_quantity") is None:
            self.add_error("special_quantity", _("Enter how many packs of it are available."))
        if data.get("rule") == Distribution.Rule.SIZE_BANDS and not data.get("bands"):
            self.add_error("bands", _("Enter the bands, e.g. 1-2:1, 3-4:2, 5+:3."))
        return data

    def spec(self, allocation_order=None) -> DistributionSpec:
        data = self.cleaned_data
        special = None
        if data.get("special_name"):
            special = PackageSpec(
                data["special_name"], data.get("special_contents", ""), data["special_quantity"]
            )
        return DistributionSpec(
            title=data["title"],
            source=data["source"],
            donor_name=data.get("donor_name", ""),
            targets=list(data["targets"]),
            package=PackageSpec(
                data["package_name"], data.get("package_contents", ""), data["package_quantity"]
            ),
            rule=data["rule"],
            bands=data.get("bands") or (),
            special_extra_packs=data.get("special_extra_packs") or 0,
            special_package=special,
            waiting_from=data.get("waiting_from"),
            allocation_order=allocation_order,
        )


def initial_from(distribution: Distribution) -> dict:
    packages = list(distribution.packages.order_by("position", "pk"))
    initial = {
        "title": distribution.title,
        "source": distribution.source,
        "donor_name": distribution.donor_name,
        "targets": list(distribution.targets.all()),
        "rule": distribution.rule,
        "special_extra_packs": distribution.special_extra_packs,
        "waiting_from": distribution.waiting_from,
    }
    if distribution.rule == Distribution.Rule.SIZE_BANDS:
        initial["bands"] = bands_text(
            (b.min_members, b.max_members, b.packs) for b in distribution.bands.all()
        )
    if packages:
        initial.update(
            package_name=packages[0].name,
            package_contents=packages[0].contents,
            package_quantity=packages[0].quantity_available,
        )
    if len(packages) > 1:
        initial.update(
            special_name=packages[1].name,
            special_contents=packages[1].contents,
            special_quantity=packages[1].quantity_available,
        )
    return initial


def initial_from_allocation(order) -> dict:
    """Prefill from a requisitions allocation order: its items are the package's contents
    (how much of each goes in one pack is for the planner to write)."""
    contents = "\n".join(f"{line.item} {line.spec}".strip() for line in order.lines.all())
    return {
        "title": _("Distribution of allocation order %(number)s") % {"number": order.number},
        "source": Distribution.Source.ALLOCATION,
        "package_name": _("Allocated package"),
        "package_contents": contents,
    }
