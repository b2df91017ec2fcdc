"""Orders on behalf of people who phone in (代下单), built for the keyboard alone.

One page, two states of its panel: find the caller's household (one search box,
live results) and enter the quantities. Submitting places the order through
order_place(channel=PROXY) and returns the panel to the search box, with a line
saying what was saved, so the next caller can be taken at once. htmx requests get
the panel alone; without JavaScript the same page works with plain links and forms.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baogong.accounts.scoping import PROXY_ROLES, Scope, scope_for
from baogong.areas.models import Household
from baogong.core.errors import DomainError, NotAllowed, NotFound
from baogong.core.http import domain_errors, is_htmx
from baogong.orders import queries, services
from baogong.orders.errors import NotInRoundArea
from baogong.orders.models import Order, Round
from baogong.orders.round_forms import ProxyOrderForm
from baogong.orders.views.rounds import reaches, visible_round


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def proxy_order(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the search box (`?q=` searches, `?household=` opens the quantities);
    POST: place, change or cancel the household's order."""
    scope = scope_for(request.user)
    round_ = visible_round(scope, pk)
    if not reaches(scope, PROXY_ROLES, queries.round_area_list(round_)):
        raise NotAllowed()
    page = ProxyPage(request, scope, round_)
    if not queries.round_is_open(round_):
        return page.render()
    if request.method == "POST":
        return page.submit()
    if "q" in request.GET:
        return page.search(request.GET["q"])
    if request.GET.get("household"):
        return page.choose(page.household(request.GET["household"]))
    return page.render()


class ProxyPage:
    """The page's state for one request: round, offers, the chosen household, the form."""

    def __init__(self, request: HttpRequest, scope: Scope, round_: Round) -> None:
        self.request, self.scope, self.round = request, scope, round_
        self.compound_ids = queries.round_compound_ids(round_)
        self.context: dict[str, Any] = {
            "round": round_,
            "is_open": queries.round_is_open(round_),
            "htmx": is_htmx(request),
        }

    def household(self, raw: Any) -> Household:
        """A household the user may order for, else NotFound (404)."""
        try:
            return self.scope.household(int(raw), roles=PROXY_ROLES)
        except (TypeError, ValueError):
            raise NotFound() from None

    def search(self, text: str) -> HttpResponse:
        found, more = queries.proxy_search(self.scope, self.round, self.compound_ids, text)
        for household in found:
            household.shown_phone = self._phone(household)
        self.context.update(q=text, results=found, more=more, searched=bool(text.strip()))
        if is_htmx(self.request):
            return render(self.request, "orders/proxy_results.html", self.context)
        return self.render()

    def choose(
        self, household: Household, form: ProxyOrderForm | None = None, error: str = ""
    ) -> HttpResponse:
        offers = list(queries.round_offers(self.round))
        order = queries.household_round_order(self.round, household)
        live = order if order is not None and order.state == Order.State.PLACED else None
        if form is None:
            current = {line.offer_id: line.quantity for line in live.lines.all()} if live else {}
            form = ProxyOrderForm(
                offers=offers, current=current, initial={"household": household.pk}
            )
        in_round = household.compound_id in self.compound_ids
        if not in_round and not error:
            error = NotInRoundArea().message
        household.shown_phone = self._phone(household)
        self.context.update(
            household=household,
            order=live,
            form=form,
            error=error,
            in_round=in_round,
            residents=list(household.residents.order_by("-is_contact", "name")),
        )
        return self.render()

    def submit(self) -> HttpResponse:
        household = self.household(self.request.POST.get("household"))
        offers = list(queries.round_offers(self.round))
        form = ProxyOrderForm(self.request.POST, offers=offers)
        if not self.request.POST.get("cancel") and not form.is_valid():
            return self.choose(household, form)
        try:
            done = self._save(household, form)
        except NotAllowed:
            raise
        except DomainError as refusal:
            return self.choose(household, form, error=refusal.message)
        if not is_htmx(self.request):
            messages.success(self.request, done)
            return redirect("orders:proxy_order", pk=self.round.pk)
        self.context["done"] = done
        return self.render()

    def _save(self, household: Household, form: ProxyOrderForm) -> str:
        """Place or cancel through the services; return the line that says what was done."""
        by = self.request.user
        if self.request.POST.get("cancel"):
            order = queries.household_round_order(self.round, household)
            if order is None:
                raise NotFound()
            services.order_cancel(order=order, by=by)
            return _("Order of %(address)s cancelled; its packages are back in stock.") % {
                "address": household.address
            }
        order = services.order_place(
            round_=self.round,
            household=household,
            lines=form.lines(),
            channel=Order.Channel.PROXY,
            by=by,
        )
        return _("Saved for %(address)s (%(compound)s): pickup code %(code)s, %(amount)s due.") % {
            "address": household.address,
            "compound": household.compound.name,
            "code": order.pickup_code,
            "amount": f"¥{order.amount_due:.2f}",
        }

    def _phone(self, household: Household) -> str:
        return household.phone if self.scope.sees_full_phone(household) else household.masked_phone

    def render(self) -> HttpResponse:
        template = "orders/proxy_panel.html" if is_htmx(self.request) else "orders/proxy_order.html"
        return render(self.request, template, self.context)
