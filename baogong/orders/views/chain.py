"""Paste a group-chat order chain (接龙): preview every line, then commit the kept ones.

The paste form posts the text; the preview carries it back in a hidden field with its
sha256, one "keep" checkbox per row that would change something, and an edit box per
row. "Check again" re-parses with the edited rows; "Commit" re-parses the same text
(the digest proves it is the one previewed) and places the kept rows through
`intake.intake_commit`. Committing twice is harmless: unchanged rows are left alone.
htmx requests get the region under the form (preview or result) instead of the page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from baogong.accounts.scoping import scope_for
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.core.http import domain_errors, is_htmx
from baogong.orders import intake
from baogong.orders.models import Order, Round
from baogong.orders.views.rounds import visible_round

CHAIN_MAX_CHARS = 1_000_000


class ChainForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Order chain"),
        strip=False,
        max_length=CHAIN_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 14, "class": "chain-text", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Copy the whole chain from the group chat and paste it here. Each line needs an "
            "address (3号楼2单元502, 3-2-502, B座1203) and the packages (A×2, 两份B)."
        ),
        error_messages={"required": gettext_lazy("Paste the order chain first.")},
    )


def intake_round(request: HttpRequest, pk: int) -> Round:
    """A round the user sees (else 404) and may enter orders for (else 403)."""
    round_ = visible_round(scope_for(request.user), pk)
    if not intake.may_take_orders(request.user, round_):
        raise NotAllowed()
    return round_


def page_context(
    request: HttpRequest, round_: Round, form: forms.Form, *, kind: str
) -> dict[str, Any]:
    return {
        "round": round_,
        "form": form,
        "kind": kind,
        "offers": intake.round_offers(round_),
        "round_open": intake.round_is_open(round_),
        "htmx": is_htmx(request),
        "row_limit": form_row_limit(2 if kind == "chain" else 1),
    }


def form_row_limit(fields_per_row: int) -> int | None:
    """How many rows a preview form can post back within DATA_UPLOAD_MAX_NUMBER_FIELDS."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return None if limit is None else max((limit - 10) // fields_per_row, 1)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def chain_paste(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the paste box. POST action=preview: the preview; action=commit: the result."""
    round_ = intake_round(request, pk)
    form = ChainForm(request.POST if request.method == "POST" else None)
    context = page_context(request, round_, form, kind="chain")
    if form.is_valid():
        text, edited = apply_edits(form.cleaned_data["text"], request.POST)
        try:
            preview = intake.chain_preview(round_, text, by=request.user)
        except InvalidInput as error:
            form.add_error("text", error.message)
        else:
            context.update(preview=preview, text=text)
            if request.POST.get("action") == "commit":
                context.update(_commit(request, preview, edited))
    template = "orders/chain_region.html" if is_htmx(request) else "orders/chain_paste.html"
    return render(request, template, context)


def _commit(request: HttpRequest, preview: intake.Preview, edited: bool) -> dict[str, Any]:
    """Commit if the text is the one previewed and unedited; else say why not."""
    if edited:
        return {"notice": _("You changed some lines: check the new preview, then commit.")}
    if request.POST.get("digest") != preview.digest:
        return {"notice": _("The chain changed after the preview: check it again, then commit.")}
    report = intake.intake_commit(
        preview, keep=kept_rows(request.POST), channel=Order.Channel.CHAIN, by=request.user
    )
    return {"report": report}


def kept_rows(data: QueryDict) -> set[int]:
    return {int(value) for value in data.getlist("keep") if value.isdigit()}


def apply_edits(text: str, data: QueryDict) -> tuple[str, bool]:
    """Put the preview's edited lines ("edit-<line number>") into the text."""
    lines = intake.normalize_paste(text).split("\n")
    edited = False
    for key, value in data.items():
        number = key.removeprefix("edit-")
        if number == key or not number.isdigit() or not 0 < int(number) <= len(lines):
            continue
        value = " ".join(value.split())
        if value != " ".join(lines[int(number) - 1].split()):
            lines[int(number) - 1] = value
            edited = True
    return "\n".join(lines), edited
