"""Which links on a government page lead to annual reports, and what kind of page it is.

A link is followed when its text or title names an annual report (年度报告, 年报), when it is an
attachment (.pdf .doc .docx) of a page that is itself about a report, or when it turns a listing's
page (下一页). Everything else on the page (menus, other documents, other sites) is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

REPORT_WORDS = re.compile(r"年度报告|年报")
ATTACHMENTS = (".pdf", ".doc", ".docx")
PAGES = (".html", ".htm", ".shtml", ".jhtml", ".jsp", ".php", ".asp", ".aspx", "")
NEXT_PAGE = re.compile(r"^\s*(下一页|下页|后一页)\s*[>»›]*\s*$")
DATE = re.compile(r"(20\d\d|19\d\d)\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    kind: str  # "report" (a report page or attachment) or "listing" (the listing's next page)
    date: str | None = None  # a date printed beside the link in a listing, ISO


def suffix(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower()


def is_attachment(url: str) -> bool:
    return suffix(url) in ATTACHMENTS


def report_links(html: str, base_url: str, *, page_is_about_a_report: bool) -> list[Link]:
    """The links worth following from a page, in page order, each once."""
    soup = BeautifulSoup(html, "html.parser")
    base = soup.find("base", href=True)
    base_url = urljoin(base_url, base["href"]) if base else base_url
    seen: dict[str, Link] = {}
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"].strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        text = " ".join(anchor.get_text(" ").split())
        named = f"{text} {anchor.get('title', '')}"
        if NEXT_PAGE.match(text) and urlsplit(url).netloc == urlsplit(base_url).netloc:
            seen[url] = Link(url, text, "listing")
        elif REPORT_WORDS.search(named) and (is_attachment(url) or suffix(url) in PAGES):
            seen[url] = Link(url, text, "report", _date_beside(anchor))
        elif page_is_about_a_report and is_attachment(url):
            seen[url] = Link(url, text, "report")
    return list(seen.values())


def _date_beside(anchor) -> str | None:
    """The date a listing prints in the link's own row (<li>, <tr>), if exactly one."""
    row = anchor.find_parent(["li", "tr", "dd", "p"])
    if row is None:
        return None
    dates = {iso_date(m) for m in DATE.finditer(row.get_text(" "))}
    return dates.pop() if len(dates) == 1 else None


def iso_date(match: re.Match) -> str:
    year, month, day = (int(g) for g in match.groups()[:3])
    return f"{year:04d}-{month:02d}-{day:02d}"


def anchor_texts(html: str) -> set[str]:
    """The text of every link on a page (to tell a listing from a report by its main text)."""
    soup = BeautifulSoup(html, "html.parser")
    return {t for t in (" ".join(a.get_text(" ").split()) for a in soup.find_all("a")) if t}
