"""PDF text layer through pdfplumber; pages are joined by a blank line, as page breaks.

Table cells are set apart by wide gaps on the page; they come out tab-separated, as in the
text the statistics parser reads, while prose keeps its plain spacing.
"""

from __future__ import annotations

import io
import logging

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from .base import IngestError

# pdfminer logs every odd object at WARNING; a damaged PDF is reported once, by us.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


CELL_GAP = 1.5  # a gap wider than this many character heights separates table cells


def _page_text(page) -> str:
    lines = []
    for line in page.extract_text_lines(return_chars=True):
        out, previous = [], None
        for char in line["chars"]:
            if previous is not None:
                gap = char["x0"] - previous["x1"]
                size = max(previous["size"], 1.0)
                if gap > CELL_GAP * size:
                    out.append("\t")
                elif gap > 0.15 * size and previous["text"] != " " and char["text"] != " ":
                    out.append(" ")
            out.append(char["text"])
            previous = char
        lines.append("".join(out))
    return "\n".join(lines)


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
    text = "\n\n".join(pages)
    if not text.strip():
        raise IngestError("PDF has no text layer (scanned image?); OCR it first")
    return text
