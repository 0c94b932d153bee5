"""HTML through BeautifulSoup: the visible text as a browser lays it out, one line per block,
table cells tab-separated.

Pages exported from Word wrap every run of text in a <span> and break their source lines
anywhere: only block elements and <br> end a line, and whitespace inside text collapses to one
space, or a number in a <span> would stand on a line of its own (the statistics read nothing).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString

from .base import Extracted

_BLOCKS = ["address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "figcaption", "figure",
           "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
           "pre", "section", "table", "title", "ul"]
_SPACES = re.compile(r"\s+")
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.IGNORECASE)


def read(data: bytes) -> Extracted:
    """The page's text; a web page has no pages."""
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    # Hidden elements (a share widget's text, Word's hidden runs) are not on the page a reader sees.
    for tag in soup.find_all(lambda t: t.has_attr("hidden") or _HIDDEN_STYLE.search(t.get("style", ""))):
        if not tag.decomposed:
            tag.decompose()
    for text in soup.find_all(string=True):
        if type(text) is NavigableString and not text.find_parent("pre"):  # not comments or doctypes
            text.replace_with(_SPACES.sub(" ", text))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCKS):
        block.insert_before("\n")
        block.append("\n")
    for row in soup.find_all("tr"):
        if row.find("table"):
            # A layout row (many government sites frame the whole article in a table): its text,
            # tables included, is read as the page's own lines, not as one row of cells.
            continue
        cells = [" ".join(cell.get_text().split()) for cell in row.find_all(["td", "th"], recursive=False)]
        row.replace_with("\n" + "\t".join(cells) + "\n")
    return Extracted(soup.get_text())
