"""Reading an HTML report page: its main text without the site's furniture, title and stated date.

The article is the deepest block holding 80% of the page's own Chinese text (text outside links:
menus and related-document lists are links; breadcrumbs, 字号 and 语音阅读 bars and footers are a
few words beside it), or, on a short page, the block whose own paragraphs hold the most text;
blocks in it that are mostly links go. The project's HTML reader then lays it out (one line per
block, table cells tab-separated, which the statistics reader needs). bench/collect_reader.py
measures this against trafilatura on real report text in four common page layouts.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag

from ..ingest import html as html_reader
from .links import DATE, iso_date

# The publication date as the page states it (发文日期 is how xxgk pages label the same field).
PUBLISHED = re.compile(r"(?:发布时间|发布日期|发文日期)\s*[:：]?\s*" + DATE.pattern)
REPORT_TEXT = re.compile(r"政府信息公开|年度报告")
MIN_REPORT_CHARS = 200  # Chinese characters; below this a page only points at its attachment (详见附件)
ARTICLE_SHARE = 0.8  # of the page's own Chinese text, that the article block holds
_HAN = re.compile(r"[\u4e00-\u9fff]")
_BLOCKS = ["article", "body", "center", "div", "font", "form", "main", "section", "span", "table", "tbody", "td",
           "tr"]
_CONTAINERS = ["article", "body", "center", "div", "form", "main", "section", "td"]
_LINK_BLOCKS = ["div", "dl", "li", "nav", "ol", "p", "section", "span", "table", "td", "ul"]
_TITLE_TAIL = re.compile(r"\s*[_|｜—–-]\s*[^_|｜—–-]*$")  # 「…年度报告_某某市人民政府」: the site's name


def whole_page_text(html: str) -> str:
    """Every visible line of the page, furniture included (where the stated dates are)."""
    return html_reader.read(html.encode("utf-8")).text


def main_text(html: str) -> str:
    """The page's article as report text, headed by the page's title where the article lacks it."""
    soup = BeautifulSoup(html, "html.parser")
    heading = _heading(soup)
    for tag in soup(["script", "style", "noscript", "template", "head", "select", "textarea"]):
        tag.decompose()
    own, linked, direct = _han_counts(soup)
    root = soup.body or soup
    needed = ARTICLE_SHARE * own.get(id(root), 0)
    article, depth = root, 0
    for block in root.find_all(_BLOCKS):
        if own.get(id(block), 0) >= needed:
            block_depth = sum(1 for _ in block.parents)
            if block_depth > depth:
                article, depth = block, block_depth
    # On a short page the furniture's words weigh more: the block holding the most text as its own
    # paragraphs is the article when it holds at least half of the block found above.
    densest = max(article.find_all(_CONTAINERS), key=lambda b: direct.get(id(b), 0), default=None)
    while densest is not None and densest is not article and _is_paragraph(densest):
        densest = densest.parent  # paragraphs pasted from Word, each its own <div>: the article is around them
    if densest is not None and own.get(id(densest), 0) >= 0.5 * own.get(id(article), 0):
        article = densest
    # Inside it, blocks that are mostly links (breadcrumbs, 字号/打印 bars, related documents) go.
    for block in article.find_all(_LINK_BLOCKS):
        if not block.decomposed and linked.get(id(block), 0) > own.get(id(block), 0):
            block.decompose()
    text = html_reader.read(str(article).encode("utf-8")).text
    if heading and "".join(heading.split()) not in "".join(text.split()):
        text = f"{heading}\n{text}"
    return text


def _is_paragraph(block: Tag) -> bool:
    """A block with a sibling of the same tag and attributes: one of a run of paragraphs."""
    return sum(1 for sibling in block.parent.find_all(block.name, recursive=False) if sibling.attrs == block.attrs) > 1


def _han_counts(soup: BeautifulSoup) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per element (by id), Chinese characters: outside links in its subtree, inside links in its
    subtree, and outside links with it as their nearest container (its own paragraphs)."""
    own: dict[int, int] = {}
    linked: dict[int, int] = {}
    direct: dict[int, int] = {}
    for string in soup.find_all(string=True):
        count = len(_HAN.findall(string)) if type(string) is NavigableString else 0
        if not count:
            continue
        counts = linked if string.find_parent("a") else own
        for parent in string.parents:
            counts[id(parent)] = counts.get(id(parent), 0) + count
        container = string.find_parent(_CONTAINERS)
        if counts is own and container is not None:
            direct[id(container)] = direct.get(id(container), 0) + count
    return own, linked, direct


def _heading(soup: BeautifulSoup) -> str | None:
    h1 = soup.find("h1")
    if h1 is not None and h1.get_text(strip=True):
        return " ".join(h1.get_text(" ").split())
    if soup.title is not None and soup.title.get_text(strip=True):
        return _TITLE_TAIL.sub("", " ".join(soup.title.get_text(" ").split())) or None
    return None


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
