"""Platform API for rounds and orders: a supplier's or platform's system, with a token.

A client sees only its supplier's rounds (drafts excluded) and their orders;
anything else is a 404, as if it did not exist. Every write goes through
services.order_place / order_cancel with channel=API, so the same rules hold as
for every other channel. Writes carry an Idempotency-Key (see api_auth).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Header, Router, Status
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError as PydanticValidationError

from baogong.areas.addresses import AddressError, building_key, parse_address, room_key, unit_key
from baogong.areas.models import Area, Household
from baogong.core.errors import DomainError, InvalidInput, NotFound
from baogong.core.middleware import fast_route
from baogong.core.phones import mask_phone
from baogong.orders import placing, queries, services
from baogong.orders.api_auth import (
    TokenAuth,
    bearer_digest,
    idempotent,
    idempotent_for_token,
    pending_key_id,
    record_response,
    request_fingerprint,
)
from baogong.orders.errors import UnknownOffer
from baogong.orders.models import ApiClient, Offer, Order, OrderLine, Round, RoundArea
from baogong.orders.placing import OfferFacts, RoundFacts
from baogong.orders.schemas import (
    CompoundOut,
    Error,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderUpdateIn,
    OrderWriteOut,
    RoundOut,
)
from baogong.supply.models import PackageLine

router = Router(auth=TokenAuth(), tags=["rounds and orders"])

ERRORS = {401: Error, 403: Error, 404: Error, 409: Error, 422: Error}
_ENCODER = NinjaJSONEncoder(ensure_ascii=False)
RECENT = dt.timedelta(days=30)  # closed rounds stay listed this long after their cut-off
KEY_HEADER = "Idempotency-Key"
KEY_HELP = "A unique string per write; a retry with the same key gets the first response."


# The names of the buildings stored (a few thousand at most), normalised once per
# worker: each order compares the names of every building of its compound.
_stored_building_key = lru_cache(maxsize=8192)(building_key)


class HouseholdNotFound(InvalidInput):
    code = "household_not_found"
    default_message = _("No household at %(address)s in this round's compounds.")


class AmbiguousAddress(InvalidInput):
    code = "ambiguous_address"
    default_message = _(
        "%(address)s exists in several of this round's compounds (%(compounds)s); send compound_id."
    )


class BadAddress(InvalidInput):
    code = "bad_address"
    default_message = _("Not an address: %(address)s.")


# --- lookups (scoped to the client's supplier) -----------------------------------------


def _rounds(client: ApiClient) -> QuerySet[Round]:
    return Round.objects.filter(supplier_id=client.supplier_id).exclude(state=Round.State.DRAFT)


def _round(client: ApiClient, round_id: int) -> Round:
    try:
        # Callers use the id and supplier; order_place reads the round afresh anyway.
        return _rounds(client).only("id", "supplier_id", "state").get(pk=round_id)
    except Round.DoesNotExist:
        raise NotFound() from None


def _orders(client: ApiClient) -> QuerySet[Order]:
    lines = OrderLine.objects.select_related("offer").order_by("offer__position", "offer_id")
    return (
        Order.objects.filter(round__supplier_id=client.supplier_id)
        .select_related("round", "household__building", "household__compound")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )


def _order(client: ApiClient, order_id: int) -> Order:
    try:
        return _orders(client).get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound() from None


def _compounds(round_ids: list[int]) -> dict[int, list[CompoundOut]]:
    """The compounds each round serves, a whole community standing for its compounds."""
    served = list(
        RoundArea.objects.filter(round_id__in=round_ids).values_list(
            "round_id", "area__kind", "area__path"
        )
    )
    if not served:
        return {}
    under = Q()
    for _round_id, _kind, path in served:
        under |= Q(path__startswith=path)
    compounds = list(
        Area.objects.filter(under, kind=Area.Kind.COMPOUND)
        .select_related("parent")
        .order_by("path")
    )
    result: dict[int, list[CompoundOut]] = {pk: [] for pk in round_ids}
    for round_id, _kind, path in served:
        result[round_id] += [
            CompoundOut(id=c.pk, name=c.name, community=c.parent.name if c.parent else "")
            for c in compounds
            if c.path.startswith(path)
        ]
    return result


def _rounds_out(rounds: QuerySet[Round]) -> list[RoundOut]:
    rounds = list(
        queries.with_orders_total(rounds).prefetch_related(
            Prefetch("offers", queryset=Offer.objects.select_related("package")),
            Prefetch("offers__package__lines", queryset=PackageLine.objects.all()),
        )
    )
    compounds = _compounds([r.pk for r in rounds])
    return [RoundOut.of(r, compounds.get(r.pk, [])) for r in rounds]


def _round_facts(client: ApiClient, round_id: int, facts: RoundFacts | None = None) -> RoundFacts:
    """The round for placing an order (`facts`, if already read): one of the client's
    supplier, not a draft."""
    facts = facts or placing.round_facts(round_id)
    if facts is None or facts.supplier_id != client.supplier_id or facts.state == Round.State.DRAFT:
        raise NotFound()
    return facts


def _find_household(facts: RoundFacts, payload: OrderIn) -> Household:
    """The household at the payload's address among the round's compounds (or compound_id).

    Building names vary (3号楼, 3栋, 三号楼), so candidates are fetched by room and
    compared by building key. A compound_id outside the round is left for
    order_place to refuse (not_in_round_area).
    """
    text = payload.address_text or ""
    try:
        if payload.address is not None:
            given = payload.address
            address_text = "-".join(p for p in (given.building, given.unit, given.room) if p)
            wanted = (
                building_key(payload.address.building),
                unit_key(payload.address.unit),
                room_key(payload.address.room),
            )
        else:
            address = parse_address(text)
            address_text = text
            wanted = address.natural_key
    except AddressError:
        raise BadAddress(address=text or str(payload.address)) from None
    candidates = placing.households_at(
        facts,
        building=lambda name: _stored_building_key(name) == wanted[0],
        room=wanted[2],
        unit=wanted[1],
        compound_id=payload.compound_id,
    )
    # "3号楼502" names no entrance: it matches the one flat 502 of building 3, if only one.
    exact = [h for h in candidates if h.unit == wanted[1]]
    matches = exact or ([] if wanted[1] else candidates)
    if not matches:
        raise HouseholdNotFound(address=address_text)
    if len(matches) > 1:
        raise AmbiguousAddress(
            address=address_text,
            compounds=", ".join(f"{h.compound.name} ({h.compound_id})" for h in matches),
        )
    return matches[0]


def _offer_lines(facts: RoundFacts, payload: OrderIn | OrderUpdateIn) -> dict[OfferFacts, int]:
    """Offer → quantity from the payload's option codes; an unknown code is refused."""
    lines = {}
    for line in payload.lines:
        offer = facts.offer_for_code(line.offer_code)
        if offer is None:
            raise UnknownOffer()
        lines[offer] = line.quantity
    return lines


def _order_out(order: Order) -> OrderOut:
    return OrderOut.of(order, list(order.lines.all()))


def _order_body(
    order: Order,
    *,
    household: Household,
    lines: list[tuple[OfferFacts, int]],
    external_ref: str,
) -> dict[str, Any]:
    """The response body of a placement (OrderWriteOut as JSON), built directly.

    The busiest response of the API: a dict rather than schema objects validated and
    dumped twice. Times and decimals are written as ninja writes a schema's
    (DjangoJSONEncoder); tests/orders/test_api_fast.py checks it against OrderWriteOut.
    `lines` are (offer, quantity) in the round's order; the order's id may still be None
    (see placing.ResponseToStore).
    """
    return {
        "id": order.pk,
        "round_id": order.round_id,
        "household": {
            "id": household.pk,
            "compound_id": household.compound_id,
            "compound": household.compound.name,
            "building": household.building.name,
            "unit": household.unit,
            "room": household.room,
            "phone": mask_phone(household.phone),
        },
        "state": str(order.state),
        "channel": str(order.channel),
        "amount_due": str(order.amount_due),
        "pickup_code": order.pickup_code,
        "placed_at": _ENCODER.default(timezone.localtime(order.placed_at)),
        "note": order.note,
        "lines": [
            {
                "offer_code": offer.code,
                "name": offer.name,
                "quantity": quantity,
                "unit_price": str(offer.price),
                "amount": str(offer.price * quantity),
            }
            for offer, quantity in lines
        ],
        "external_ref": external_ref,
    }


def _order_read_back(order: Order, *, household: Household, external_ref: str) -> dict:
    """The body of a placement when its lines may differ from the ones sent: read back."""
    order.household = household
    written = list(
        OrderLine.objects.filter(order=order)
        .select_related("offer")
        .order_by("offer__position", "offer_id")
    )
    body = OrderOut.of(order, written).model_dump()  # rendered as ninja renders a schema
    return json.loads(_ENCODER.encode({**body, "external_ref": external_ref}))


def _as_written(outcome: tuple[int, dict]) -> tuple[int, dict]:
    """A replayed placement's body as the first response had it (the stored copy lost its
    key order in the jsonb column): through the schema, as ninja renders one."""
    status, body = outcome
    if status != 201:
        return outcome
    return status, json.loads(_ENCODER.encode(OrderWriteOut.model_validate(body).model_dump()))


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    """A JSON response as the API's renderer writes one, without validating `body` again."""
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, cls=NinjaJSONEncoder),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _place_new(
    client: ApiClient, round_id: int, payload: OrderIn, facts: RoundFacts | None = None
) -> tuple[int, dict]:
    """Place (or replace) the order of the household at the payload's address: (201, body).

    The response is stored under the request's Idempotency-Key by the statement that
    inserts a new order (placing.ResponseToStore), before the stock and round rows are
    locked; an edited order stores it just before that, through record_response.
    """
    facts = _round_facts(client, round_id, facts)
    household = _find_household(facts, payload)
    lines = sorted(_offer_lines(facts, payload).items(), key=lambda i: (i[0].position, i[0].pk))
    amount = sum((offer.price * quantity for offer, quantity in lines), Decimal("0.00"))
    body: dict[str, Any] = {}

    def build(order: Order) -> dict[str, Any]:
        return _order_body(
            order, household=household, lines=lines, external_ref=payload.external_ref
        )

    key_id = pending_key_id()
    store = placing.ResponseToStore(key_id, 201, build) if key_id is not None else None

    def respond(order: Order) -> None:
        order.household = household
        if order.amount_due != amount:  # prices changed in between: the lines as written
            body.update(
                _order_read_back(order, household=household, external_ref=payload.external_ref)
            )
            record_response(201, body)
        elif store is not None and store.stored is not None:
            body.update(store.stored)
            record_response(201, body, stored=True)
        else:
            body.update(build(order))
            record_response(201, body)

    token = placing.response_to_store.set(store)
    try:
        services.order_place(
            round_=Round(pk=facts.pk, supplier_id=facts.supplier_id, state=facts.state),
            household=household,
            lines={offer.pk: quantity for offer, quantity in lines},
            channel=Order.Channel.API,
            by=None,
            api_client=client,
            note=payload.note,
            facts=facts,
            on_placed=respond,
            # A refusal rolls the whole transaction back (see idempotent): no savepoint.
            savepoint=False,
        )
    finally:
        placing.response_to_store.reset(token)
    return 201, body


# --- endpoints ------------------------------------------------------------------------


@router.get("/rounds", response={200: list[RoundOut], **ERRORS})
def round_list(request: HttpRequest, state: str | None = None) -> list[RoundOut]:
    """Open rounds of your supplier, and those whose cut-off passed less than 30 days ago."""
    rounds = _rounds(request.auth)
    if state:
        rounds = rounds.filter(state=state)
    else:
        rounds = rounds.filter(
            Q(state=Round.State.OPEN) | Q(cutoff_at__gte=timezone.now() - RECENT)
        )
    return _rounds_out(rounds)


@router.get("/rounds/{round_id}", response={200: RoundOut, **ERRORS})
def round_detail(request: HttpRequest, round_id: int) -> RoundOut:
    found = _rounds_out(_rounds(request.auth).filter(pk=round_id))
    if not found:
        raise NotFound()
    return found[0]


@router.post("/rounds/{round_id}/orders", response={201: OrderWriteOut, **ERRORS})
def order_create(
    request: HttpRequest,
    round_id: int,
    payload: OrderIn,
    idempotency_key: str = Header(..., alias=KEY_HEADER, description=KEY_HELP),
) -> HttpResponse:
    """Place the order of the household at `address`, or replace the lines of its order."""
    client = request.auth
    fingerprint = request_fingerprint(request, payload.model_dump(mode="json"))
    outcome = idempotent(
        client,
        key=idempotency_key,
        fingerprint=fingerprint,
        action=lambda: _place_new(client, round_id, payload),
        shape=_as_written,
    )
    return _json(*outcome)


@fast_route("POST", r"/api/rounds/(?P<round_id>[0-9]{1,18})/orders")
def order_create_fast(request: HttpRequest, round_id: str) -> HttpResponse | None:
    """order_create for a well-formed request, without URL resolution or django-ninja.

    The request every placement makes, hundreds a second at a round's opening:
    see core.middleware.TokenApiFastPath. The token is checked by the statement that
    claims the Idempotency-Key. Anything else (no key, no or a bad token, a body that
    does not validate, a bad key) returns None and order_create answers it as ever;
    nothing has been written by then.
    """
    key = request.headers.get(KEY_HEADER)
    digest = bearer_digest(request)
    if key is None or digest is None:
        return None
    try:
        payload = OrderIn.model_validate_json(request.body)
    except PydanticValidationError:
        return None
    fingerprint = request_fingerprint(request, payload.model_dump(mode="json"))
    pk = int(round_id)
    try:
        outcome = idempotent_for_token(
            digest,
            key=key,
            fingerprint=fingerprint,
            # No such round: _round_facts reads it again and says 404.
            action=lambda client, rows: _place_new(
                client, pk, payload, placing.round_facts_of(pk, rows)
            ),
            shape=_as_written,
            read=placing.round_query(pk),
        )
    except DomainError:  # a bad or reused key: order_create says so
        return None
    return None if outcome is None else _json(*outcome)


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_detail(request: HttpRequest, order_id: int) -> OrderOut:
    return _order_out(_order(request.auth, order_id))


@router.put("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_update(
    request: HttpRequest,
    order_id: int,
    payload: OrderUpdateIn,
    idempotency_key: str | None = Header(None, alias=KEY_HEADER, description=KEY_HELP),
) -> Status:
    """Replace the order's lines (and note); the same rules as placing it apply."""
    client = request.auth

    def replace() -> tuple[int, dict]:
        order = _order(client, order_id)
        facts = _round_facts(client, order.round_id)
        services.order_place(
            round_=order.round,
            household=order.household,
            lines={o.pk: qty for o, qty in _offer_lines(facts, payload).items()},
            channel=Order.Channel.API,
            by=None,
            api_client=client,
            note=order.note if payload.note is None else payload.note,
            facts=facts,
        )
        return 200, _order_out(_order(client, order_id)).model_dump(mode="json")

    fingerprint = request_fingerprint(request, payload.model_dump(mode="json"))
    return Status(*idempotent(client, key=idempotency_key, fingerprint=fingerprint, action=replace))


@router.delete("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_delete(
    request: HttpRequest,
    order_id: int,
    idempotency_key: str | None = Header(None, alias=KEY_HEADER, description=KEY_HELP),
) -> Status:
    """Cancel the order before cut-off and give its stock back; cancelling twice is fine."""
    client = request.auth

    def cancel() -> tuple[int, dict]:
        order = _order(client, order_id)
        services.order_cancel(order=order, by=None, api_client=client)
        return 200, _order_out(_order(client, order_id)).model_dump(mode="json")

    fingerprint = request_fingerprint(request, None)
    return Status(*idempotent(client, key=idempotency_key, fingerprint=fingerprint, action=cancel))


@router.get("/rounds/{round_id}/orders", response={200: OrderPage, **ERRORS})
def round_orders(
    request: HttpRequest,
    round_id: int,
    page: int = 1,
    page_size: int = 100,
) -> OrderPage:
    """The round's orders (live and cancelled), oldest first, phones masked; up to 500 a page."""
    round_ = _round(request.auth, round_id)
    page_size = min(max(page_size, 1), 500)
    orders = _orders(request.auth).filter(round=round_).order_by("pk")
    count = orders.count()
    pages = max(math.ceil(count / page_size), 1)
    page = min(max(page, 1), pages)
    items = orders[(page - 1) * page_size : page * page_size]
    return OrderPage(
        count=count, page=page, pages=pages, items=[_order_out(order) for order in items]
    )
