"""Resident self-service: the open rounds of the household's compound, ordering, "my orders".

Each view: parse → scoped lookup (the user's own households) → service → render.
Every write goes through order_place/order_cancel with channel=SELF and by=the user;
their refusals are shown on the page (role=alert) with what the resident entered kept.
NotFound → 404 (a round or order that is not theirs), NotAllowed → 403 (no household).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import Scope, scope_for
from baogong.areas.models import Household
from baogong.core.errors import InvalidInput, NotAllowed, NotFound
from baogong.orders import queries, services
from baogong.orders.errors import OrderRefused
from baogong.orders.forms import ResidentOrderForm
from baogong.orders.models import Order, Round

MY_ORDERS_PAGE_SIZE = 20


def resident_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer NotFound with 404 and NotAllowed with 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except NotAllowed:
            raise PermissionDenied from None

    return wrapper


def _households(scope: Scope) -> list[Household]:
    """The user's own households; a user without a resident grant may not use these pages."""
    households = list(queries.resident_households(scope))
    if not households:
        raise NotAllowed()
    return households


def _household_round(scope: Scope, pk: int, household_pk: str | None) -> tuple[Household, Round]:
    """Round `pk` with the first of the user's households it serves (or the one asked for)."""
    households = _households(scope)
    if household_pk:
        households = [h for h in households if str(h.pk) == household_pk]
    for household in households:
        round_ = queries.rounds_serving(household).filter(pk=pk).first()
        if round_ is not None:
            return household, round_
    raise NotFound()


@dataclass
class ShopSection:
    household: Household
    rounds: list[Round]


@require_GET
@login_required
@resident_errors
def shop(request: HttpRequest) -> HttpResponse:
    """The rounds open now for each of the user's households, marked where it already ordered."""
    sections = []
    for household in _households(scope_for(request.user)):
        rounds = list(queries.open_rounds_for_household(household))
        ordered = queries.ordered_round_ids(household, [r.pk for r in rounds])
        for round_ in rounds:
            round_.already_ordered = round_.pk in ordered
        sections.append(ShopSection(household=household, rounds=rounds))
    return render(request, "orders/resident_shop.html", {"sections": sections})


@require_http_methods(["GET", "POST"])
@login_required
@resident_errors
def round_order(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose quantities and place (or change) the household's order; ?placed=1 confirms."""
    household_pk = request.POST.get("household") or request.GET.get("household")
    household, round_ = _household_round(scope_for(request.user), pk, household_pk)
    order = queries.household_round_order(round_, household)
    live = order if order is not None and order.state == Order.State.PLACED else None
    context = {"round": round_, "household": household, "order": live}
    if request.method == "GET" and live is not None and request.GET.get("placed"):
        return render(request, "orders/resident_confirmation.html", context)
    current = {line.offer_id: line.quantity for line in live.lines.all()} if live else {}
    offers = queries.round_offers(round_)
    form = ResidentOrderForm(request.POST or None, offers=offers, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_place(
                round_=round_,
                household=household,
                lines=form.lines(),
                channel=Order.Channel.SELF,
                by=request.user,
            )
        except (OrderRefused, InvalidInput) as refused:
            context["refusal"] = refused.message
        else:
            query = urlencode({"placed": 1, "household": household.pk})
            return redirect(f"{reverse('orders:round_order', args=[round_.pk])}?{query}")
    now = timezone.now()
    context.update(form=form, now=now, is_open=queries.round_is_open(round_, now=now))
    return render(request, "orders/resident_round.html", context)


@require_GET
@login_required
@resident_errors
def my_orders(request: HttpRequest) -> HttpResponse:
    """The households' orders, newest first, with a cancel button while the round is open."""
    return _my_orders_page(request, scope_for(request.user))


def _my_orders_page(request: HttpRequest, scope: Scope, refusal: str = "") -> HttpResponse:
    households = _households(scope)
    orders = queries.household_orders([h.pk for h in households])
    page = Paginator(orders, MY_ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for order in page.object_list:
        order.can_change = order.state == Order.State.PLACED and queries.round_is_open(
            order.round, now=now
        )
    return render(
        request,
        "orders/resident_my_orders.html",
        {"page": page, "refusal": refusal, "several_households": len(households) > 1},
    )


@require_POST
@login_required
@resident_errors
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask once ("confirm" not posted), then cancel the household's order through the service."""
    scope = scope_for(request.user)
    order = queries.household_orders([h.pk for h in _households(scope)]).filter(pk=pk).first()
    if order is None:
        raise NotFound()
    if not request.POST.get("confirm"):
        return render(request, "orders/resident_cancel_confirm.html", {"order": order})
    try:
        services.order_cancel(order=order, by=request.user)
    except OrderRefused as refused:
        return _my_orders_page(request, scope, refusal=refused.message)
    messages.success(
        request, _("Your order in “%(round)s” is cancelled.") % {"round": order.round.title}
    )
    return redirect("orders:my_orders")
