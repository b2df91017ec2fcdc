"""Consolidation pages: a round's totals, pick list, boxes and documents; the supplier's
confirmation; the liaison's shortage rule; document downloads with progress.

Who may see these: the round's supplier, and staff who run the round for all its areas
(liaison, community, street, district: `services.may_run_round`). Residents, volunteers
and the bureau never: sheets and labels list every household of the round.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.core.errors import DomainError, NotAllowed, NotFound
from baogong.core.http import domain_errors, is_htmx
from baogong.fulfilment import documents, queries, services
from baogong.fulfilment.forms import ConfirmForm, ShortageRuleForm
from baogong.fulfilment.models import Document
from baogong.orders import queries as order_queries
from baogong.orders.models import Round
from baogong.orders.services import may_run_round


def documents_round(request: HttpRequest, pk: int) -> Round:
    """The round if the user may see its consolidation and documents, else raise."""
    scope = scope_for(request.user)
    round_ = order_queries.round_for(scope, pk)
    if round_ is None:
        raise NotFound()
    areas = order_queries.round_area_list(round_)
    if not may_run_round(request.user, supplier=round_.supplier, areas=areas):
        raise NotAllowed()
    return round_


def _documents_context(round_: Round) -> dict:
    docs = documents.documents_of(round_)
    return {
        "round": round_,
        "documents": docs,
        "working": any(d.state in (Document.State.QUEUED, Document.State.RUNNING) for d in docs),
        "any_made": any(d.file for d in docs),
    }


@require_GET
@login_required
@domain_errors
def round_consolidation(request: HttpRequest, pk: int) -> HttpResponse:
    """Totals per package, compound and building; pick list; boxes; documents."""
    round_ = documents_round(request, pk)
    offers = queries.offer_totals(round_)
    compounds = queries.compound_totals(round_)
    rule_form = None
    if round_.state in services.RULE_STATES and services.may_set_rule(request.user, round_):
        rule_form = ShortageRuleForm(initial={"shortage_rule": round_.shortage_rule})
    return render(
        request,
        "fulfilment/consolidation.html",
        {
            **_documents_context(round_),
            "offers": offers,
            "offer_columns": [o for o in offers if o.ordered],
            "compounds": compounds,
            "buildings": queries.building_totals(round_),
            "picks": queries.pick_list(round_, offers),
            "bags": sum(c.orders for c in compounds),
            "amount": sum((c.amount for c in compounds), start=Decimal("0.00")),
            "rule_form": rule_form,
            "can_confirm": round_.state == Round.State.CLOSED
            and services.may_confirm(request.user, round_),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def round_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The supplier confirms the closed round, saying which packages it is short of."""
    round_ = documents_round(request, pk)
    if not services.may_confirm(request.user, round_):
        raise NotAllowed()
    offers = [o for o in queries.offer_totals(round_) if o.ordered]
    form = ConfirmForm(request.POST or None, offers=offers)
    if request.method == "POST" and round_.state == Round.State.CLOSED and form.is_valid():
        try:
            result = services.round_confirm(
                round_=round_, available=form.available(), by=request.user
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if result.orders_cut:
                messages.success(
                    request,
                    _("Round confirmed; %(n)s orders were cut short and their households told.")
                    % {"n": result.orders_cut},
                )
            else:
                messages.success(request, _("Round confirmed; every household was told."))
            return redirect("fulfilment:round_consolidation", pk=round_.pk)
    return render(
        request,
        "fulfilment/confirm.html",
        {"round": round_, "form": form, "closed": round_.state == Round.State.CLOSED},
    )


@require_POST
@login_required
@domain_errors
def shortage_rule(request: HttpRequest, pk: int) -> HttpResponse:
    """The liaison chooses how a shortage is shared out (before confirmation)."""
    round_ = documents_round(request, pk)
    if not services.may_set_rule(request.user, round_):
        raise NotAllowed()
    form = ShortageRuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose first come, first served or pro rata."))
    else:
        try:
            round_ = services.round_set_shortage_rule(
                round_=round_, rule=form.cleaned_data["shortage_rule"], by=request.user
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Shortage rule: %(rule)s.") % {"rule": round_.get_shortage_rule_display()},
            )
    return redirect("fulfilment:round_consolidation", pk=pk)


@require_POST
@login_required
@domain_errors
def documents_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    """Make (again) the round's documents, or one of them (`kind`)."""
    round_ = documents_round(request, pk)
    kind = request.POST.get("kind", "")
    kinds = [kind] if kind in Document.Kind.values else documents.KINDS
    documents.documents_request(round_, by=request.user, kinds=kinds)
    if is_htmx(request):
        return render(request, "fulfilment/documents.html", _documents_context(round_))
    messages.success(request, _("The documents are being made."))
    return redirect("fulfilment:round_consolidation", pk=pk)


@require_GET
@login_required
@domain_errors
def documents_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The documents list with progress: the fragment the page polls while files are made."""
    round_ = documents_round(request, pk)
    return render(request, "fulfilment/documents.html", _documents_context(round_))


@require_GET
@login_required
@domain_errors
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The document's file, to those who may see its round."""
    document = Document.objects.filter(pk=pk).only("round_id").first()
    if document is None:
        raise NotFound()
    round_ = documents_round(request, document.round_id)
    document = Document.objects.get(pk=pk, round=round_)
    # While a new file is being made the previous one stays downloadable.
    if not document.file:
        raise NotFound()
    extension = documents.EXTENSIONS.get(document.kind, "pdf")
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=f"round-{round_.pk}-{document.kind}.{extension}",
    )
