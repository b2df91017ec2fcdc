"""Supply enterprises' API for allocation orders: list, read, confirm (token auth).

A client sees only its supplier's orders; anything else is a 404. Confirming
goes through services.allocation_confirm, idempotent under the Idempotency-Key
header (and confirming again with the same figures changes nothing anyway).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Header, Router, Status

from baogong.core.errors import InvalidInput, NotFound
from baogong.orders.api_auth import TokenAuth, idempotent, request_fingerprint
from baogong.orders.models import ApiClient
from baogong.orders.schemas import Error
from baogong.requisitions import services
from baogong.requisitions.models import AllocationOrder
from baogong.requisitions.schemas import AllocationOrderOut, ConfirmIn

router = Router(auth=TokenAuth(), tags=["allocation orders"])
ERRORS = {401: Error, 403: Error, 404: Error, 409: Error, 422: Error}
KEY_HEADER = "Idempotency-Key"
KEY_HELP = "A unique string per write; a retry with the same key gets the first response."


def _orders(client: ApiClient) -> QuerySet[AllocationOrder]:
    return (
        AllocationOrder.objects.filter(supplier_id=client.supplier_id)
        .select_related("delivery_area")
        .prefetch_related("lines")
    )


def _order(client: ApiClient, order_id: int) -> AllocationOrder:
    try:
        return _orders(client).get(pk=order_id)
    except AllocationOrder.DoesNotExist:
        raise NotFound() from None


def _out(order: AllocationOrder) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "state": order.state,
        "allocation_date": order.allocation_date,
        "delivery_place": order.delivery_place,
        "delivery_area": order.delivery_area.name,
        "delivery_at": order.delivery_at,
        "contact_name": order.contact_name,
        "contact_phone": order.contact_phone,
        "lines": [
            {
                "id": line.pk,
                "item": line.item,
                "spec": line.spec,
                "unit": line.unit,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "confirmed_quantity": line.confirmed_quantity,
                "shortfall_reason": line.shortfall_reason,
            }
            for line in order.lines.all()
        ],
    }


@router.get("/allocations", response={200: list[AllocationOrderOut], **ERRORS})
def allocation_order_list(request: HttpRequest, state: str | None = None) -> list[dict]:
    """The supplier's allocation orders, newest first (state: issued, confirmed, …)."""
    orders = _orders(request.auth)
    if state:
        orders = orders.filter(state=state)
    return [_out(order) for order in orders[:200]]


@router.get("/allocations/{order_id}", response={200: AllocationOrderOut, **ERRORS})
def allocation_order_detail(request: HttpRequest, order_id: int) -> dict:
    return _out(_order(request.auth, order_id))


@router.post("/allocations/{order_id}/confirm", response={200: AllocationOrderOut, **ERRORS})
def allocation_order_confirm(
    request: HttpRequest,
    order_id: int,
    payload: ConfirmIn,
    idempotency_key: str = Header(..., alias=KEY_HEADER, description=KEY_HELP),
) -> Status:
    """Confirm each line's quantity; below the ordered quantity, say why in `reason`."""
    client = request.auth

    def confirm() -> tuple[int, dict]:
        order = _order(client, order_id)
        if any(line.line_id is None or line.quantity is None for line in payload.lines):
            raise InvalidInput(_("Each line needs line_id and quantity."))
        order = services.allocation_confirm(
            order=order,
            by=None,
            supplier_ids={client.supplier_id},
            lines={
                line.line_id: services.Confirmation(line.quantity, line.reason)
                for line in payload.lines
            },
        )
        out = AllocationOrderOut(**_out(_order(client, order.pk)))
        return 200, out.model_dump(mode="json")

    fingerprint = request_fingerprint(request, payload.model_dump(mode="json"))
    return Status(*idempotent(client, key=idempotency_key, fingerprint=fingerprint, action=confirm))
