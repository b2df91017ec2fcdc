"""Orders from a pasted order chain (接龙) or an uploaded sheet: match, preview, commit.

One pipeline for the chain page, the spreadsheet page and `manage.py import_chain`:

1. Lines: `chain_lines(round_, text)` (the chain parser) or `sheet_lines(round_, data)`
   (python-calamine) turn the input into `ChainLine`s. No database beyond the offers.
2. `intake_preview(round_, lines, by=...)` matches every line to a household of the
   round's compounds and to the round's offers, in a few queries whatever the number
   of lines, and classifies it: matched, already ordered (same or different), duplicate
   (same household again later: the later line wins), unmatched (with the reason) or
   ignored (chatter, the chain's header).
3. `intake_commit(preview, keep=..., channel=..., by=...)` places each kept row through
   `services.order_place`, one transaction per row, so a row refused (sold out, cadence)
   does not undo the others and no row is half-written. Before placing, a row is compared
   with the household's current order: identical rows are left alone, so committing the
   same chain or file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from baogong.accounts.scoping import PROXY_ROLES, scope_for
from baogong.areas.addresses import (
    building_key,
)
from baogong.areas.models import Household, Resident
from baogong.core.errors import DomainError, InvalidInput, NotAllowed, NotFound
from baogong.orders import chain, services
from baogong.orders.models import Offer, Order, OrderLine, Round, RoundArea

if TYPE_CHECKING:
    from baogong.accounts.models import User

CHAIN_MAX_LINES = 10_000
NOTE_MAX = Order._meta.get_field("note").max_length
BAD_ADDRESS = "bad_address"  # a sheet's address cells that are no address


class RowStatus(StrEnum):
    MATCHED = "matched"  # committing places a new order
    ORDERED = "ordered"  # the household already ordered: committing updates it if different
    DUPLICATE = "duplicate"  # the same household again further down: the later row wins
    UNMATCHED = "unmatched"
    IGNORED = "ignored"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    DROPPED = "dropped"  # unticked in the preview


# --- what the preview shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferInfo:
    pk: int
    code: str
    name: str
    price: Decimal
    limit: int

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(slots=True)
class HouseholdInfo:
    pk: int
    compound_id: int
    compound_name: str
    building_name: str
    unit: str
    room: str
    in_scope: bool
    phones: set[str] = field(default_factory=set)

    @property
    def address(self) -> str:
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building_name}{unit}{self.room}"

    @property
    def label(self) -> str:
        return f"{self.compound_name} {self.address}"


@dataclass(slots=True)
class ExistingOrder:
    pk: int
    pickup_code: str
    amount_due: Decimal
    note: str
    lines: dict[int, int] = field(default_factory=dict)  # offer id → quantity


@dataclass(slots=True)
class IntakeRow:
    source: chain.ChainLine
    status: RowStatus = RowStatus.UNMATCHED
    codes: list[str] = field(default_factory=list)  # reason codes, first is the main one
    reasons: list[str] = field(default_factory=list)  # the same, as sentences
    household: HouseholdInfo | None = None
    items: list[tuple[OfferInfo, int]] = field(default_factory=list)
    existing: ExistingOrder | None = None

    @property
    def number(self) -> int:
        return self.source.line

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)

    @property
    def lines(self) -> dict[int, int]:
        return {offer.pk: quantity for offer, quantity in self.items}

    @property
    def amount(self) -> Decimal:
        return sum((offer.price * qty for offer, qty in self.items), Decimal("0.00"))

    @property
    def keepable(self) -> bool:
        """Whether committing this row would change something (the preview's checkbox)."""
        return self.status == RowStatus.MATCHED or (
            self.status == RowStatus.ORDERED and not self.same_as_existing
        )

    @property
    def same_as_existing(self) -> bool:
        existing = self.existing
        if existing is None or existing.lines != self.lines:
            return False
        return not self.source.note or self.source.note[:NOTE_MAX] == existing.note

    def as_dict(self) -> dict[str, Any]:
        household = self.household
        return {
            **self.source.as_dict(),
            "status": str(self.status),
            "codes": self.codes,
            "reason": self.reason,
            "household": None
            if household is None
            else {"id": household.pk, "address": household.label},
            "lines": [{"code": o.code, "quantity": q} for o, q in self.items],
            "amount": str(self.amount) if self.items else None,
            "existing_order": None
            if self.existing is None
            else {"id": self.existing.pk, "pickup_code": self.existing.pickup_code},
        }


@dataclass
class Preview:
    round: Round
    kind: str  # "chain" or "sheet": says "line" or "row"
    rows: list[IntakeRow]
    offers: list[OfferInfo]
    digest: str = ""  # sha256 of the pasted text (chains)
    notes: list[str] = field(default_factory=list)  # remarks about the whole input
    skipped: int = 0  # sheet rows with an address but nothing ordered

    @property
    def counts(self) -> Counter[str]:
        return Counter(str(row.status) for row in self.rows)

    @property
    def keepable_count(self) -> int:
        return sum(1 for row in self.rows if row.keepable)

    @property
    def shown_rows(self) -> list[IntakeRow]:
        return [row for row in self.rows if row.status != RowStatus.IGNORED]

    @property
    def ignored_rows(self) -> list[IntakeRow]:
        return [row for row in self.rows if row.status == RowStatus.IGNORED]


@dataclass(slots=True)
class CommitResult:
    row: IntakeRow
    outcome: Outcome
    message: str = ""


@dataclass
class CommitReport:
    results: list[CommitResult]

    @property
    def counts(self) -> Counter[str]:
        return Counter(str(result.outcome) for result in self.results)

    @property
    def refused(self) -> list[CommitResult]:
        return [r for r in self.results if r.outcome == Outcome.REFUSED]


# --- who may enter orders for a round ----------------------------------------------------


def may_take_orders(user: User | None, round_: Round) -> bool:
    """The system, a superuser, or staff with a proxy role over one of the round's areas."""
    if user is None:
        return True
    scope = scope_for(user)
    if scope.superuser:
        return True
    paths = scope.paths_for(PROXY_ROLES)
    areas = RoundArea.objects.filter(round=round_).values_list("area__path", flat=True)
    # A grant above a round area (a street) or below it (one compound of a community).
    return any(a.startswith(p) or p.startswith(a) for a in areas for p in paths)


def round_is_open(round_: Round) -> bool:
    """Whether the round takes orders now (order_place refuses otherwise), for display."""
    now = timezone.now()
    return round_.state == Round.State.OPEN and round_.opens_at <= now < round_.cutoff_at


def round_for_intake(user: User | None, pk: int) -> Round:
    """The round to enter orders into, or raise NotFound / NotAllowed."""
    round_ = Round.objects.select_related("supplier").filter(pk=pk).first()
    if round_ is None:
        raise NotFound()
    if not may_take_orders(user, round_):
        raise NotAllowed()
    return round_


# --- step 1: lines ------------------------------------------------------------------------


def round_offers(round_: Round) -> list[Offer]:
    return list(
        Offer.objects.filter(round=round_).select_related("package").order_by("position", "pk")
    )


def chain_parser(offers: Iterable[Offer]) -> chain.ChainParser:
    """A parser for these offers: option codes, names, and the catalog's short names."""
    refs = []
    for offer in offers:
        aliases = [a.strip() for a in re.split(r"[,，、;；]", offer.package.aliases) if a.strip()]
        if offer.package.name != offer.name:
            aliases.append(offer.package.name)
        refs.append(chain.OfferRef(offer.code, offer.name, tuple(aliases)))
    return chain.ChainParser(refs)


def normalize_paste(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_digest(text: str) -> str:
    return hashlib.sha256(normalize_paste(text).encode()).hexdigest()


def chain_lines(
    round_: Round, text: str, *, offers: list[Offer] | None = None
) -> list[chain.ChainLine]:
    """Parse a pasted chain; raise InvalidInput if it is empty or too long."""
    text = normalize_paste(text)
    count = text.count("\n") + 1
    if not text.strip():
        raise InvalidInput(_("Paste the order chain first."))
    if count > CHAIN_MAX_LINES:
        raise InvalidInput(
            _("The chain has %(count)s lines; paste at most %(max)s lines at a time."),
            count=count,
            max=CHAIN_MAX_LINES,
        )
    return chain_parser(offers if offers is not None else round_offers(round_)).parse(text)


def chain_preview(round_: Round, text: str, *, by: User | None) -> Preview:
    offers = round_offers(round_)
    lines = chain_lines(round_, text, offers=offers)
    preview = intake_preview(round_, lines, by=by, kind="chain", offers=offers)
    preview.digest = text_digest(text)
    return preview


# --- step 2: match and classify -------------------------------------------------------------


@dataclass
class _Register:
    """The households of a round's compounds, indexed the ways a line can name them."""

    by_address: dict[tuple[str, str, str], list[HouseholdInfo]] = field(default_factory=dict)
    by_room: dict[tuple[str, str], list[HouseholdInfo]] = field(default_factory=dict)
    by_phone: dict[str, list[HouseholdInfo]] = field(default_factory=dict)
    elsewhere_phones: set[str] = field(default_factory=set)


def round_area_filter(round_: Round, prefix: str) -> Q:
    paths = RoundArea.objects.filter(round=round_).values_list("area__path", flat=True)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def _unit(raw: str) -> str:
    return str(int(raw)) if raw.isdigit() else raw.upper()


def _load_register(round_: Round, by: User | None, phones: set[str]) -> _Register:
    """The households of the round's compounds, with the phones the lines mention.

    One query for the households, then (per 500 phones) one for residents' phones and
    two for phones that belong to households outside the round.
    """
    scope = scope_for(by) if by is not None else None
    everywhere = scope is None or scope.superuser
    proxy_paths = () if everywhere else tuple(scope.paths_for(PROXY_ROLES))  # type: ignore[union-attr]
    in_round = round_area_filter(round_, "building__")
    register = _Register()
    keys: dict[str, str] = {}
    infos: dict[int, HouseholdInfo] = {}
    rows = Household.objects.filter(in_round).values_list(
        "pk",
        "compound_id",
        "compound__name",
        "building__name",
        "building__path",
        "unit",
        "room",
        "phone",
        "phone_alt",
    )
    for pk, compound_id, compound_name, building, path, unit, room, phone, alt in rows.iterator(
        chunk_size=5000
    ):
        key = keys.get(building)
        if key is None:
            key = keys[building] = building_key(building)
        info = HouseholdInfo(
            pk,
            compound_id,
            compound_name,
            building,
            unit,
            room,
            in_scope=everywhere or path.startswith(proxy_paths),
            phones={p for p in (phone, alt) if p},
        )
        infos[pk] = info
        unit, room = _unit(unit), room.upper()
        register.by_address.setdefault((key, unit, room), []).append(info)
        register.by_room.setdefault((key, room), []).append(info)
    in_round_residents = Resident.objects.filter(round_area_filter(round_, "household__building__"))
    for chunk in _chunks(sorted(phones)):
        for household_id, phone in in_round_residents.filter(phone__in=chunk).values_list(
            "household_id", "phone"
        ):
            if household_id in infos:
                infos[household_id].phones.add(phone)
    for info in infos.values():
        for phone in info.phones:
            register.by_phone.setdefault(phone, []).append(info)
    # Phones of households outside the round that the user may see: "not in this round".
    # (Contact and residents' phones, which are indexed; not the spare phone_alt.)
    visible = Household.objects.all() if everywhere else scope.households(PROXY_ROLES)  # type: ignore[union-attr]
    outside = visible.exclude(in_round)
    for chunk in _chunks(sorted(phones - register.by_phone.keys())):
        register.elsewhere_phones |= set(
            outside.filter(phone__in=chunk).values_list("phone", flat=True)
        ) | set(
            Resident.objects.filter(household__in=outside, phone__in=chunk).values_list(
                "phone", flat=True
            )
        )
    return register


def _load_orders(round_: Round) -> dict[int, ExistingOrder]:
    """The round's live orders by household, with their lines (two queries)."""
    orders = {
        household_id: ExistingOrder(pk, code, amount, note)
        for pk, household_id, code, amount, note in Order.objects.filter(
            round=round_, state=Order.State.PLACED
        ).values_list("pk", "household_id", "pickup_code", "amount_due", "note")
    }
    lines = OrderLine.objects.filter(order__round=round_, order__state=Order.State.PLACED)
    for household_id, offer_id, quantity in lines.values_list(
        "order__household_id", "offer_id", "quantity"
    ):
        orders[household_id].lines[offer_id] = quantity
    return orders


def intake_preview(
    round_: Round,
    lines: list[chain.ChainLine],
    *,
    by: User | None,
    kind: str = "chain",
    offers: list[Offer] | None = None,
) -> Preview:
    """Match parsed lines to households and offers and say what committing would do.

    Reads only: the round's households (with phones), its offers and its orders.
    """
    offers = offers if offers is not None else round_offers(round_)
    infos = [OfferInfo(o.pk, o.code, o.name, o.price, o.per_household_limit) for o in offers]
    by_code = {info.code.upper(): info for info in infos}
    phones = {line.phone for line in lines if line.phone}
    register = _load_register(round_, by, phones)
    orders = _load_orders(round_)
    rows = [_classify(line, register, by_code, infos) for line in lines]
    _mark_duplicates(rows, kind)
    for row in rows:
        if row.status == RowStatus.MATCHED and row.household.pk in orders:  # type: ignore[union-attr]
            _mark_ordered(row, orders[row.household.pk], infos)  # type: ignore[union-attr]
    return Preview(round=round_, kind=kind, rows=rows, offers=infos)


def _mark_ordered(row: IntakeRow, existing: ExistingOrder, offers: list[OfferInfo]) -> None:
    row.existing = existing
    row.status = RowStatus.ORDERED
    if row.same_as_existing:
        row.codes = ["ordered_same"]
        row.reasons.append(_("Already ordered with the same packages: nothing to change."))
    else:
        row.codes = ["ordered_changed"]
        row.reasons.append(
            _("Already ordered (%(existing)s); committing replaces that order.")
            % {"existing": _describe(existing.lines, offers)}
        )


def _describe(lines: dict[int, int], offers: list[OfferInfo]) -> str:
    by_pk = {o.pk: o for o in offers}
    return ", ".join(
        f"{by_pk[pk].code}×{qty}" if pk in by_pk else f"#{pk}×{qty}"
        for pk, qty in sorted(
            lines.items(), key=lambda item: by_pk[item[0]].code if item[0] in by_pk else ""
        )
    )


def _classify(
    line: chain.ChainLine,
    register: _Register,
    by_code: dict[str, OfferInfo],
    offers: list[OfferInfo],
) -> IntakeRow:
    row = IntakeRow(source=line)
    if line.ignored:
        row.status = RowStatus.IGNORED
        reason = (
            _("Chain header or example line.")
            if line.ignored == chain.HEADER
            else _("No order in this line.")
        )
        row.codes, row.reasons = [line.ignored], [reason]
        return row
    household, code, reason = _match_household(line, register)
    if household is not None:
        row.household = household
        row.reasons += [reason] if reason else []
    elif line.address is not None or not any(p.code == BAD_ADDRESS for p in line.problems):
        row.codes.append(code)
        row.reasons.append(reason)
    for problem in line.problems:
        if problem.code == chain.NO_ADDRESS:
            continue  # said above, or the phone found the household
        row.codes.append(problem.code)
        row.reasons.append(_problem_message(problem, offers))
    for item in line.items:
        offer = by_code.get(item.code.upper())
        if offer is None:
            row.codes.append(chain.UNKNOWN_PACKAGE)
            row.reasons.append(
                _problem_message(chain.Problem(chain.UNKNOWN_PACKAGE, item.code), offers)
            )
            continue
        if 0 < item.quantity <= chain.MAX_QUANTITY and item.quantity > offer.limit:
            row.codes.append("over_limit")
            row.reasons.append(
                _("At most %(limit)s of %(package)s per household (asked for %(quantity)s).")
                % {"limit": offer.limit, "package": offer.label, "quantity": item.quantity}
            )
        row.items.append((offer, item.quantity))
    row.status = RowStatus.UNMATCHED if row.codes else RowStatus.MATCHED
    return row


def _match_household(
    line: chain.ChainLine, register: _Register
) -> tuple[HouseholdInfo | None, str, str]:
    """The household a line names, or None with a reason code and sentence.

    With a household, the sentence is a remark for the preview (found by phone only).
    """
    address = line.address
    remark = ""
    if address is not None:
        if address.unit:
            found = register.by_address.get((address.building, address.unit, address.room), [])
        else:
            found = register.by_room.get((address.building, address.room), [])
        if not found and len(register.by_phone.get(line.phone, ())) == 1:
            # A mistyped address, but the phone is that of one household of the round.
            found = register.by_phone[line.phone]
            remark = _("No household at %(address)s; found by the phone number.") % {
                "address": line.address_text
            }
    elif line.phone:
        found = register.by_phone.get(line.phone, [])
    else:
        return None, chain.NO_ADDRESS, _("No address in this line.")
    if not found:
        if line.phone and line.phone in register.elsewhere_phones:
            return (
                None,
                "not_in_round",
                _("The household with this phone number is not in a compound this round serves."),
            )
        if address is None:
            return (
                None,
                chain.NO_ADDRESS,
                _("No address in this line, and no household of this round has its phone number."),
            )
        return (
            None,
            "no_household",
            _("No household at %(address)s in the compounds this round serves.")
            % {"address": line.address_text},
        )
    if len(found) > 1:
        found = _narrow(line, found)
        if len(found) > 1:
            return (
                None,
                "ambiguous",
                _(
                    "%(address)s matches %(count)s households (%(where)s); add the phone number "
                    "or the compound's name."
                )
                % {
                    "address": line.address_text or line.phone,
                    "count": len(found),
                    "where": "、".join(h.label for h in found),
                },
            )
    household = found[0]
    if not household.in_scope:
        return (
            None,
            "outside_scope",
            _("%(household)s is outside the areas where you may enter orders.")
            % {"household": household.label},
        )
    return household, "", remark


def _narrow(line: chain.ChainLine, found: list[HouseholdInfo]) -> list[HouseholdInfo]:
    """Tell apart households with the same address: by the phone, then the compound's name."""
    if line.phone:
        by_phone = [h for h in found if line.phone in h.phones]
        if by_phone:
            return by_phone
    named = [h for h in found if h.compound_name and h.compound_name in line.text]
    return named or found


def _problem_message(problem: chain.Problem, offers: list[OfferInfo]) -> str:
    if problem.code == chain.UNKNOWN_PACKAGE:
        return _("Unknown package “%(written)s”: this round offers %(offers)s.") % {
            "written": problem.written,
            "offers": ", ".join(o.label for o in offers),
        }
    if problem.code == chain.BAD_QUANTITY:
        return _("Quantity “%(written)s” is not between 1 and %(max)s.") % {
            "written": problem.written,
            "max": chain.MAX_QUANTITY,
        }
    if problem.code == chain.NO_PACKAGE:
        return _("No package named: write the option letter (%(codes)s) or the package name.") % {
            "codes": ", ".join(o.code for o in offers)
        }
    if problem.code == BAD_ADDRESS:
        return _("“%(written)s” is not an address.") % {"written": problem.written}
    return problem.code


def _mark_duplicates(rows: list[IntakeRow], kind: str) -> None:
    """Keep the last row for each household; the earlier ones say which row replaced them."""
    last: dict[int, IntakeRow] = {}
    for row in rows:
        if row.household is not None:
            last[row.household.pk] = row
    for row in rows:
        if row.household is None:
            continue
        later = last[row.household.pk]
        if later is not row:
            row.status = RowStatus.DUPLICATE
            message = (
                _("Same household as line %(number)s; the later line is kept.")
                if kind == "chain"
                else _("Same household as row %(number)s; the later row is kept.")
            )
            row.codes.insert(0, "duplicate")
            row.reasons.insert(0, message % {"number": later.number})


# --- step 3: commit -------------------------------------------------------------------------


def intake_commit(
    preview: Preview,
    *,
    keep: Collection[int] | None,
    channel: str,
    by: User | None,
) -> CommitReport:
    """Place the kept rows of a preview, each through `order_place` in its own transaction.

    `keep` holds the line (or sheet row) numbers to commit; None keeps every row that
    would change something. A row whose household's current order already has the
    same lines is left alone (unchanged). A refused row (sold out, cadence, round
    closed, not allowed) is reported with the service's message; the others go on.
    Not wrapped in a transaction on purpose: see the module docstring.
    """
    round_ = preview.round
    if by is not None and not may_take_orders(by, round_):
        raise NotAllowed()
    placeable = [r for r in preview.rows if r.status in (RowStatus.MATCHED, RowStatus.ORDERED)]
    wanted = {r.number for r in placeable if keep is None or r.number in keep or not r.keepable}
    households = _households(
        [r.household.pk for r in placeable if r.number in wanted]  # type: ignore[union-attr]
    )
    current = _load_orders(round_)  # now, not at preview time: the same paste twice is a no-op
    results = []
    for row in placeable:
        if row.number not in wanted:
            results.append(CommitResult(row, Outcome.DROPPED))
            continue
        existing = current.get(row.household.pk)  # type: ignore[union-attr]
        row.existing = existing
        if existing is not None and row.same_as_existing:
            results.append(CommitResult(row, Outcome.UNCHANGED))
            continue
        note = row.source.note or (existing.note if existing is not None else "")
        try:
            services.order_place(
                round_=round_,
                household=households[row.household.pk],  # type: ignore[union-attr]
                lines=row.lines,
                channel=channel,
                by=by,
                note=note,
            )
        except DomainError as refusal:
            results.append(CommitResult(row, Outcome.REFUSED, refusal.message))
            continue
        results.append(CommitResult(row, Outcome.CREATED if existing is None else Outcome.UPDATED))
    return CommitReport(results)


def _households(pks: list[int]) -> dict[int, Household]:
    found: dict[int, Household] = {}
    for chunk in _chunks(pks):
        found.update(
            (h.pk, h)
            for h in Household.objects.filter(pk__in=chunk).select_related("building", "compound")
        )
    return found


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Slices of `items`, so an IN (...) list stays well below the databases' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
