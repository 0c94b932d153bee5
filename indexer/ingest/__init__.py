"""Ingest: turn a file of any supported format into the report's plain text and its pages.

One reader per format, each returning an `Extracted`; `extract_report_bytes` picks by suffix and
turns every failure into an `IngestError` whose message is the one-line reason shown to the
user. The `read_report_*` functions give the text alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

from .base import Extracted, IngestError, check_text
from .ocr import PageProgress
from .pdf import NO_TEXT_LAYER
from . import doc, docx, html, pdf, text

READERS = {
    ".txt": text.read,
    ".pdf": pdf.read,
    ".docx": docx.read,
    ".doc": doc.read,
    ".html": html.read,
    ".htm": html.read,
}

_MB = 1024 * 1024  # the unit of `nianbao index --max-size`
DEFAULT_MAX_BYTES = 20 * _MB


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def iter_report_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every supported file under `paths` (files given by name are yielded whatever their suffix)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if not name.startswith(".") and is_supported(candidate):
                        yield candidate
        else:
            yield path


def extract_report_bytes(name: str, data: bytes, *, ocr: bool = True,
                         progress: PageProgress | None = None) -> Extracted:
    """A report's text and pages given its file name (for the suffix) and its bytes; `ocr`
    and `progress` (OCR's, page by page) apply to PDF pages without a text layer."""
    suffix = Path(name).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise IngestError(f"unsupported file type '{Path(name).suffix or name}' (supported: .txt .pdf .doc .docx .html)")
    if not data.strip():
        raise IngestError("empty file")
    if suffix == ".pdf":
        reader = partial(reader, ocr=ocr, progress=progress)
    try:
        extracted = reader(data)
    except IngestError:
        raise
    except Exception as exc:  # a reader's bug on one malformed file must cost that file, not the run
        raise IngestError(f"could not read this {suffix} file ({type(exc).__name__}: {exc})") from None
    check_text(extracted.text)
    return extracted


def read_report_bytes(name: str, data: bytes) -> str:
    """Plain text of a report given its file name (for the suffix) and its bytes."""
    return extract_report_bytes(name, data).text


def check_size(size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """`IngestError` with the reason when a file of `size` bytes is over the limit."""
    if size > max_bytes:
        raise IngestError(f"file too large ({size / _MB:.1f} MB > {max_bytes / _MB:.3g} MB limit; see --max-size)")


def read_file_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A report file's bytes; `IngestError` with the reason if it is too large or can't be read."""
    try:
        check_size(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError("file disappeared before it could be read") from None
    except IsADirectoryError:
        raise IngestError("is a directory") from None
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from None
    return data


def read_report_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, str]:
    """The file's bytes and its plain text; `IngestError` with the reason if it can't be read."""
    data = read_file_bytes(path, max_bytes)
    return data, read_report_bytes(path.name, data)


__all__ = ["Extracted", "IngestError", "NO_TEXT_LAYER", "PageProgress", "READERS", "DEFAULT_MAX_BYTES", "check_size",
           "is_supported",
           "iter_report_files",
           "extract_report_bytes", "read_file_bytes", "read_report_bytes", "read_report_file"]
