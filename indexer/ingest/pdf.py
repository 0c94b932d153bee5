"""PDF text layer through pdfplumber; pages are joined by a blank line, as page breaks."""

from __future__ import annotations

import io
import logging

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from .base import IngestError

# pdfminer logs every odd object at WARNING; a damaged PDF is reported once, by us.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def read(data: bytes) -> str:
    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError("not a PDF file (no %PDF header)")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many unrelated types for damaged files
        causes = [exc, *exc.args, exc.__context__]
        if any(isinstance(c, PDFPasswordIncorrect) or "encrypt" in type(c).__name__.lower() for c in causes):
            raise IngestError("encrypted PDF (password required)") from None
        raise IngestError(f"damaged or truncated PDF ({type(exc).__name__})") from None
    text = "\n\n".join(pages)
    if not text.strip():
        raise IngestError("PDF has no text layer (scanned image?); OCR it first")
    return text
