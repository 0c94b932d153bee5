"""DOCX through python-docx: paragraphs and table rows (cells tab-separated) in document order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from .base import IngestError


def read(data: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(f"not a readable DOCX file ({type(exc).__name__})") from None
    return "\n".join(_lines(document))


def _lines(container) -> Iterator[str]:
    """A document's or a cell's paragraphs and table rows; a row whose cells hold tables (a frame
    around the content, as some reports put their statistics) is read cell by cell instead."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if not isinstance(block, Table):
            yield block.text
            continue
        for row in block.rows:
            cells = list({id(cell._tc): cell for cell in row.cells}.values())  # a merged cell recurs
            if any(cell.tables for cell in cells):
                for cell in cells:
                    yield from _lines(cell)
            else:
                yield "\t".join(cell.text.strip() for cell in row.cells)
