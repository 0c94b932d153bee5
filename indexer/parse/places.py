"""Places: find China's divisions named in a string and resolve them to province, city, county.

The names come from cpca's division table (a dependency already). We match names ourselves
instead of calling cpca's address parser, because the parser completes partial names by
guessing (临夏州 → 临夏市), and a guessed region is worse than none.

Besides full names, four general forms are recognised:
- autonomous short forms: 伊犁州 for 伊犁哈萨克自治州, 镇宁自治县 / 镇宁县 for 镇宁布依族苗族自治县;
- a zone named after its division: 平潭综合实验区 → 平潭县, when exactly one division has that stem;
- a county's former name, where the table has only the new one (广丰县 for 广丰区), in the author's
  names only;
- the 直辖市 rule: Beijing, Tianjin, Shanghai and Chongqing are provinces; their districts get
  the municipality as city too (the manifest's gold: 北京市/北京市/密云区), while an agency of the
  municipality itself has no city (上海市财政局: 上海市/None/None).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_NOT_A_NAME = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_ETHNIC = ("蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|东乡|"
           "纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|鄂温克|保安|"
           "裕固|京|独龙|鄂伦春|各")
_AUTONOMOUS = re.compile(rf"^(.+?)(?:(?:{_ETHNIC})族?)+自治(州|县|旗)$")
# What follows a division's stem in the name of a body named after it: a development or pilot
# zone (宁波国家高新区), or a customs district (湛江海关).
_ZONE_WORDS = re.compile(r"(?:国家级?)?(?:综合实验区|综合试验区|实验区|试验区|经济技术开发区|经济开发区|高新技术产业开发区|开发区|"
                         r"高新区|新区|管理区|海关)")


@dataclass(frozen=True)
class Place:
    name: str
    adcode: str

    @property
    def level(self) -> str:
        if self.adcode[2:] == "0000":
            return "province"
        return "city" if self.adcode[4:] == "00" else "county"


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    holders: tuple[Place, ...]


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, tuple[Place, ...]], dict[str, tuple[Place, ...]], dict[str, Place]]:
    """(name or short form -> places, stem -> county/city places, adcode -> place) from cpca's table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    names: dict[str, list[Place]] = {}
    stems: dict[str, list[Place]] = {}
    by_code: dict[str, Place] = {}
    for info in cpca.ad_2_addr_dict.values():
        if info.name in _NOT_A_NAME or len(info.name) < 2:
            continue
        place = Place(info.name, info.adcode[:6])
        by_code[place.adcode] = place
        names.setdefault(place.name, []).append(place)
        short = _AUTONOMOUS.match(place.name)
        if short:
            stem, kind = short.groups()
            forms = {stem + kind, stem + "自治" + kind} | ({stem + "县"} if kind == "县" else set())
            for form in forms - {place.name}:
                names.setdefault(form, []).append(place)
        if place.level != "province" and len(place.name) >= 3 and place.name[-1] in "县市区旗":
            stems.setdefault(place.name[:-1], []).append(place)
    for name, places in names.items():
        if any(p.name == name for p in places):  # a real name beats another division's short form
            names[name] = [p for p in places if p.name == name]
    return ({k: tuple(v) for k, v in names.items()}, {k: tuple(v) for k, v in stems.items()}, by_code)


@lru_cache(maxsize=1)
def _renamed() -> dict[str, tuple[Place, ...]]:
    """Former names of county-level divisions cpca's table (a snapshot) lacks: a 县 or county-level
    市 that became a 区, or back (广丰县 → 广丰区 in 2015, 潞城市 → 潞城区 in 2018). Each county's
    stem with the other suffixes, where no division has that name. Read only in the names of the
    author (`short_names`): in running text `新城市` is a new city, not 新城区."""
    names = _gazetteer()[0]
    forms: dict[str, list[Place]] = {}
    for name, places in names.items():
        for place_ in places:
            if place_.name == name and place_.level == "county" and name[-1] in "县区市" and len(name) >= 3:
                for suffix in "县区市".replace(name[-1], ""):
                    if name[:-1] + suffix not in names:  # the division under the name the text gives it
                        forms.setdefault(name[:-1] + suffix, []).append(Place(name[:-1] + suffix, place_.adcode))
    return {k: tuple(v) for k, v in forms.items()}


@lru_cache(maxsize=1)
def province_short_names() -> dict[str, Place]:
    """湖北 → 湖北省, 广西 → 广西壮族自治区, 内蒙古 → 内蒙古自治区: how a national body's branch
    names its province (国家统计局湖北调查总队). Not matched in running text, where 湖北 is often
    not the author's province."""
    shorts = {}
    for places in _gazetteer()[0].values():
        for place_ in places:
            if place_.level == "province":
                stem = re.match(rf"^(.{{2,}}?)(?:省|市|特别行政区|(?:(?:{_ETHNIC})族?)*自治区)$", place_.name)
                shorts[stem.group(1) if stem else place_.name] = place_
    return shorts


@lru_cache(maxsize=1)
def city_short_names() -> dict[str, Place]:
    """武汉 → 武汉市: a prefecture-level city's name without 市, where no other city shares it. Read
    only at the start of an author's name (武汉东湖新技术开发区), like `province_short_names`."""
    shorts: dict[str, list[Place]] = {}
    for places in _gazetteer()[0].values():
        for place_ in places:
            if place_.level == "city" and place_.name.endswith("市") and len(place_.name) >= 3:
                shorts.setdefault(place_.name[:-1], []).append(place_)
    return {short: places[0] for short, places in shorts.items() if len(set(places)) == 1}


def place(adcode: str) -> Place | None:
    return _gazetteer()[2].get(adcode)


@lru_cache(maxsize=256)
def mentions(text: str, *, short_names: bool = False) -> tuple[Mention, ...]:
    """Division names in `text`, leftmost-longest, not overlapping.

    Two-character names (城区, 和县, 东区) occur inside ordinary words, so they count only at the
    start or right after another name, and only when `short_names` (agency names, titles).
    """
    names, stems, _ = _gazetteer()
    sizes = _sizes_by_first_char()
    zones = bool(_ZONE_WORDS.search(text))
    found: list[Mention] = []
    i = 0
    while i < len(text):
        hit = None
        for size in sizes.get(text[i], ()):
            word = text[i:i + size]
            if len(word) == size and word in names \
                    and (size > 2 or (short_names and (i == 0 or (found and found[-1].end == i)))):
                hit = Mention(i, i + size, word, names[word])
                break
        if hit is None and short_names:
            hit = _former_name(text, i)
        if hit is None and zones:
            hit = _zone(text, i, stems)
        if hit:
            found.append(hit)
            i = hit.end
        else:
            i += 1
    return tuple(found)


@lru_cache(maxsize=1)
def _sizes_by_first_char() -> dict[str, tuple[int, ...]]:
    """For each first character, the lengths of the names starting with it, longest first."""
    sizes: dict[str, set[int]] = {}
    for name in _gazetteer()[0]:
        sizes.setdefault(name[0], set()).add(len(name))
    return {char: tuple(sorted(found, reverse=True)) for char, found in sizes.items()}


def _former_name(text: str, i: int) -> Mention | None:
    renamed = _renamed()
    for size in (5, 4, 3):
        word = text[i:i + size]
        if len(word) == size and word in renamed:
            return Mention(i, i + size, word, renamed[word])
    return None


def _zone(text: str, i: int, stems: dict[str, tuple[Place, ...]]) -> Mention | None:
    """A development or pilot zone, or a customs district, named after the one division with that
    stem (平潭综合实验区, 宁波国家高新区, 湛江海关)."""
    for size in (4, 3, 2):
        stem = text[i:i + size]
        holders = stems.get(stem, ())
        if len(holders) == 1 and _ZONE_WORDS.match(text, i + size):
            return Mention(i, i + size, stem, holders)
    return None


def _names(place_: Place) -> tuple[str | None, str | None, str | None]:
    """(province, city, county) names of a division, with the 直辖市 rule applied."""
    table = _gazetteer()[2]
    code = place_.adcode
    province = table.get(code[:2] + "0000")
    city = table.get(code[:4] + "00") if place_.level != "province" else None
    county = place_ if place_.level == "county" else None
    province_name = province.name if province else None
    city_name = city.name if city else None
    if province_name in MUNICIPALITIES:
        city_name = province_name if county else None
    return province_name, city_name, county.name if county else None


def _is_under(child: Place, parent: Place) -> bool:
    keep = {"province": 2, "city": 4, "county": 6}[parent.level]
    return child.adcode[:keep] == parent.adcode[:keep] and child.adcode != parent.adcode


def resolve(named: Sequence[Mention], context: str) -> tuple[Place | None, Mention | None]:
    """The one division the mentions `named` point at, using the divisions `context` names only to
    choose between same-named ones; (None, None) when they stay ambiguous. Where the deepest name
    is not under the others, the others alone decide.

    Returns the deepest place and the mention it came from. When same-named divisions share a
    parent that much is kept (two 朝阳区 → no county; both in one province → that province).
    """
    if not named:
        return None, None
    deepest = max(named, key=lambda m: max(_depth(p) for p in m.holders))
    others = [m for m in named if m is not deepest]
    candidates = [p for p in deepest.holders
                  if all(any(_is_under(p, q) or _is_under(q, p) or q == p for q in m.holders) for m in others)]
    if len(candidates) > 1:
        parents = [q for m in mentions(context) for q in m.holders]
        chosen = [p for p in candidates if any(_is_under(p, q) for q in parents)]
        if len(chosen) == 1:
            candidates = chosen
    if len(candidates) == 1:
        return candidates[0], deepest
    if not candidates:  # the deepest name is not under the others (深圳市龙华区: a district newer than
        return resolve(others, context)  # the table, which knows only 海口's): what the others name
    return _common_parent(candidates), deepest


def _depth(place_: Place) -> int:
    return {"province": 0, "city": 1, "county": 2}[place_.level]


def _common_parent(places: list[Place]) -> Place | None:
    table = _gazetteer()[2]
    for keep, pad in ((4, "00"), (2, "0000")):
        codes = {p.adcode[:keep] for p in places}
        if len(codes) == 1 and (code := codes.pop() + pad) in table:
            return table[code]
    return None


def region_names(place_: Place | None) -> tuple[str | None, str | None, str | None, str | None]:
    """(province, city, county, adcode) of a resolved place; all None for None."""
    if place_ is None:
        return None, None, None, None
    return (*_names(place_), place_.adcode)


def resolve_region(agency: str, context: str = "") -> tuple[str | None, str | None, str | None, str | None]:
    """(province, city, county, adcode) for an agency name; ambiguous names stay None.

    `context` (the report's opening text) only chooses between same-named divisions:
    朝阳区 is in Beijing and Changchun, and stays unresolved unless the text names one parent.
    """
    resolved, _ = resolve(mentions(agency, short_names=True), context)
    return region_names(resolved)
