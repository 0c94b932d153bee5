"""Parse: from a report's plain text to metadata, sections and paragraphs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ids import report_id_for
from ..ingest import DEFAULT_MAX_BYTES, check_size, read_report_bytes
from .metadata import Metadata, extract_metadata
from .sections import Paragraph, Section, split_sections

# Bump whenever metadata, sections or statistics extraction derive something different from the
# same text: every stored report derived by an older version is derived again by the next `index`.
# 2: the metadata rules of the real-reports work (furniture, titles, regions, dates), which had
# changed under version 1, and colon-less page fields, bracketed names, national 总署/总局.
PARSER_VERSION = 2


@dataclass
class ParsedReport:
    text: str
    metadata: Metadata
    sections: list[Section] = field(default_factory=list)

    @property
    def report_id(self) -> str:
        """The id this text has in the store, or would get there (`indexer.ids`)."""
        return report_id_for(self.text)


def parse_report(text: str) -> ParsedReport:
    """Everything the store keeps about one report's text."""
    sections = split_sections(text)
    return ParsedReport(text=text, metadata=extract_metadata(text), sections=sections)


def parse_file_bytes(name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedReport:
    """A file given by its name (for the format) and its bytes, read and parsed in memory: what is
    compared without being indexed (`nianbao similar FILE`, an upload on the desk). `IngestError`
    with the reason when it is too large or cannot be read."""
    check_size(len(data), max_bytes)
    return parse_report(read_report_bytes(name, data))


__all__ = ["PARSER_VERSION", "Metadata", "Paragraph", "ParsedReport", "Section", "extract_metadata",
           "parse_file_bytes", "parse_report", "split_sections"]
