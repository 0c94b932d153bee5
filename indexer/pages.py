"""A report's pages: which page an offset of its text is on, and a page of the original as an image.

Page starts are stored per report (see ingest.Extracted) as offsets into its stored text, so a
match located in the normalised text is mapped back to the stored text first (normalize.source_map).
"""

from __future__ import annotations

import bisect
import hashlib
import io
from pathlib import Path

from .store import Store

MAX_SCALE = 8.0  # an A4 page at 8x is 4,800 x 6,700 pixels, about 100 MB of RGB while rendered


class PageImageError(Exception):
    """A page that cannot be shown; the message is the one-line reason."""


def page_at(page_starts: list[int] | None, offset: int) -> int | None:
    """The 1-based page holding the character at `offset`; None where pages are unknown."""
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


def page_image(index_dir: Path, report_id: str, page: int, scale: float = 2.0) -> bytes:
    """Page `page` (1-based) of the report's original PDF as PNG, `scale` pixels per point.

    Rendered from the file the report was read from, if it is still at its path with the same
    content; `PageImageError` says why not otherwise.
    """
    import pypdfium2 as pdfium

    if not 0 < scale <= MAX_SCALE:
        raise PageImageError(f"scale {scale} is outside (0, {MAX_SCALE:g}]")
    with Store(index_dir, create=False) as store, store.snapshot():
        full_id = store.resolve_id(report_id)
        if full_id is None:
            raise PageImageError(f"no report with id '{report_id}'")
        starts = store.page_starts([full_id])[full_id]
        files = store.source_files(full_id)
    if starts is None:
        raise PageImageError(f"report {full_id} has no page numbers (not a PDF, or indexed before pages were kept)")
    if not 1 <= page <= len(starts):
        raise PageImageError(f"report {full_id} has pages 1 to {len(starts)}, not {page}")
    data = _original(files)
    if data is None:
        where = ", ".join(f.path for f in files) or "no file"
        raise PageImageError(f"the original PDF of report {full_id} is no longer at {where} (moved, changed or deleted)")
    try:
        document = pdfium.PdfDocument(data)
        try:
            bitmap = document[page - 1].render(scale=scale)
            out = io.BytesIO()
            bitmap.to_pil().save(out, "PNG")
        finally:
            document.close()
    except pdfium.PdfiumError as exc:
        raise PageImageError(f"cannot render page {page} of {files[0].path}: {exc}") from None
    return out.getvalue()


def _original(files: list) -> bytes | None:
    """The bytes of the first of a report's PDF files still on disk as indexed."""
    for record in files:
        path = Path(record.path)
        if path.suffix.lower() != ".pdf":
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == record.sha256:
            return data
    return None
