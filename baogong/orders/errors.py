"""Why an order or a round change was refused: one class per reason, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from baogong.core.errors import Conflict, DomainError


class OrderRefused(DomainError):
    code = "order_refused"


class RoundNotOpen(OrderRefused):
    code = "round_not_open"
    default_message = _("This round is not taking orders now.")


class NotInRoundArea(OrderRefused):
    code = "not_in_round_area"
    default_message = _("This household is not in a compound this round serves.")


class CadenceRule(OrderRefused):
    code = "cadence"
    default_message = _(
        "This household already ordered on %(previous)s; the next order is possible from "
        "%(next)s (one order every %(days)s days)."
    )


class SoldOut(OrderRefused):
    code = "sold_out"
    default_message = _("Sold out: %(package)s has only %(remaining)s left.")


class OverLimit(OrderRefused):
    code = "over_limit"
    default_message = _("At most %(limit)s of %(package)s per household.")


class RoundFull(OrderRefused):
    code = "round_full"
    default_message = _("This round has reached the number of households the supplier can serve.")


class UnknownOffer(OrderRefused):
    code = "unknown_offer"
    default_message = _("This package is not offered in this round.")


class EmptyOrder(OrderRefused):
    code = "empty_order"
    default_message = _("Choose at least one package.")


class BadTransition(Conflict):
    code = "bad_transition"
    default_message = _("A round that is %(state)s cannot be %(action)s.")
