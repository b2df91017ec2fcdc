from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from baogong.fulfilment.queries import OfferTotal
from baogong.orders.models import Round

ALL, SOME = "all", "some"


class ShortageRuleForm(forms.Form):
    shortage_rule = forms.ChoiceField(
        label=_("If the supplier is short of a package"),
        choices=Round.ShortageRule.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "First come, first served: the earliest orders get their units in full. "
            "Pro rata: every order gets the same share, rounded fairly."
        ),
    )


class ConfirmForm(forms.Form):
    """Per package offered: "can supply all" or "can supply N units"."""

    def __init__(self, *args, offers: list[OfferTotal], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offers = offers
        for offer in offers:
            self.fields[f"supply_{offer.offer_id}"] = forms.ChoiceField(
                label=f"{offer.code}. {offer.name}",
                choices=[
                    (ALL, _("Can supply all %(n)s") % {"n": offer.ordered}),
                    (SOME, _("Can supply only")),
                ],
                initial=ALL,
                widget=forms.RadioSelect,
            )
            self.fields[f"units_{offer.offer_id}"] = forms.IntegerField(
                label=_("Units of %(name)s that can be supplied") % {"name": offer.name},
                min_value=0,
                max_value=offer.ordered,
                required=False,
            )

    def rows(self) -> list[dict]:
        return [
            {
                "offer": offer,
                "choice": self[f"supply_{offer.offer_id}"],
                "units": self[f"units_{offer.offer_id}"],
            }
            for offer in self.offers
        ]

    def clean(self) -> dict:
        data = super().clean()
        for offer in self.offers:
            if (
                data.get(f"supply_{offer.offer_id}") == SOME
                and data.get(f"units_{offer.offer_id}") is None
            ):
                self.add_error(f"units_{offer.offer_id}", _("Say how many units you can supply."))
        return data

    def available(self) -> dict[int, int]:
        """Offer id → units, only for packages the supplier is short of."""
        return {
            offer.offer_id: self.cleaned_data[f"units_{offer.offer_id}"]
            for offer in self.offers
            if self.cleaned_data.get(f"supply_{offer.offer_id}") == SOME
        }
