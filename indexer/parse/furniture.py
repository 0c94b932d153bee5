"""Page furniture: what a saved web page puts around a report's text.

Breadcrumbs, 发布时间/来源 lines, font-size and voice-reader widgets, print/close/share links are
not the report, but their words look like agencies and titles (`不能读取语音阅读器` once became an
agency). Metadata extraction asks `furniture_kind` before reading a line as a title, and reads
the labelled page fields (来源, 发布机构, 发布时间) as evidence of their own. The stored text is
never changed.

A page saved as one long line keeps its pieces apart by spaces, so `units` cuts lines at
whitespace between Chinese characters; each unit keeps its 1-based line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..normalize import normalize

# Named rules, tried in order on a normalised unit (NFKC: full-width colons are ':').
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("breadcrumb", re.compile(r"(?:当前位置|当前页面|您的位置|您现在的位置|所在位置|现在位置)|^首页(?:[>»/|›]|$)|[>»›].*[>»›]")),
    ("page_field", re.compile(r"^[-•·*\s]*(?:索\s*引\s*号|备注/文号|文\s*号|发布机构|发文机关|公文生成日期|发布时间|发布日期|发文日期|成文日期|"
                              r"文章来源|信息来源|来源|时间|日期|分\s*类|主题分类|时效|效力状态|有效性|浏览次数|点击数|阅读次数|"
                              r"访问量|作者|责任编辑|名\s*称|关键词)\s*[:::]")),
    # a page's metadata table with labels glued to their values (`标题水城区…`, `成文日期 2024-01-16`)
    ("metadata_row", re.compile(r"^(?:索\s*引\s*号|发布机构|发文机关|发文日期|成文日期|公开方式|组配分类|主题分类|信息分类|标\s*题|"
                                r"文\s*号|是否有效|有效性)")),
    ("text_size", re.compile(r"字号|字体大小|字体[::]?\s*[大中小]|【\s*大\s*中\s*小\s*】|^[大中小]$|T\|T")),
    ("voice", re.compile(r"语音|阅读器|朗读|听全文|无障碍")),
    ("tools", re.compile(r"^(?:打印|关闭|收藏|分享|分享到|打印本页|关闭窗口|返回顶部|微信|微博|QQ空间|扫一扫|二维码|"
                         r"全真版|文字版|文件下载|相关链接|繁体|长者专区|智能问答|【?打印】?|【?关闭】?)(?:[::].*)?$")),
    ("separator", re.compile(r"^[-|>»/·•*=_\s]*$")),
)

_LABEL = re.compile(r"(索\s*引\s*号|发布机构|发文机关|文章来源|信息来源|来源|公文生成日期|发布时间|发布日期|发文日期|成文日期|"
                    r"印发日期|生成日期|时间|日期)(?:/有效期)?\s*[:::]\s*")
# The same labels in a page's metadata table, without a colon: alone with the value in the next
# piece (`发布机构` | `河口县卫生健康局`), or glued to a number (`发布日期2022-02-19 00:00`).
_BARE_LABEL = re.compile(r"^[-•·*]*(索引号|发布机构|发文机关|公文生成日期|发布时间|发布日期|发文日期|成文日期|印发日期)(?=\d|$)")
# Whitespace between two Chinese characters, a run of spaces, or a bar separates pieces; a single
# space beside a digit is PDF spacing (`局 2018 年`) and stays inside the piece, except after a
# page field's date or clock time (`时间:2014-02-25 00:00 微信`).
# Every cut begins with whitespace or a bar: the first lookahead says so, which spares the regex
# engine trying each alternative at every character (units took 0.4 ms a report, half of that here).
_SPLIT = re.compile(r"(?=[\s|])(?:(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])|\s{2,}|\s*\|\s*|(?<=\d\d:\d\d)\s+|"
                    r"(?<=\d{4}-\d\d-\d\d)\s+(?=\D))")


_CRUMB_HINT = re.compile(r"[>»›]|位置|页面|首页")


@dataclass(frozen=True)
class Unit:
    """A piece of a line, normalised, with its 1-based line number and the raw line."""

    text: str
    line: int
    raw: str
    furniture: str | None = None  # the rule it falls under, its own or its whole line's breadcrumb


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    line: int
    raw: str


def units(text: str, max_lines: int = 60, max_units: int = 80) -> list[Unit]:
    """The first lines' pieces, cut where `_SPLIT` says, normalised, blank ones dropped."""
    found: list[Unit] = []
    for number, raw in enumerate(text.splitlines()[:max_lines], start=1):
        crumbs = None
        if _CRUMB_HINT.search(raw[:300]):
            whole = normalize(raw[:300])
            crumbs = "breadcrumb" if len(whole) <= 200 and furniture_kind(whole[:80]) == "breadcrumb" else None
        for piece in _SPLIT.split(raw[:3000]):
            piece = normalize(piece).strip()
            if piece:
                found.append(Unit(piece, number, raw, furniture_kind(piece) or crumbs))
                if len(found) >= max_units:
                    return found
    return found


def furniture_kind(unit: str) -> str | None:
    """The rule a normalised unit of text falls under, or None for report text."""
    if len(unit) > 80:
        return None
    return next((name for name, rule in RULES if rule.search(unit)), None)


def page_fields(text_units: list[Unit]) -> list[Field]:
    """Labelled values of the page header: 来源, 发布机构, 发布时间 … A label may share a unit with
    other labels (`来源:X 时间:Y`) or stand alone with its value in the next unit (`来源: X`); a
    metadata table's label may have no colon (`_BARE_LABEL`)."""
    fields = []
    for i, unit in enumerate(text_units):
        if len(unit.text) > 80:
            continue
        labels = list(_LABEL.finditer(unit.text))
        if not labels and (bare := _BARE_LABEL.match(unit.text)):
            value, where = unit.text[bare.end():].strip(), unit
            if not value and i + 1 < len(text_units) and not text_units[i + 1].furniture:
                where = text_units[i + 1]
                value = where.text
            if value:
                fields.append(Field(bare.group(1), value, where.line, where.raw))
            continue
        for here, after in zip(labels, labels[1:] + [None]):
            value = unit.text[here.end(): after.start() if after else len(unit.text)].strip(" -|")
            where = unit
            if not value and after is None and i + 1 < len(text_units) and not text_units[i + 1].furniture:
                where = text_units[i + 1]
                value = where.text
            if value:
                fields.append(Field(re.sub(r"\s", "", here.group(1)), value, where.line, where.raw))
    return fields
