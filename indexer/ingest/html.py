"""HTML through BeautifulSoup: visible text, one line per block, table cells tab-separated."""

from __future__ import annotations

from bs4 import BeautifulSoup


def read(data: bytes) -> str:
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    for row in soup.find_all("tr"):
        if row.find("table"):
            # A layout row (many government sites frame the whole article in a table): its text,
            # tables included, is read as the page's own lines, not as one row of cells.
            continue
        cells = [cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"], recursive=False)]
        row.replace_with(soup.new_string("\n" + "\t".join(cells) + "\n"))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    return soup.get_text("\n")
