"""What each kind of notification says and which channels it goes out on.

Strings are English msgids with named placeholders; Chinese comes from the catalogue.
They are rendered when the outbox row is written, in the site language (Chinese): users
have no language setting of their own, and household phones belong to no account.
Context values arrive as strings already formatted by the caller: amounts as plain
decimals ("12.50", the template adds the currency), times as local "11-28 18:00".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Template:
    subject: Promise
    body: Promise
    keys: frozenset[str]
    # Residents' news also goes by SMS (and onto the call list for households that
    # cannot get one); staff news stays in the app.
    sms: bool = False


def _t(subject: Promise, body: Promise, keys: str, *, sms: bool = False) -> Template:
    return Template(subject=subject, body=body, keys=frozenset(keys.split()), sms=sms)


TEMPLATES: dict[str, Template] = {
    "round_opened": _t(
        _("Ordering is open: %(round_title)s"),
        _("%(supplier)s is taking orders for “%(round_title)s” until %(cutoff)s."),
        "round_title supplier cutoff",
        sms=True,
    ),
    "cutoff_reminder": _t(
        _("Ordering closes soon: %(round_title)s"),
        _(
            "Orders for “%(round_title)s” close at %(cutoff)s "
            "and your household has not ordered yet."
        ),
        "round_title cutoff",
        sms=True,
    ),
    "order_confirmed": _t(
        _("Order confirmed: %(round_title)s"),
        _(
            "Your order for “%(round_title)s” is confirmed: %(amount)s yuan, "
            "delivery %(delivery_at)s, pickup code %(pickup_code)s."
        ),
        "round_title pickup_code amount delivery_at",
        sms=True,
    ),
    "order_cut": _t(
        _("Order cut short: %(round_title)s"),
        _(
            "The supplier cannot supply everything for “%(round_title)s”: %(cut_items)s. "
            "New amount %(amount)s yuan, pickup code %(pickup_code)s."
        ),
        "round_title pickup_code cut_items amount",
        sms=True,
    ),
    "payment_due": _t(
        _("Payment due: %(round_title)s"),
        _(
            "Please pay %(amount)s yuan for “%(round_title)s” by %(deadline)s; "
            "unpaid orders are not delivered."
        ),
        "round_title amount deadline",
        sms=True,
    ),
    "order_dropped": _t(
        _("Order not delivered: %(round_title)s"),
        _(
            "Your order %(pickup_code)s for “%(round_title)s” was not paid by the deadline "
            "and will not be delivered."
        ),
        "round_title pickup_code",
        sms=True,
    ),
    "refund_issued": _t(
        _("Refund: %(round_title)s"),
        _("%(amount)s yuan is refunded for “%(round_title)s”: %(reason)s."),
        "round_title amount reason",
        sms=True,
    ),
    # Round news for the supplier's users and the liaisons (orders.services._tell_round_people).
    "round_open": _t(
        _("Round “%(round_title)s” is now open"), _("%(reason)s"), "round_title reason"
    ),
    "round_close": _t(
        _("Round “%(round_title)s” is now closed"), _("%(reason)s"), "round_title reason"
    ),
    "round_confirm": _t(
        _("Round “%(round_title)s” is now confirmed"), _("%(reason)s"), "round_title reason"
    ),
    "round_dispatch": _t(
        _("Round “%(round_title)s” is now dispatched"), _("%(reason)s"), "round_title reason"
    ),
    "round_deliver": _t(
        _("Round “%(round_title)s” is now delivered"), _("%(reason)s"), "round_title reason"
    ),
    "round_settle": _t(
        _("Round “%(round_title)s” is now settled"), _("%(reason)s"), "round_title reason"
    ),
    "round_cancel": _t(
        _("Round “%(round_title)s” is now cancelled"), _("%(reason)s"), "round_title reason"
    ),
    # Staggered pickup (lastmile.slots): to the households of a building.
    "pickup_slot": _t(
        _("Pickup time for %(building)s: %(window)s"),
        _(
            "Please collect your bag at %(place)s, %(window)s, with pickup code "
            "%(pickup_code)s. Come down when %(building)s is called, and keep 2 m apart."
        ),
        "building window place pickup_code",
        sms=True,
    ),
    "pickup_slot_changed": _t(
        _("Pickup time changed for %(building)s: %(window)s"),
        _(
            "Your pickup time has changed: please collect your bag at %(place)s, %(window)s, "
            "with pickup code %(pickup_code)s. Keep 2 m apart."
        ),
        "building window place pickup_code",
        sms=True,
    ),
    "pickup_now": _t(
        _("%(building)s: please come down now"),
        _(
            "%(building)s is being called: please collect your bag at %(place)s now "
            "(until %(until)s) with your pickup code, and keep 2 m apart."
        ),
        "building place until",
        sms=True,
    ),
    "door_delivery_coming": _t(
        _("Your bag will be brought to your door"),
        _(
            "A volunteer will bring your bag of “%(source)s” to your door; please stay at "
            "home and keep pickup code %(pickup_code)s ready."
        ),
        "source pickup_code",
        sms=True,
    ),
    # Special-care check-ins (welfare.services): to community staff and assigned volunteers.
    # Only the address goes out, never the person's name or health details.
    "welfare_urgent": _t(
        _("Urgent: special-care resident at %(address)s needs help"),
        _("A check-in call at %(address)s was marked urgent. Please act now."),
        "address",
        sms=True,
    ),
    "welfare_home_visit": _t(
        _("Home visit needed: %(address)s"),
        _("The special-care resident at %(address)s was not reached twice in a row."),
        "address",
    ),
    # Market monitoring (monitoring.notifications): staff and supplier users only.
    "monitoring_alert": _t(
        _("Market alert at %(outlet)s: %(alert)s"),
        _("%(alert)s, %(commodity)s, %(date)s: %(detail)s"),
        "outlet alert commodity date detail",
    ),
    "monitoring_reminder": _t(
        _("Stock report due %(due_at)s"),
        _("Please file the stock report of %(outlet)s for %(report_date)s by %(due_at)s."),
        "outlet report_date due_at",
    ),
    # Door delivery (lastmile/doors.py): staff news, in the app only.
    "door_tasks_assigned": _t(
        _("Door deliveries for you: %(compound)s"),
        _("%(count)s bags of %(compound)s are yours to take to the door. Open your list."),
        "count compound",
    ),
    "door_problem": _t(
        _("Door delivery problem: %(address)s"),
        _("%(compound)s %(address)s: %(problem)s"),
        "compound address problem",
    ),
    # Gate receipt (lastmile/receipt.py): the supplier's users (staff news), and the household.
    "gate_shortfall": _t(
        _("Shortfall at %(compound)s: %(round_title)s"),
        _(
            "At the gate of %(compound)s, %(count)s of %(expected)s bags of “%(round_title)s” "
            "were missing, damaged or wrong: %(codes)s. The households are refunded."
        ),
        "compound round_title count expected codes",
    ),
    "bag_missing": _t(
        _("Your bag did not arrive: %(source)s"),
        _(
            "Your bag %(pickup_code)s of “%(source)s” was %(problem)s at the gate. "
            "%(money)s Sorry for the trouble."
        ),
        "source pickup_code problem money",
        sms=True,
    ),
}


def template_for(kind: str, context: Mapping[str, str]) -> Template:
    """The template of `kind`, after checking the caller gave every context key it needs."""
    try:
        template = TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"unknown notification kind {kind!r}") from None
    missing = template.keys - set(context)
    if missing:
        raise ValueError(f"{kind}: context lacks {', '.join(sorted(missing))}")
    return template


def render(template: Template, context: Mapping[str, str], language: str = "") -> tuple[str, str]:
    """(subject, body) in `language` (the site default when empty)."""
    values = {key: str(context[key]) for key in template.keys}
    with translation.override(language or settings.LANGUAGE_CODE):
        return str(template.subject) % values, str(template.body) % values
