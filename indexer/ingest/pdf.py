"""PDF text layer through pdfplumber; pages are joined by a blank line, as page breaks, without
their page numbers.

Table cells come out tab-separated, as in the text the statistics parser reads: a ruled table
cell by cell, other lines split at rules or wide gaps; prose keeps its plain spacing.
"""

from __future__ import annotations

import io
import logging
import re

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from .base import IngestError, without_page_numbers

# pdfminer logs every odd object at WARNING; a damaged PDF is reported once, by us.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

_CID = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for a glyph it cannot map to Unicode
_MAX_UNMAPPED = 0.05  # above this share of glyphs the text is not worth indexing


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


def read(data: bytes) -> str:
    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError("not a PDF file (no %PDF header)")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_text(page) for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many unrelated types for damaged files
        causes = [exc, *exc.args, exc.__context__]
        if any(isinstance(c, PDFPasswordIncorrect) or "encrypt" in type(c).__name__.lower() for c in causes):
            raise IngestError("encrypted PDF (password required)") from None
        raise IngestError(f"damaged or truncated PDF ({type(exc).__name__})") from None
    text = "\n\n".join(without_page_numbers(pages))
    if _CID.search(text):
        # Seen with owner-password PDFs: pdfminer leaves "(cid:2610)" where PDFium reads the text.
        text = _pdfium_text(data) or text
    unmapped = len(_CID.findall(text))
    if unmapped:
        glyphs = unmapped + sum(not c.isspace() for c in _CID.sub("", text))
        if unmapped > _MAX_UNMAPPED * glyphs:
            raise IngestError(f"PDF text cannot be decoded ({unmapped} of {glyphs} characters have no Unicode "
                              "mapping in their font); OCR it first")
        text = _CID.sub("\ufffd", text)
    if not text.strip():
        raise IngestError("PDF has no text layer (scanned image?); OCR it first")
    return text


def _pdfium_text(data: bytes) -> str | None:
    """The text layer as PDFium (pdfplumber's own dependency) reads it; None if it cannot."""
    try:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
        finally:
            document.close()
    except Exception:  # a second opinion only: pdfminer's answer stands
        return None
    return "\n\n".join(without_page_numbers([page.replace("\r\n", "\n") for page in pages]))
