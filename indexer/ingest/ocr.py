"""OCR for PDF pages without a text layer (scanned reports, 图片版), offline, with RapidOCR.

RapidOCR runs PaddleOCR's PP-OCRv4 Chinese models through onnxruntime, and its wheel carries
the models: nothing is downloaded. The engine is loaded once per process, on the first page that
needs it (about 0.3 s), so a run without scanned pages never pays for it. Pages are rendered one
at a time. A dense A4 page (27 lines, 712 characters) took 7-12 s of CPU on one core of the
development machine, 0.25-0.45 s a line; a process peaks at about 0.7 GB while it reads one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from dataclasses import dataclass

# RapidOCR shrinks a larger image to this many pixels on its long side (its `max_side_len`):
# A4 at about 170 dpi, body text of 10.5 pt some 25 px high, which PP-OCR reads well.
LONG_SIDE = 2000
CELL_GAP = 1.5  # a gap wider than this many line heights separates table cells, as in the PDF reader

PageProgress = Callable[[int, int], None]
"""(pages read by OCR so far, pages this file needs read) for one file."""

_engine = None
_threads = -1  # onnxruntime's default: every core


@dataclass
class OcrPage:
    text: str
    confidence: float | None  # mean over the characters read; None when none was


def limit_threads(threads: int) -> None:
    """Cores one process's engine may use: each of N parsing workers takes its share, or N
    engines each spinning on every core would slow all of them."""
    global _threads
    _threads = max(1, threads)


def _rapidocr():
    global _engine
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR

        _engine = RapidOCR(intra_op_num_threads=_threads, inter_op_num_threads=1)
    return _engine


def read_pages(data: bytes, pages: list[int], progress: PageProgress | None = None) -> dict[int, OcrPage]:
    """OCR the given pages (0-based) of a PDF; page → what was read."""
    import pypdfium2 as pdfium

    out: dict[int, OcrPage] = {}
    document = pdfium.PdfDocument(data)
    try:
        if progress:
            progress(0, len(pages))
        for done, number in enumerate(pages, 1):
            out[number] = read_page(document[number])
            if progress:
                progress(done, len(pages))
    finally:
        document.close()
        _give_back_memory()
    return out


def _give_back_memory() -> None:
    """Return freed memory to the system after a file's OCR: onnxruntime frees the detector's
    buffers (up to 0.6 GB for an A4 page), but glibc keeps the pages, and a parsing worker
    would then hold about 470 MB instead of 180 MB until it exits."""
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:
        trim(0)


def read_page(page) -> OcrPage:
    """One pypdfium2 page rendered in grey and read, lines in reading order."""
    width, height = page.get_size()
    bitmap = page.render(scale=LONG_SIDE / max(width, height, 1.0), grayscale=True)
    try:
        found, _ = _rapidocr()(bitmap.to_numpy())
    finally:
        bitmap.close()
    boxes = [(box, text, score) for box, text, score in found or [] if text.strip()]
    chars = sum(len(text) for _, text, _ in boxes)
    confidence = sum(score * len(text) for _, text, score in boxes) / chars if chars else None
    return OcrPage(reading_order(boxes), confidence)


def reading_order(boxes: list[tuple[list, str, float]]) -> str:
    """Text boxes as lines, top to bottom: boxes whose middle lies within a line's height join
    it, left to right, a tab between two far apart (a table's cells), as the PDF reader does."""
    lines: list[tuple[float, float, list[tuple[float, float, str]]]] = []
    for box, text, _ in sorted(boxes, key=lambda b: min(y for _, y in b[0])):
        top, bottom = min(y for _, y in box), max(y for _, y in box)
        left, right = min(x for x, _ in box), max(x for x, _ in box)
        middle = (top + bottom) / 2
        if lines and lines[-1][0] <= middle <= lines[-1][1]:
            lines[-1][2].append((left, right, text))
        else:
            lines.append((top, bottom, [(left, right, text)]))
    out = []
    for top, bottom, items in lines:
        items.sort()
        line = items[0][2]
        for (_, previous_right, _), (left, _, text) in zip(items, items[1:]):
            line += ("\t" if left - previous_right > CELL_GAP * (bottom - top) else "") + text
        out.append(line)
    return "\n".join(out)
