"""A distribution's pack list, labels (FREE mark, QR = pickup code) and box manifests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import zxingcpp
from django_tasks_db.models import DBTaskResult
from PIL import Image

from baogong.distributions import documents, services
from baogong.distributions.models import Distribution, DistributionDocument
from baogong.lastmile.models import Bag
from tests.distributions.conftest import DEFAULT_BANDS

Kind = DistributionDocument.Kind


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def committed(street):
    d = street.distribution(rule=Distribution.Rule.SIZE_BANDS, bands=DEFAULT_BANDS)
    services.distribution_commit(distribution=d, by=None)
    return d


def make(distribution, kind, capture) -> DistributionDocument:
    with capture(execute=True):
        documents.documents_request(distribution, by=None, kinds=[kind])
    document = DistributionDocument.objects.get(distribution=distribution, kind=kind)
    assert document.state == DistributionDocument.State.DONE, document.error
    return document


def pdf_text(path: str) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True
    ).stdout


def render(pdf: str, folder: Path, *, dpi: int) -> list[Path]:
    prefix = folder / Path(pdf).stem
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), pdf, str(prefix)], check=True)
    return sorted(folder.glob(f"{prefix.name}*.png"))


@pytest.mark.parametrize("kind", [Kind.LABELS_A4, Kind.LABELS_THERMAL])
def test_labels_are_marked_free_and_their_qr_codes_decode_to_the_pickup_codes(
    kind, committed, media, tmp_path, django_capture_on_commit_callbacks
):
    document = make(committed, kind, django_capture_on_commit_callbacks)
    codes = list(Bag.objects.filter(distribution=committed).values_list("pickup_code", flat=True))
    decoded = []
    for page in render(document.file.path, tmp_path, dpi=100):
        decoded += [r.text for r in zxingcpp.read_barcodes(Image.open(page))]
    assert sorted(decoded) == sorted(codes)
    text = pdf_text(document.file.path)
    assert text.count("免费发放/FREE") == len(codes)
    assert "UNPAID" not in text
    # Full phone numbers never go on a label.
    for phone in Bag.objects.filter(distribution=committed).values_list(
        "household__phone", flat=True
    ):
        assert phone not in text


def test_labels_come_in_packing_order(committed):
    places = [(b.compound, b.building, b.room) for b in documents.bags(committed)]
    assert places == [
        ("春园小区", "3号楼", "101"),
        ("春园小区", "3号楼", "201"),
        ("春园小区", "3号楼", "301"),
        ("春园小区", "10号楼", "101"),
        ("春园小区", "10号楼", "201"),
        ("秋园小区", "1号楼", "101"),
        ("秋园小区", "1号楼", "201"),
    ]
    assert [b.items[0].quantity for b in documents.bags(committed)] == [1, 2, 3, 1, 2, 1, 1]


def test_pack_list_gives_packs_in_all_and_per_compound(committed):
    [line] = documents.pack_list(committed)
    assert (line.name, line.units) == ("保供包", 11)
    assert line.per_compound == {"春园小区": 9, "秋园小区": 2}
    assert line.contents == ["大米 5kg ×1", "食用油 1.8L ×1"]


def test_pack_list_and_manifests_render(committed, media, django_capture_on_commit_callbacks):
    pack_list = pdf_text(
        make(committed, Kind.PACK_LIST, django_capture_on_commit_callbacks).file.path
    )
    assert "保供包" in pack_list and "11" in pack_list
    manifests = make(committed, Kind.MANIFESTS, django_capture_on_commit_callbacks)
    text = pdf_text(manifests.file.path)
    assert "春园小区" in text and "秋园小区" in text
    for code in Bag.objects.filter(distribution=committed).values_list("pickup_code", flat=True):
        assert code in text


def test_a_big_distribution_is_built_on_the_worker(
    committed, monkeypatch, media, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(documents, "INLINE_MAX_BAGS", 1)
    with django_capture_on_commit_callbacks(execute=True):
        [document] = documents.documents_request(committed, by=None, kinds=[Kind.LABELS_A4])
    [queued] = DBTaskResult.objects.filter(task_path__endswith="distribution_document_task")
    assert queued.args_kwargs["args"] == [document.pk, document.generation]
    document.refresh_from_db()
    assert document.state == DistributionDocument.State.QUEUED
    assert queued.task.call(*queued.args_kwargs["args"])
    document.refresh_from_db()
    assert document.state == DistributionDocument.State.DONE and document.done == 7
    # The same job run twice (a retried task) does nothing more.
    assert not documents.document_build(document.pk, document.generation)


def test_a_newer_request_wins_over_an_older_build(committed, media):
    [old] = documents.documents_request(committed, by=None, kinds=[Kind.PACK_LIST], schedule=False)
    [new] = documents.documents_request(committed, by=None, kinds=[Kind.PACK_LIST], schedule=False)
    assert not documents.document_build(old.pk, old.generation)
    assert documents.document_build(new.pk, new.generation)
