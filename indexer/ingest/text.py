"""Plain text in any common Chinese encoding: BOMs, UTF-8, UTF-16 without BOM, GB18030/GBK, Big5."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from .base import Extracted, IngestError, check_text, joined_pages, without_page_numbers

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 puts a NUL beside every ASCII character (digits, newlines): most land on one side."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nuls, odd_nuls = data[0::2].count(0), data[1::2].count(0)
    nuls = even_nuls + odd_nuls
    if nuls < 4 or max(even_nuls, odd_nuls) < 0.75 * nuls:
        return None
    encoding = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    try:
        return check_text(text)
    except IngestError:
        return None


def decode(data: bytes) -> str:
    """Detect the encoding rather than assume it: BOM, strict UTF-8, UTF-16, GB18030, then detection."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise IngestError(f"invalid {encoding} text after its byte-order mark") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if b"\x00" in data:
        raise IngestError("binary file (contains NUL bytes)")
    try:
        return check_text(data.decode("gb18030"))
    except (UnicodeDecodeError, IngestError):
        pass  # Big5 bytes mostly decode as GB18030 too, into private-use characters: detect instead
    best = from_bytes(data).best()
    if best is None:
        raise IngestError("undecodable text (not UTF-8, UTF-16, GB18030 or another known encoding)")
    return str(best)


def read(data: bytes) -> Extracted:
    """Text converted from PDF by other tools (pdftotext) marks pages with form feeds: their page
    numbers go, as in the PDF reader, and where each page starts is kept. Other text has no pages."""
    text = decode(data)
    if "\f" in text:
        return joined_pages(without_page_numbers(text.split("\f")), "\f")
    return Extracted(text)
