"""Ingest: turn a file of any supported format into the report's plain text.

One reader per format; `read_report_file` picks by suffix and turns every failure into an
`IngestError` whose message is the one-line reason shown to the user.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .base import IngestError, check_text
from . import docx, html, pdf, text

READERS = {
    ".txt": text.read,
    ".pdf": pdf.read,
    ".docx": docx.read,
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


def read_report_bytes(name: str, data: bytes) -> str:
    """Plain text of a report given its file name (for the suffix) and its bytes."""
    reader = READERS.get(Path(name).suffix.lower())
    if reader is None:
        raise IngestError(f"unsupported file type '{Path(name).suffix or name}' (supported: .txt .pdf .docx .html)")
    if not data.strip():
        raise IngestError("empty file")
    try:
        text = reader(data)
    except IngestError:
        raise
    except Exception as exc:  # a reader's bug on one malformed file must cost that file, not the run
        raise IngestError(f"could not read this {Path(name).suffix.lower()} file ({type(exc).__name__}: {exc})") from None
    return check_text(text)


def read_report_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, str]:
    """The file's bytes and its plain text; `IngestError` with the reason if it can't be read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(f"file too large ({size / _MB:.1f} MB > {max_bytes / _MB:.3g} MB limit; see --max-size)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError("file disappeared before it could be read") from None
    except IsADirectoryError:
        raise IngestError("is a directory") from None
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from None
    return data, read_report_bytes(path.name, data)


__all__ = ["IngestError", "READERS", "DEFAULT_MAX_BYTES", "is_supported", "iter_report_files",
           "read_report_bytes", "read_report_file"]
