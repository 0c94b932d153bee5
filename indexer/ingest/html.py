"""HTML through BeautifulSoup: visible text, one line per block, table cells tab-separated."""

from __future__ import annotations

from bs4 import BeautifulSoup


def read(data: bytes) -> str:
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    for row in soup.find_all("tr"):
        cells = [cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"])]
        row.replace_with(soup.new_string("\n" + "\t".join(cells) + "\n"))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    return soup.get_text("\n")
