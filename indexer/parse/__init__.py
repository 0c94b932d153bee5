"""Parse: from a report's plain text to metadata, sections and paragraphs."""

from __future__ import annotations

from dataclasses import dataclass, field

from .metadata import Metadata, extract_metadata
from .sections import SECTION_KINDS, Paragraph, Section, split_sections


@dataclass
class ParsedReport:
    text: str
    metadata: Metadata
    sections: list[Section] = field(default_factory=list)


def parse_report(text: str) -> ParsedReport:
    """Everything the store keeps about one report's text."""
    sections = split_sections(text)
    return ParsedReport(text=text, metadata=extract_metadata(text), sections=sections)


__all__ = ["SECTION_KINDS", "Metadata", "Paragraph", "ParsedReport", "Section", "extract_metadata",
           "parse_report", "split_sections"]
