"""Parse: from a report's plain text to metadata, sections and paragraphs."""

from __future__ import annotations

from dataclasses import dataclass, field

from .metadata import Metadata, extract_metadata
from .sections import SECTION_KINDS, Paragraph, Section, split_sections

# Bump whenever metadata, sections or statistics extraction derive something different from the
# same text: every stored report derived by an older version is derived again by the next `index`.
PARSER_VERSION = 1


@dataclass
class ParsedReport:
    text: str
    metadata: Metadata
    sections: list[Section] = field(default_factory=list)


def parse_report(text: str) -> ParsedReport:
    """Everything the store keeps about one report's text."""
    sections = split_sections(text)
    return ParsedReport(text=text, metadata=extract_metadata(text), sections=sections)


__all__ = ["PARSER_VERSION", "SECTION_KINDS", "Metadata", "Paragraph", "ParsedReport", "Section", "extract_metadata",
           "parse_report", "split_sections"]
