"""PDF text layer through pdfplumber; pages are joined by a blank line, as page breaks, without
their page numbers, and where each starts is kept. Pages without a text layer are read by OCR.

Table cells come out tab-separated, as in the text the statistics parser reads: a ruled table
cell by cell, other lines split at rules or wide gaps; prose keeps its plain spacing.
"""

from __future__ import annotations

import io
import logging
import re

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from .base import Extracted, IngestError, joined_pages, without_page_numbers
from .ocr import PageProgress, read_pages

# pdfminer logs every odd object at WARNING; a damaged PDF is reported once, by us.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

_CID = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for a glyph it cannot map to Unicode
_MAX_UNMAPPED = 0.05  # above this share of glyphs the text is not worth indexing
# A page with fewer characters than this has no text layer worth the name (a scan with a stamped
# date or a lone page number): it is read by OCR, which reads those characters too.
MIN_PAGE_CHARS = 10
NO_TEXT_LAYER = "PDF has no text layer (scanned image?)"  # a file skipped for this is read again once OCR is on


CELL_GAP = 1.5  # a gap wider than this many character heights separates table cells


def _page_text(page) -> str:
    """The page's lines, top to bottom.

    A ruled table (pdfplumber finds its cells from the rules) comes out one line per row, each
    cell's wrapped lines joined: a label wrapped in a narrow cell (三、本 / 年度办 / 理结果) reads
    whole, and an empty cell is still a cell. Other lines are split into cells at the vertical
    rules they cross, one tab each, or else at wide gaps.
    """
    tables = [t for t in page.find_tables() if len(t.rows) > 1 and len(t.columns) > 1]
    rest = page.filter(lambda obj: not any(_inside(obj, t.bbox) for t in tables)) if tables else page
    rules = [(e["x0"], e["top"], e["bottom"]) for e in rest.edges if e["orientation"] == "v"]
    items = [(line["top"], _line_text(line["chars"], rules)) for line in rest.extract_text_lines(return_chars=True)]
    for table in tables:
        items += [(row.bbox[1], "\t".join(map(_cell_text, cells))) for row, cells in zip(table.rows, table.extract())]
    return "\n".join(text for _, text in sorted(items, key=lambda item: item[0]))


def _inside(obj, bbox) -> bool:
    x0, top, x1, bottom = bbox
    return x0 <= (obj["x0"] + obj["x1"]) / 2 <= x1 and top <= (obj["top"] + obj["bottom"]) / 2 <= bottom


def _line_text(chars: list[dict], rules: list[tuple[float, float, float]]) -> str:
    top, bottom = min(c["top"] for c in chars), max(c["bottom"] for c in chars)
    xs = sorted({round(x, 1) for x, rule_top, rule_bottom in rules if rule_top <= top + 1 and rule_bottom >= bottom - 1})
    # Empty cells before the first character; the table's left border is not a cell.
    out = ["\t" * sum(xs[0] + 1 < x < chars[0]["x0"] for x in xs)] if xs else []
    previous = None
    for char in chars:
        if previous is not None:
            crossed = sum(previous["x1"] - 0.5 <= x <= char["x0"] + 0.5 for x in xs)
            gap = char["x0"] - previous["x1"]
            size = max(previous["size"], 1.0)
            if crossed:
                out.append("\t" * crossed)
            elif gap > CELL_GAP * size:
                out.append("\t")
            elif gap > 0.15 * size and previous["text"] != " " and char["text"] != " ":
                out.append(" ")
        out.append(char["text"])
        previous = char
    return "".join(out)


def _cell_text(text: str | None) -> str:
    """A cell's wrapped lines as one: joined directly beside Chinese, by a space between Latin words."""
    out = ""
    for part in (text or "").split("\n"):
        part = " ".join(part.split())
        out += " " if out and part and out[-1].isascii() and part[0].isascii() else ""
        out += part
    return out


def read(data: bytes, ocr: bool = True, progress: PageProgress | None = None) -> Extracted:
    """The text layer page by page; pages without one are read by OCR unless `ocr` is off."""
    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError("not a PDF file (no %PDF header)")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = without_page_numbers([_page_text(page) for page in pdf.pages])
            # A page with nothing drawn on it is blank, not a scan: OCR would find nothing there.
            drawn = [bool(page.images or page.rects or page.curves or page.lines) for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many unrelated types for damaged files
        causes = [exc, *exc.args, exc.__context__]
        if any(isinstance(c, PDFPasswordIncorrect) or "encrypt" in type(c).__name__.lower() for c in causes):
            raise IngestError("encrypted PDF (password required)") from None
        raise IngestError(f"damaged or truncated PDF ({type(exc).__name__})") from None
    if any(_CID.search(page) for page in pages):
        # Seen with owner-password PDFs: pdfminer leaves "(cid:2610)" where PDFium reads the text.
        pages = _pdfium_pages(data) or pages
    unmapped = sum(len(_CID.findall(page)) for page in pages)
    if unmapped:
        glyphs = unmapped + sum(not c.isspace() for page in pages for c in _CID.sub("", page))
        if unmapped > _MAX_UNMAPPED * glyphs:
            raise IngestError(f"PDF text cannot be decoded ({unmapped} of {glyphs} characters have no Unicode "
                              "mapping in their font); OCR it first")
        pages = [_CID.sub("\ufffd", page) for page in pages]
    textless = [i for i, page in enumerate(pages) if drawn[i] and sum(not c.isspace() for c in page) < MIN_PAGE_CHARS]
    ocr_pages = None
    if textless and ocr:
        found = read_pages(data, textless, progress)
        read = without_page_numbers([found[i].text for i in textless])
        for i, text in zip(textless, read):
            pages[i] = text or pages[i]
        ocr_pages = [{"page": i + 1, "confidence": round(found[i].confidence, 3)}
                     for i in textless if found[i].confidence is not None]
    if not any(page.strip() for page in pages):
        if not textless:
            raise IngestError("PDF has no text: its pages are blank")
        if ocr:
            raise IngestError(f"scanned PDF: OCR found no text on its {len(textless)} page(s)")
        raise IngestError(f"{NO_TEXT_LAYER}; OCR is off (--no-ocr)")
    extracted = joined_pages(pages, "\n\n")
    extracted.ocr_pages = ocr_pages or None
    return extracted


def _pdfium_pages(data: bytes) -> list[str] | None:
    """The text layer's pages as PDFium (pdfplumber's own dependency) reads them; None if it cannot."""
    try:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
        finally:
            document.close()
    except Exception:  # a second opinion only: pdfminer's answer stands
        return None
    return without_page_numbers([page.replace("\r\n", "\n") for page in pages])
