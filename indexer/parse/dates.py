"""Dates as report pages write them: `2020-02-20`, `2020年1月9日`, `二〇二〇年一月二十日`.

Only what the page states is read; an impossible date (2020年13月40日) is no date.
"""

from __future__ import annotations

import re
from datetime import date

_Y = r"(?:19|20)\d\d"
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "O": 0, "o": 0, "○": 0}  # ○: a circle for 〇
_DATE = re.compile(rf"({_Y})\s*[-年/.]\s*(\d{{1,2}})\s*[-月/.]\s*(\d{{1,2}})(?!\d)")
_CN_DATE = re.compile(r"([〇○零一二三四五六七八九Oo]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日")
# A date standing alone on its line, as a report signs (in brackets under some titles).
_SIGNATURE = re.compile(rf"^\(?(?:{_Y}\s*[-年/.]\s*\d{{1,2}}\s*[-月/.]\s*\d{{1,2}}日?|"
                        r"[〇○零一二三四五六七八九Oo]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)\)?$")
# A date with a clock time standing alone: a page's time stamp.
_TIME_STAMP = re.compile(rf"^{_Y}\s*[-年/.]\s*\d{{1,2}}\s*[-月/.]\s*\d{{1,2}}日?\s*\d{{1,2}}:\d\d(?::\d\d)?$")
# A short byline: a page's source, then when it was put up (`银川市人民政府门户网站www.yinchuan.gov.cn
# 2023-01-28`, `市教育局 2019年03月28日`), or the date first (`2019年03月28日来源:市教育局`,
# `2021-03-2918:26`, a clock time glued on).
_BYLINE_DATE = (rf"(?P<date>{_Y}-\d{{1,2}}-\d{{1,2}}(?!\d{{3}})|{_Y}年\d{{1,2}}月\d{{1,2}}日)"
                rf"(?:\s*\d{{1,2}}:\d\d(?::\d\d)?)?")
_BYLINES = (re.compile(rf"^(?:.{{0,50}}\s)?{_BYLINE_DATE}$"), re.compile(rf"^{_BYLINE_DATE}\s*(?:来源|发布|作者|浏览|点击)"))


def parse_date(text: str) -> str | None:
    """The first date in `text` as ISO `YYYY-MM-DD`, or None."""
    match = _DATE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _CN_DATE.search(text)
        if not match:
            return None
        year = int("".join(str(_CN_DIGITS[c]) for c in match.group(1)))
        month, day = (_cn_number(g) for g in match.groups()[1:])
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def signature_date(piece: str) -> str | None:
    """The date of a piece of text that is nothing but a date."""
    return parse_date(piece) if _SIGNATURE.match(piece) else None


def time_stamp_date(piece: str) -> str | None:
    """The date of a piece of text that is nothing but a date and a clock time."""
    return parse_date(piece) if _TIME_STAMP.match(piece) else None


def _cn_number(text: str) -> int:
    """一 … 三十一 as a number."""
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


def byline_date(piece: str) -> str | None:
    """The date of a short byline (source and date, either way round), or of a bare time stamp."""
    match = next((m for byline in _BYLINES if (m := byline.match(piece))), None)
    return parse_date(match.group("date")) if match else None
