"""Drawing helpers every round document shares: the CJK font, fast QR codes, a streamed table.

Plain module (reportlab and segno only, no ORM). Speed matters here: the label run
draws 20,000 QR codes, so a code is encoded with a fixed mask (segno otherwise tries
all eight and scores each) by `pdf.qr`, and drawn as one filled path of run-length
rectangles in module units, written as literal PDF operators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from baogong.fulfilment.pdf.qr import qr_matrix

CJK = "STSong-Light"  # built into reportlab: Chinese with no font file to ship
LATIN_BOLD = "Helvetica-Bold"  # pickup codes: Latin letters and digits only
QUIET_ZONE = 4  # modules of white round a QR code, as the standard asks
_DARK_RUN = re.compile(b"\x01+")
Progress = Callable[[int], None]


def register_fonts() -> None:
    if CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def new_canvas(out: BinaryIO, pagesize: tuple[float, float], title: str) -> Canvas:
    register_fonts()
    canvas = Canvas(out, pagesize=pagesize, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("Baogong")
    return canvas


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code of `data` with its quiet zone inside the square (x, y, size)."""
    matrix = qr_matrix(data)
    n = len(matrix)
    module = size / (n + 2 * QUIET_ZONE)
    ops = []
    for r, row in enumerate(matrix):
        top = n - 1 - r
        for run in _DARK_RUN.finditer(bytes(row)):
            ops.append(f"{run.start()} {top} {run.end() - run.start()} 1 re")
    ox = x + QUIET_ZONE * module
    oy = y + QUIET_ZONE * module
    # One path in module units: the transform scales it, so every number is a small integer.
    canvas.addLiteral(
        f"q 0 g 1 0 0 1 {ox:.3f} {oy:.3f} cm {module:.4f} 0 0 {module:.4f} 0 0 cm "
        + " ".join(ops)
        + " f Q"
    )


def _em(ch: str) -> float:
    return 1.0 if ord(ch) > 0x2E7F else 0.55


def text_width(text: str, size: float) -> float:
    """Approximate width: CJK glyphs are a full em, Latin about half (no font metrics lookup)."""
    return size * sum(_em(ch) for ch in text)


def fit(text: str, size: float, width: float) -> str:
    """Cut `text` to `width`, ending with … when it was cut."""
    if text_width(text, size) <= width:
        return text
    room = width / size - 1.0  # leave an em for the ellipsis
    used, end = 0.0, 0
    while end < len(text) and used + _em(text[end]) <= room:
        used += _em(text[end])
        end += 1
    return text[:end] + "…"


def wrap(text: str, size: float, width: float, max_lines: int) -> list[str]:
    """Break `text` into at most `max_lines` lines of `width`; the last one ends in … if cut."""
    lines: list[str] = []
    room = width / size
    start, used = 0, 0.0
    for i, ch in enumerate(text):
        em = _em(ch)
        if used + em > room and i > start:
            if len(lines) == max_lines - 1:
                lines.append(fit(text[start:], size, width))
                return lines
            lines.append(text[start:i])
            start, used = i, 0.0
        used += em
    lines.append(text[start:])
    return lines


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # points
    align: str = "left"  # left, right
    wraps: bool = False  # long text wraps onto more lines instead of being cut


class Table:
    """Rows drawn straight onto pages with the heading repeated, for very long lists.

    `header(canvas)` draws the page's own heading and returns the y where the table starts.
    """

    def __init__(
        self,
        canvas: Canvas,
        columns: Sequence[Column],
        *,
        header: Callable[[Canvas, int], float],
        size: float = 8,
        margin: float = 12 * mm,
        footer: str = "",
    ) -> None:
        self.canvas = canvas
        self.columns = columns
        self.header = header
        self.size = size
        self.line = size * 1.3
        self.margin = margin
        self.footer = footer
        self.page = 0
        self.y = 0.0
        self._new_page(first=True)

    def _new_page(self, *, first: bool = False) -> None:
        if not first:
            self._footer()
            self.canvas.showPage()
        self.page += 1
        self.y = self.header(self.canvas, self.page)
        self._row([c.heading for c in self.columns], bold=True)
        self.canvas.setLineWidth(0.6)
        self.canvas.line(self.margin, self.y + 2, self._right, self.y + 2)

    @property
    def _right(self) -> float:
        return self.margin + sum(c.width for c in self.columns)

    def _footer(self) -> None:
        self.canvas.setFont(CJK, 7)
        self.canvas.drawString(self.margin, self.margin / 2, f"{self.footer}  {self.page}")

    def _row(self, cells: Sequence[str], *, bold: bool = False) -> None:
        pad = 2
        lines = [
            wrap(text, self.size, col.width - 2 * pad, 4)
            if col.wraps
            else [fit(text, self.size, col.width - 2 * pad)]
            for text, col in zip(cells, self.columns, strict=True)
        ]
        height = max(len(cell) for cell in lines) * self.line + 2
        if self.y - height < self.margin and not bold:
            self._new_page()
        canvas = self.canvas
        x = self.margin
        for cell, col in zip(lines, self.columns, strict=True):
            for i, text in enumerate(cell):
                baseline = self.y - self.size - i * self.line
                canvas.setFont(CJK, self.size + (0.5 if bold else 0))
                if col.align == "right":
                    canvas.drawRightString(x + col.width - pad, baseline, text)
                else:
                    canvas.drawString(x + pad, baseline, text)
            x += col.width
        self.y -= height
        canvas.setLineWidth(0.2)
        canvas.line(self.margin, self.y + 1, self._right, self.y + 1)

    def row(self, cells: Sequence[str]) -> None:
        self._row(cells)

    def gap(self, points: float) -> None:
        self.y -= points

    def finish(self) -> None:
        self._footer()
        self.canvas.showPage()
