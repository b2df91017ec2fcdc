"""Forms of the orders app. Each intake channel keeps its own form here or in its own module."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from baogong.orders.models import Offer

# A sanity bound only: the per-household limit and stock are order_place's to enforce,
# so that its refusal (with the package name and the limit) is what the resident reads.
MAX_QUANTITY = 99


@dataclass(frozen=True)
class OfferChoice:
    """One package card: the offer, its quantity field and what this household may still take."""

    offer: Offer
    field: forms.BoundField
    available: int  # stock left, counting the household's own units back in

    @property
    def sold_out(self) -> bool:
        return self.available <= 0

    @property
    def most(self) -> int:
        return max(0, min(self.offer.per_household_limit, self.available))


class ResidentOrderForm(forms.Form):
    """A quantity per package of one round; quantity 0 leaves a package out.

    `current` maps offer id → quantity of the household's existing order, which
    prefills the form; those units count as available again when editing.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        offers: Sequence[Offer],
        current: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__(data)
        current = current or {}
        self.offers = list(offers)
        self.available: dict[int, int] = {}
        for offer in self.offers:
            own = current.get(offer.pk, 0)
            available = offer.remaining + own
            self.available[offer.pk] = available
            most = max(0, min(offer.per_household_limit, available))
            field = forms.IntegerField(
                label=_("Quantity"),
                required=False,
                min_value=0,
                max_value=MAX_QUANTITY,
                initial=own,
                disabled=available <= 0,
                widget=forms.NumberInput(
                    attrs={
                        "min": 0,
                        "step": 1,
                        "inputmode": "numeric",
                        "class": "shop-stepper-input",
                        "data-price": str(offer.price),
                        "aria-describedby": f"offer-{offer.pk}-stock",
                    }
                ),
            )
            # What the stepper lets one choose; IntegerField set it to MAX_QUANTITY.
            field.widget.attrs["max"] = most
            self.fields[self.field_name(offer)] = field

    @staticmethod
    def field_name(offer: Offer) -> str:
        return f"qty_{offer.pk}"

    def choices(self) -> Iterator[OfferChoice]:
        for offer in self.offers:
            yield OfferChoice(
                offer=offer, field=self[self.field_name(offer)], available=self.available[offer.pk]
            )

    def total(self) -> Decimal:
        """The amount of the quantities shown (entered or prefilled); unreadable ones count 0."""
        total = Decimal("0.00")
        for offer in self.offers:
            try:
                quantity = int(self[self.field_name(offer)].value() or 0)
            except (TypeError, ValueError):
                quantity = 0
            total += offer.price * max(0, min(quantity, MAX_QUANTITY))
        return total

    def lines(self) -> dict[int, int]:
        """Offer id → quantity, for order_place (0 drops a line from an existing order)."""
        return {
            offer.pk: self.cleaned_data.get(self.field_name(offer)) or 0 for offer in self.offers
        }
