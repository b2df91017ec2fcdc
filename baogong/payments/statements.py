"""Supplier payment statements: import a file, match its lines to orders, review by hand.

Idempotency: a file is stored once per supplier (its sha256, db-unique), and each
line once per supplier (its transaction id, or a hash of time, amount, payer and
remark; db-unique), so the same file twice, or two exports covering overlapping
days, record each payment once. Matching only touches lines not matched yet and
gives the same answer for the same data, so matching twice changes nothing.

Matching rule, per line: the candidates are the supplier's live orders not yet
paid (UNPAID or CLAIMED) in rounds past draft. An order is a reference hit when the
line's remark holds its pickup code or the household's flat ("3号楼2单元502"), or the
payer name or last digits the resident reported appear on the line. Amount hit: the
line's amount is exactly what the order still owes. One order hit on both → matched;
several → ambiguous; none, but reference hits at another amount → ambiguous (a person
decides); else unmatched.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, NotAllowed, NotFound
from baogong.orders.models import Order, Round
from baogong.payments.models import Payment, Statement, StatementLine
from baogong.payments.queries import money_for
from baogong.payments.services import lock_order, save_audited, set_payment_state
from baogong.payments.statement_file import read_statement
from baogong.supply.models import Supplier

if TYPE_CHECKING:
    from baogong.accounts.models import User

PAYABLE_ROUND_STATES = (
    Round.State.OPEN,
    Round.State.CLOSED,
    Round.State.CONFIRMED,
    Round.State.DISPATCHED,
    Round.State.DELIVERED,
)


def may_reconcile(user: User, supplier_id: int) -> bool:
    """Statements are the supplier's own books: its users (and a superuser) handle them."""
    scope = scope_for(user)
    return scope.superuser or supplier_id in scope.supplier_ids


@dataclass
class ImportResult:
    statement: Statement
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def statement_import(*, supplier: Supplier, data: bytes, filename: str, by: User) -> ImportResult:
    """Store a statement file's lines and match them; the same file again changes nothing.

    Rows that cannot be read are kept on the statement with their row number and
    reason; a file without a heading row raises StatementFileError (nothing written).
    """
    if not may_reconcile(by, supplier.pk):
        raise NotAllowed()
    sha = hashlib.sha256(data).hexdigest()
    existing = Statement.objects.filter(supplier=supplier, file_sha256=sha).first()
    if existing is not None:
        return ImportResult(existing, created=False, counts=line_counts(existing))
    parsed = read_statement(data)
    known = set(
        StatementLine.objects.filter(
            supplier=supplier, fingerprint__in=[row.fingerprint for row in parsed.rows]
        ).values_list("fingerprint", flat=True)
    )
    rejected = [[number, reason] for number, reason in parsed.rejected]
    fresh = []
    for row in parsed.rows:
        if row.fingerprint in known:
            rejected.append([row.row_number, _("already imported from an earlier statement")])
        else:
            known.add(row.fingerprint)
            fresh.append(row)
    statement = Statement(
        supplier=supplier,
        filename=filename[:200],
        file_sha256=sha,
        rows_count=len(parsed.rows) + len(parsed.rejected),
        rejected_rows=sorted(rejected),
        uploaded_by=by,
    )
    try:
        # A second upload of the same file racing this one: the constraint decides.
        with transaction.atomic():
            save_audited(statement, by=by, reason="statement uploaded")
    except IntegrityError:
        existing = Statement.objects.get(supplier=supplier, file_sha256=sha)
        return ImportResult(existing, created=False, counts=line_counts(existing))
    bulk_create_with_history(
        [
            StatementLine(
                statement=statement,
                supplier=supplier,
                row_number=row.row_number,
                paid_at=row.paid_at,
                amount=row.amount,
                payer=row.payer,
                remark=row.remark,
                reference=row.reference,
                fingerprint=row.fingerprint,
            )
            for row in fresh
        ],
        StatementLine,
        default_user=by,
        default_change_reason="statement uploaded",
    )
    statement_match(statement=statement, by=by)
    return ImportResult(statement, created=True, counts=line_counts(statement))


def line_counts(statement: Statement) -> dict[str, int]:
    counts = dict.fromkeys(StatementLine.Match.values, 0)
    for state in statement.lines.values_list("match_state", flat=True):
        counts[state] += 1
    counts["rejected"] = len(statement.rejected_rows)
    return counts


@dataclass
class _Candidate:
    order_id: int
    pickup_code: str
    unpaid: object
    payer_names: set[str]
    references: set[str]
    address: str  # "3号楼2单元502": residents often write their flat in the note

    def reference_hit(self, line: StatementLine) -> bool:
        remark = line.remark.upper()
        if self.pickup_code and self.pickup_code.upper() in remark:
            return True
        if self.address and self.address in line.remark.replace(" ", ""):
            return True
        payer = line.payer.strip()
        if payer and any(name == payer or name in line.remark for name in self.payer_names):
            return True
        return any(
            len(ref) >= 4 and (line.reference.endswith(ref) or ref in line.remark)
            for ref in self.references
        )


def _candidates(supplier_id: int) -> dict[int, _Candidate]:
    orders = Order.objects.filter(
        round__supplier_id=supplier_id,
        round__state__in=PAYABLE_ROUND_STATES,
        state=Order.State.PLACED,
        payment_state__in=[Order.PaymentState.UNPAID, Order.PaymentState.CLAIMED],
    )
    money = money_for(orders)
    names: dict[int, set[str]] = defaultdict(set)
    refs: dict[int, set[str]] = defaultdict(set)
    for order_id, name, ref in Payment.objects.filter(
        order__in=orders.values("pk"), state=Payment.State.REPORTED
    ).values_list("order_id", "payer_name", "reference"):
        if name:
            names[order_id].add(name)
        if ref:
            refs[order_id].add(ref)
    rows = orders.values_list(
        "pk", "pickup_code", "household__building__name", "household__unit", "household__room"
    )
    return {
        pk: _Candidate(
            pk, code, money[pk].unpaid, names[pk], refs[pk],
            f"{building}{unit}单元{room}" if unit else f"{building}{room}",
        )
        for pk, code, building, unit, room in rows
        if money[pk].unpaid > 0
    }  # fmt: skip


def line_suggestions(line: StatementLine) -> list[Order]:
    """Orders a person might match this line to (reference or amount hits), best first."""
    pool = _candidates(line.supplier_id)
    ranked = sorted(
        (not c.reference_hit(line), c.unpaid != line.amount, c.order_id)
        for c in pool.values()
        if c.reference_hit(line) or c.unpaid == line.amount
    )[:10]
    orders = Order.objects.select_related("household__building", "round").in_bulk(
        [pk for _r, _a, pk in ranked]
    )
    return [orders[pk] for _r, _a, pk in ranked]


@transaction.atomic
def statement_match(*, statement: Statement, by: User | None) -> dict[str, int]:
    """Match the statement's open lines to orders (see the module docstring); return counts."""
    if by is not None and not may_reconcile(by, statement.supplier_id):
        raise NotAllowed()
    # One matcher per supplier at a time: two would both see an order as unpaid.
    Supplier.objects.select_for_update().filter(pk=statement.supplier_id).first()
    pool = _candidates(statement.supplier_id)
    lines = statement.lines.filter(
        match_state__in=[StatementLine.Match.UNMATCHED, StatementLine.Match.AMBIGUOUS]
    ).order_by("paid_at", "row_number")
    for line in lines:
        hits = [c for c in pool.values() if c.reference_hit(line)]
        strong = [c for c in hits if c.unpaid == line.amount]
        if len(strong) == 1:
            _match(line, strong[0].order_id, by=by, how="matched")
            del pool[strong[0].order_id]
            continue
        state = StatementLine.Match.AMBIGUOUS if hits else StatementLine.Match.UNMATCHED
        if line.match_state != state:
            line.match_state = state
            save_audited(line, by=by, reason="statement matched")
    return line_counts(statement)


def _match(line: StatementLine, order_id: int, *, by: User | None, how: str) -> Payment:
    """Record the line's money against the order: confirm the resident's report, or a new one."""
    order = lock_order(order_id)
    payment = order.payments.filter(
        state=Payment.State.REPORTED, method=Payment.Method.RESIDENT_REPORT
    ).first() or Payment(
        order=order,
        supplier_id=line.supplier_id,
        method=Payment.Method.STATEMENT,
        payer_name=line.payer[:50],
    )
    payment.amount = line.amount
    payment.provider_reference = line.reference
    payment.state = Payment.State.CONFIRMED
    payment.confirmed_by = by
    payment.confirmed_at = timezone.now()
    save_audited(payment, by=by, reason=f"statement line {how}")
    line.payment = payment
    line.match_state = StatementLine.Match.MATCHED
    line.note = ""
    save_audited(line, by=by, reason=how)
    set_payment_state(order, by=by, reason="payment on the statement")
    return payment


def _line_for_review(line: StatementLine, by: User) -> StatementLine:
    if not may_reconcile(by, line.supplier_id):
        raise NotAllowed()
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.match_state == StatementLine.Match.MATCHED:
        raise Conflict(_("This line is already matched to an order."))
    return line


@transaction.atomic
def statement_line_assign(*, line: StatementLine, order: Order, by: User) -> Payment:
    """Match a line to the order a person chose (any of the supplier's orders, any amount)."""
    line = _line_for_review(line, by)
    if order.round.supplier_id != line.supplier_id:
        raise NotFound()
    return _match(line, order.pk, by=by, how="matched by hand")


@transaction.atomic
def statement_line_ignore(*, line: StatementLine, by: User, note: str = "") -> StatementLine:
    """Set a line aside (not an order's payment: a refund received, a test transfer…)."""
    line = _line_for_review(line, by)
    line.match_state = StatementLine.Match.IGNORED
    line.note = note.strip()[:200]
    save_audited(line, by=by, reason="ignored")
    return line
