from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import zxingcpp
from openpyxl import load_workbook
from PIL import Image

from baogong.fulfilment import documents, queries
from baogong.fulfilment.models import Document
from baogong.fulfilment.pdf import labels
from baogong.orders.models import Order
from baogong.orders.pickup import ALPHABET, LENGTH, new_pickup_code
from tests.fulfilment.conftest import close


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make(round_, kind, capture) -> Document:
    with capture(execute=True):
        documents.documents_request(round_, by=None, kinds=[kind])
    document = Document.objects.get(round=round_, kind=kind)
    assert document.state == Document.State.DONE, document.error
    return document


def pdf_text(path: str) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True
    ).stdout


def full_phones(round_) -> list[str]:
    return list(Order.objects.filter(round=round_).values_list("household__phone", flat=True))


def test_excel_sheet_has_one_row_per_household_and_totals(
    filled_round, media, django_capture_on_commit_callbacks
):
    round_ = close(filled_round.round)
    document = make(round_, Document.Kind.SHEET_XLSX, django_capture_on_commit_callbacks)
    sheet = load_workbook(document.file.path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body, total = rows[1], rows[2:-1], rows[-1]
    assert header[:6] == ("Compound", "Building", "Entrance", "Room", "Phone", "Pickup code")
    assert len(body) == 5
    codes = {o.pickup_code for o in filled_round.orders}
    assert {row[5] for row in body} == codes
    assert all("****" in row[4] for row in body)
    assert body[0][:4] == ("小区a", "3号楼", "1", "201")
    assert total[6:8] == (7, 5)  # A and B units
    assert Decimal(str(total[-1])) == Decimal("815.50")


def test_pdf_sheet_and_manifests_list_every_bag_with_masked_phones(
    filled_round, media, django_capture_on_commit_callbacks
):
    round_ = close(filled_round.round)
    phones = full_phones(round_)
    for kind in (Document.Kind.SHEET_PDF, Document.Kind.MANIFESTS):
        text = pdf_text(make(round_, kind, django_capture_on_commit_callbacks).file.path)
        for order in filled_round.orders:
            assert order.pickup_code in text, kind
        for phone in phones:
            assert phone not in text, kind
            assert f"{phone[:3]}****{phone[-4:]}" in text, kind


def test_manifests_have_one_box_per_compound_with_a_qr_code(
    filled_round, media, tmp_path, django_capture_on_commit_callbacks
):
    round_ = close(filled_round.round)
    document = make(round_, Document.Kind.MANIFESTS, django_capture_on_commit_callbacks)
    found = set()
    for page in render(document.file.path, tmp_path, dpi=150):
        found |= {r.text for r in zxingcpp.read_barcodes(Image.open(page))}
    compounds = set(Order.objects.filter(round=round_).values_list("compound_id", flat=True))
    assert found == {f"BAOGONG-BOX-{round_.pk}-{c}" for c in compounds}


def test_pick_list_pdf(filled_round, media, django_capture_on_commit_callbacks):
    round_ = close(filled_round.round)
    text = pdf_text(
        make(round_, Document.Kind.PICK_LIST, django_capture_on_commit_callbacks).file.path
    )
    assert "米面粮油套餐" in text and "大米 5kg × 7袋" in text


def render(pdf: str, folder: Path, *, dpi: int) -> list[Path]:
    prefix = folder / Path(pdf).stem
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), pdf, str(prefix)], check=True)
    return sorted(folder.glob(f"{prefix.name}*.png"))


@pytest.mark.parametrize("kind", [Document.Kind.LABELS_A4, Document.Kind.LABELS_THERMAL])
def test_every_label_qr_code_decodes_to_its_orders_pickup_code(
    kind, filled_round, media, tmp_path, django_capture_on_commit_callbacks
):
    """Render the label pages to PNG and decode each QR code with zxing-cpp."""
    round_ = close(filled_round.round)
    document = make(round_, kind, django_capture_on_commit_callbacks)
    pages = render(document.file.path, tmp_path, dpi=100)
    decoded = []
    for page in pages:
        results = zxingcpp.read_barcodes(Image.open(page))
        assert all(r.format == zxingcpp.BarcodeFormat.QRCode for r in results)
        decoded += [r.text for r in results]
    assert sorted(decoded) == sorted(o.pickup_code for o in filled_round.orders)
    # Packing order: each label's code printed in large type is the same as its QR code.
    text = pdf_text(document.file.path)
    expected = [bag.pickup_code for bag in queries.bags(round_)]
    assert [code for code in text.split() if code in expected] == expected


def test_many_labels_all_decode(tmp_path):
    """Two full A4 sheets of fake bags: every QR code on every page decodes."""

    from baogong.fulfilment.rows import Bag, Item, RoundHeader

    codes = [new_pickup_code() for _ in range(labels.A4_COLUMNS * labels.A4_ROWS * 2)]
    bags = [
        Bag(i, 1, "幸福花园", f"{i % 9 + 1}号楼", "1", f"{i + 101}", "170****0001", code,
            (Item("A", "米面粮油套餐", 1),), Decimal("88.00"), "unpaid")
        for i, code in enumerate(codes)
    ]  # fmt: skip
    out = io.BytesIO()
    labels.labels_a4(out, bags, header=RoundHeader(1, "第1期", "测试超市", "", ""))
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(out.getvalue())
    decoded = [
        r.text for page in render(str(pdf), tmp_path, dpi=100)
        for r in zxingcpp.read_barcodes(Image.open(page))
    ]  # fmt: skip
    assert sorted(decoded) == sorted(codes)


def test_a_newer_request_wins_over_an_older_build(filled_round, media):
    round_ = filled_round.round
    [document] = documents.documents_request(round_, by=None, kinds=["pick_list"], inline=False)
    old_generation = document.generation
    documents.documents_request(round_, by=None, kinds=["pick_list"], inline=False)
    assert documents.document_build(document.pk, old_generation) is False
    assert documents.document_build(document.pk, old_generation + 1) is True
    assert documents.document_build(document.pk, old_generation + 1) is False  # once


def test_documents_go_stale_when_orders_change(
    filled_round, media, django_capture_on_commit_callbacks
):
    round_ = filled_round.round
    make(round_, Document.Kind.PICK_LIST, django_capture_on_commit_callbacks)
    assert not any(d.stale for d in documents.documents_of(round_))
    Order.objects.filter(pk=filled_round.orders[0].pk).update(state=Order.State.DROPPED)
    assert [d.kind for d in documents.documents_of(round_) if d.stale] == ["pick_list"]


def test_pickup_codes_are_short_unambiguous_and_random():
    assert LENGTH == 6
    assert not set("0O1IL2Z5S8B") & set(ALPHABET)
    codes = {new_pickup_code() for _ in range(2000)}
    assert len(codes) > 1990  # random, not a counter: 25^6 possible codes
    assert all(len(c) == 6 and set(c) <= set(ALPHABET) for c in codes)


def test_pickup_codes_are_unique_within_a_round_and_unrelated_to_rooms(filled_round):
    codes = [o.pickup_code for o in Order.objects.filter(round=filled_round.round)]
    assert len(set(codes)) == len(codes)
    rooms = Order.objects.filter(round=filled_round.round).values_list("household__room", flat=True)
    for room in rooms:
        assert all(room not in code for code in codes)
