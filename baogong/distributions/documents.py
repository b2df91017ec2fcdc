"""A distribution's documents: pack list, a label per household bag, compound box manifests.

Drawn by fulfilment's PDF code from the same plain rows (`fulfilment.rows.Bag`) as a
round's, the payment mark replaced by the FREE mark. Like round documents they are asked
for (`documents_request`: one `DistributionDocument` row per kind, its generation bumped)
and built within the request for a small distribution or on the task worker for a big one;
a build that finds a newer generation asked for stops without marking its file current.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, BinaryIO

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from baogong.areas.queries import natural_key
from baogong.core.documents import DocumentSet
from baogong.core.phones import mask_phone
from baogong.distributions.models import Distribution, DistributionDocument
from baogong.fulfilment.pdf import labels, sheets
from baogong.fulfilment.rows import FREE, Bag, Item, PickLine, RoundHeader
from baogong.lastmile.models import Bag as BagModel

if TYPE_CHECKING:
    from baogong.accounts.models import User


# Distributions with at most this many bags get their documents within the request.
INLINE_MAX_BAGS = 300
KINDS = [kind for kind, _label in DistributionDocument.Kind.choices]


def header(distribution: Distribution) -> RoundHeader:
    """The heading of every page. The "supplier" line names the source (and donor); the box
    QR reads BAOGONG-BOX-D<distribution>-<compound>, so it never reads as a round's box."""
    source = distribution.get_source_display()
    if distribution.donor_name:
        source = f"{source} · {distribution.donor_name}"
    elif distribution.allocation_order_id:
        source = f"{source} · {distribution.allocation_order.number}"
    return RoundHeader(
        round_id=f"D{distribution.pk}",  # type: ignore[arg-type]  # only formatted into text
        title=distribution.title,
        supplier=source,
        delivery="",
        generated=date_format(timezone.localtime(), "Y-m-d H:i"),
    )


def _live_bags(distribution: Distribution):
    return BagModel.objects.filter(distribution=distribution).exclude(state=BagModel.State.VOID)


def bag_count(distribution: Distribution) -> int:
    return _live_bags(distribution).count()


def bags(distribution: Distribution) -> Iterator[Bag]:
    """The distribution's bags in packing order (compound, building, entrance, room)."""
    packages = {
        p.pk: (str(i), p.name)
        for i, p in enumerate(distribution.packages.order_by("position", "pk"), start=1)
    }
    rows = list(
        _live_bags(distribution).values_list(
            "pk",
            "delivery__compound_id",
            "delivery__compound__name",
            "building__name",
            "household__unit",
            "household__room",
            "household__phone",
            "pickup_code",
            "packs",
            "allocation__package_id",
        )
    )
    rows.sort(
        key=lambda r: (
            natural_key(r[2]),
            r[1],
            natural_key(r[3]),
            natural_key(r[4]),
            natural_key(r[5]),
        )
    )
    default = next(iter(packages.values()), ("1", ""))
    for pk, compound_id, compound, building, unit, room, phone, code, packs, package_id in rows:
        code_, name = packages.get(package_id, default)
        yield Bag(
            order_id=pk,
            compound_id=compound_id,
            compound=compound,
            building=building,
            unit=unit,
            room=room,
            phone=mask_phone(phone),
            pickup_code=code,
            items=(Item(code_, name, packs),),
            amount=Decimal("0.00"),
            payment=FREE,
        )


def pack_list(distribution: Distribution) -> list[PickLine]:
    """Per package: packs to make in all and per compound, and what each pack holds."""
    totals: Counter = Counter()
    per_compound: dict[int, Counter] = defaultdict(Counter)
    for package_id, compound, packs in _live_bags(distribution).values_list(
        "allocation__package_id", "delivery__compound__name", "packs"
    ):
        totals[package_id] += packs
        per_compound[package_id][compound] += packs
    return [
        PickLine(
            code=str(i),
            name=package.name,
            units=totals[package.pk],
            contents=package.content_lines,
            per_compound=dict(per_compound[package.pk]),
        )
        for i, package in enumerate(distribution.packages.order_by("position", "pk"), start=1)
    ]


def _box_sizes(distribution: Distribution) -> dict[int, tuple[int, int]]:
    sizes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for compound_id, packs in _live_bags(distribution).values_list(
        "delivery__compound_id", "packs"
    ):
        sizes[compound_id][0] += 1
        sizes[compound_id][1] += packs
    return {k: (v[0], v[1]) for k, v in sizes.items()}


def _build_pack_list(out: BinaryIO, distribution: Distribution, progress) -> int:
    return sheets.pick_list(out, pack_list(distribution), header=header(distribution))


def _build_labels_a4(out: BinaryIO, distribution: Distribution, progress) -> int:
    return labels.labels_a4(out, bags(distribution), header=header(distribution), progress=progress)


def _build_labels_thermal(out: BinaryIO, distribution: Distribution, progress) -> int:
    return labels.labels_thermal(
        out, bags(distribution), header=header(distribution), progress=progress
    )


def _build_manifests(out: BinaryIO, distribution: Distribution, progress) -> int:
    return sheets.manifests(
        out,
        bags(distribution),
        header=header(distribution),
        box_sizes=_box_sizes(distribution),
        progress=progress,
    )


BUILDERS: dict[str, Callable[[BinaryIO, Distribution, Callable[[int], None]], int]] = {
    DistributionDocument.Kind.PACK_LIST: _build_pack_list,
    DistributionDocument.Kind.LABELS_A4: _build_labels_a4,
    DistributionDocument.Kind.LABELS_THERMAL: _build_labels_thermal,
    DistributionDocument.Kind.MANIFESTS: _build_manifests,
}


def _enqueue(document_id: int, generation: int) -> None:
    from baogong.distributions.tasks import distribution_document_task

    distribution_document_task.enqueue(document_id, generation)


DOCUMENTS = DocumentSet(
    model=DistributionDocument,
    owner="distribution",
    related="distribution__allocation_order",
    builders=BUILDERS,
    file_prefix="distribution",
)


@transaction.atomic
def documents_request(
    distribution: Distribution,
    *,
    by: User | None,
    kinds: Iterable[str] = KINDS,
    inline: bool | None = None,
    schedule: bool = True,
) -> list[DistributionDocument]:
    """Ask for the distribution's documents to be made (again): after commit, within the
    request for a small distribution (or `inline=True`), else on the task worker; with
    `schedule=False` the caller builds them (`document_build`). Access is the view's check."""
    total = bag_count(distribution)
    return DOCUMENTS.request(
        distribution,
        [k for k in KINDS if k in set(kinds)],
        total=total,
        by=by,
        inline=total <= INLINE_MAX_BAGS if inline is None else inline,
        schedule=schedule,
        enqueue=_enqueue,
    )


def document_build(document_id: int, generation: int) -> bool:
    """Build one document if `generation` is still the one wanted; True if it was built."""
    return DOCUMENTS.build(document_id, generation)


def documents_of(distribution: Distribution) -> list[DistributionDocument]:
    """The distribution's documents in the order of DistributionDocument.Kind."""
    found = {d.kind: d for d in DistributionDocument.objects.filter(distribution=distribution)}
    return [
        found.get(kind) or DistributionDocument(distribution=distribution, kind=kind, state="")
        for kind in KINDS
    ]
