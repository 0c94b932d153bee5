"""Reading an HTML report page: its main text without the site's furniture, title and stated date.

trafilatura finds the article among the menus, breadcrumbs, 字号 and 语音阅读 links and footers;
the project's own HTML reader then lays that article out (one line per block, table cells
tab-separated), which the statistics reader needs and trafilatura's plain text does not give.
bench/collect_reader.py measures this against the alternatives.
"""

from __future__ import annotations

import re

import trafilatura
from bs4 import BeautifulSoup

from ..ingest import html as html_reader
from .links import DATE, iso_date

# The publication date as the page states it (发文日期 is how xxgk pages label the same field).
PUBLISHED = re.compile(r"(?:发布时间|发布日期|发文日期)\s*[:：]?\s*" + DATE.pattern)
REPORT_TEXT = re.compile(r"政府信息公开|年度报告")
MIN_REPORT_CHARS = 200  # Chinese characters; below this a page only points at its attachment (详见附件)
_HAN = re.compile(r"[\u4e00-\u9fff]")


def whole_page_text(html: str) -> str:
    """Every visible line of the page, furniture included (where the stated dates are)."""
    return html_reader.read(html.encode("utf-8"))


def main_text(html: str) -> str:
    """The page's article as report text; the whole page where no article stands out."""
    article = trafilatura.extract(html, output_format="html", include_tables=True, include_comments=False,
                                  favor_recall=True)
    if not article:
        return whole_page_text(html)
    return html_reader.read(article.encode("utf-8"))


def title(html: str) -> str | None:
    soup = BeautifulSoup(html, "html.parser")
    for tag in (soup.title, soup.find("h1")):
        if tag is not None and tag.get_text(strip=True):
            return " ".join(tag.get_text(" ").split())
    return None


def published(page_text: str) -> str | None:
    """The publication date the page states (发布时间 / 发布日期), ISO; None where it states none or several."""
    dates = {iso_date(m) for m in PUBLISHED.finditer(page_text)}
    return dates.pop() if len(dates) == 1 else None


def is_report(text: str, anchors: set[str]) -> bool:
    """Whether a page's main text is a report rather than a list of links to reports: enough
    Chinese text of its own once every link's text is taken out (a listing's dates are not text)."""
    own = text
    for anchor in sorted(anchors, key=len, reverse=True):
        own = own.replace(anchor, "")
    return bool(REPORT_TEXT.search(text)) and len(_HAN.findall(own)) >= MIN_REPORT_CHARS
