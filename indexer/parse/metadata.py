"""Report metadata: title, agency, covered year, region, level, template edition, publication date.

A field that cannot be determined is None: a journalist filtering by province must never get a
report placed there by a guess. Each value comes with its evidence: `{"text", "line"}`, the words
it was read from (normalised as indexer.normalize does) and their 1-based line in
`text.splitlines()` (line 0: the statistics tables as a whole, for an edition read from them).

Where values come from, most trusted first:
- agency: the title (`X2019年…报告`, `2019年X…报告`, a title whose agency is on the line above, a
  `标题:` field), the page's 发布机构 field, then sentences that name the author (`现公布X2019年…`,
  `由X编制`, `2019年,X以…`, `请与X联系`). Page furniture (furniture.py) is never read as a title
  or agency. A disclosure office or a government's own office speaks for its government
  (`X人民政府信息公开办公室`, `由X政府办公室编制` → X人民政府; a township's 党政办 for the
  township); an internal unit is cut (`X局指挥中心办公室` → X局); a relative name (`市教育局`)
  stands only when the text also names it in full (`泰州市教育局`).
- year: the title, then the statistics period (`统计期限/时限/时间段…自2019年`), then a sentence
  naming the report.
- region (places.py): divisions named in the agency (a national body's branch where it serves, a
  city's short name opening the name, a county's former name); for an agency that names none (a
  street office, a township) the title, page fields (来源, breadcrumb), then the body if it names
  exactly one county (else one city, else one province). A report that names no agency gets no
  region from its body, only the province whose disclosure rules it cites.
  直辖市: province is the municipality; its districts get it as city too (北京市/北京市/密云区);
  the municipality's own agencies have no city (上海市财政局: 上海市/None/None).
- edition: `2021` tables (国办公开办函〔2021〕30号: 本年制发件数…), `2019` tables, `old`; without
  table evidence the year decides (<2019 old, 2019–2020 2019, ≥2021 2021). `template` is `old`
  for the old edition and `new` for both others.
- level: the manifest's words (national-ministry, province, city, county, township,
  department-<province|city|county>), from the agency's name and its division, else from how a
  nameless report speaks of itself (本街道, 我厅, 我部, 我局 under 区委区政府).
- published: the page's 发布时间/发布日期/发文日期 (a colon-less metadata table too), else a bare
  时间 field with a clock time, else 成文日期/公文生成日期, else a bare 时间/日期 field, else a date
  standing alone as a signature (at the end, or under the title), else a byline under the title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from ..normalize import normalize
from ..stats import detect_edition
from .dates import byline_date, parse_date, signature_date, time_stamp_date
from .furniture import Field, Unit, furniture_kind, page_fields, units
from .places import (MUNICIPALITIES, Mention, Place, city_short_names, mentions, province_short_names, region_names,
                     resolve, resolve_region)

__all__ = ["Metadata", "extract_metadata", "resolve_region", "template_of"]

_OPENING = 4000  # characters read for everything but the edition: metadata is in a report's opening
_Y = r"(?:19|20)\d\d"
_N = r"[\u4e00-\u9fff]{2,40}?"
_REPORT_WORD = re.compile(r"报告|年报")
_DISCLOSURE_WORD = re.compile(r"信息公开|政务公开|政府信息")
# A column label (`政府信息公开年报`, `部门信息公开年报`) names no report: nothing is left without these.
_GENERIC_TITLE = re.compile(r"首页|政务公开|政府信息公开|信息公开|工作|年度报告|年报|报告|部门|专栏|目录|政府|[()]|全文")
# A government's own offices and centres: what they compile or answer for is the government's.
_GOVERNMENT_OFFICE = re.compile(r"^(?P<gov>(?P<place>(?:(?!政府).)+?)(?:人民政府|政府))(?:政府)?"
                                r"(?:[\u4e00-\u9fff]{0,12}?(?:办公室|办公厅|中心|办))?$")
# A township's or street office's 党政办 compiles its report (`厚桥街道党政办公室综合科`).
_TOWNSHIP_OFFICE = re.compile(r"^(?P<township>.+?(?:乡|镇|苏木|街道))(?:人民政府|政府|办事处)?(?:党政|综合)?(?:办公室|办)"
                              r"(?:[\u4e00-\u9fff]{1,8}?(?:科|股|室))*$")
_AGENCY_OFFICE = re.compile(r"^(?P<base>.+?(?:局|厅|委员会|管委会|海关|办事处))(?:党政|综合)?(?:办公室|综合科)"
                            r"(?:[\u4e00-\u9fff]{1,8}?(?:办公室|科|室|处))*$")  # 湛江海关办公室新闻信息办公室
_RULES_CITED = re.compile(r"《(?P<place>[\u4e00-\u9fff]{2,8}?)(?:人民政府|政府)?(?:信息公开|政务公开)[^《》]{0,12}》")
_ALIAS = re.compile(r"^(?P<outer>[^()（）]+?)[(（](?P<inner>[^()（）]{2,20})[)）]$")
_TITLE_LABEL = re.compile(r"^(?:标\s*题|名\s*称|文件名称|信息名称)\s*:?\s*")
# How a sentence opens, never a title. Whole words, since places open with these characters too
# (本溪市, 如东县, 如皋市, 特克斯县): `本` alone once kept 本溪市司法局's title from being read.
_NOT_TITLE_START = re.compile(r"^(?:本(?:报告|年度|年报|机关|单位|局|部门|委|办|街道|镇|乡|次)|根据|按照|依据|现将|现公布|现予|特此|特向|"
                              r"特编制|为|经(?:研究|审核|批准|统计)|如(?:对|有|需)|请|我|一、|\(一\)|1\.)")
# The year may lack its 年 when the disclosure words follow it (`政府国资委2020政府信息公开工作年度报告`).
_TITLE_PARTS = re.compile(rf"^(?P<pre>.*?)(?P<year>{_Y})\s*(?:年度?|(?=(?:政府|政务)?信息公开))(?P<mid>.*?)"
                          rf"(?:(?:人民)?政府|政务)?(?:信息公开|政务公开|公开)")
_TITLE_NO_YEAR = re.compile(r"^(?P<pre>.+?)(?:政府|政务)?(?:信息公开|政务公开)")
_AGENCY_SUFFIX = re.compile(
    r"(?:人民政府|政府|办公室|办公厅|局|厅|委员会|委|部|署|院|中心|办事处|街道|乡|镇|苏木|管委会|实验区|试验区|新区|"
    r"开发区|高新区|管理区|所|站|队|社|馆|处|办|室|海关|街)$")
_LEADING = re.compile(r"^(?:首页|政务公开|政府信息公开|信息公开|公开年报|年报|年度报告|目录|专栏|现公布|特向社会公布|向社会公布|"
                      r"公布|发布|现将|编制了|编制|本报告由|由|关于|部门|并)+")
# Words that make a phrase no agency's name: how a sentence points (本局, 各单位, 全市, 通过…) anywhere but
# at the start of a place's name (本溪市, 全椒县), and words of documents.
_NOT_AGENCY_START = re.compile(r"^(?:本|我|各|全|该|其|此|所属|下属|上级|有关|相关|市直|县直|区直|通过|依托|利用|借助)")
_NOT_AGENCY = re.compile(r"报告|年报|情况|条例|规定|通知|[,,。、;《》\d]")
_DISCLOSURE_OFFICE = re.compile(r"^(?P<gov>.+?)(?:人民政府|政府)?(?:政府)?(?:信息公开|政务公开)")
_SUB_UNIT = re.compile(r"^(?P<base>.+?(?:局|厅|委员会|街道办事处|办公室|办公厅))(?:[\u4e00-\u9fff]{1,16}?(?:科|股|室|处|中心|大队|支队|办公室))+$")
_GOVERNMENT_REST = re.compile(r"^(?:(?:人民)?政府(?:办公室|办公厅)?|管委会|管理委员会|(?:综合)?(?:实验|试验)区(?:管委会|管理委员会)?)?$")
_TOWNSHIP = re.compile(r"(?:街道办事处|街道|办事处|乡|镇|苏木|(?<=[\u4e00-\u9fff]{2})街)(?:人民政府|政府)?(?:党政办公室|办公室)?$")
_NATIONAL_BODY = re.compile(r"^(?:中华人民共和国|国家|中国)[\u4e00-\u9fff]{1,10}?(?:总局|局|署|委员会|银行)")
_NATIONAL = re.compile(r"^(?:中华人民共和国|国家|国务院|中国(?![(（]))|^[\u4e00-\u9fff]{2,12}(?:部|总署|总局)$|^审计署$")

# Sentences that name the author, most telling first.
_BODY_AGENCY = (
    ("title_run_into_text", re.compile(rf"^(?P<a>{_N})(?P<y1>{_Y})年度?(?:政府|政务)?(?:信息公开|政务公开)(?:工作)?(?:年度)?(?:报告|年报)")),
    ("publishes_report", re.compile(rf"(?:现公布|向社会公布|现予公布|公布|现公开|向社会公开|现将|编制了|编制|编写|发布)《?"
                                    rf"(?:(?P<y1>{_Y})年度?)?"
                                    rf"(?P<a>{_N})(?:\([^()]{{1,20}}\))?(?:(?P<y2>{_Y})年度?)?的?(?:(?:人民)?政府|政务)?(?:信息公开|政务公开)")),
    ("reports_on", re.compile(rf"(?:主要为|反映了?|内容为)(?P<a>{_N})(?P<y1>{_Y})年度?的?(?:政府|政务)?(?:信息公开|政务公开)")),
    ("reviews_own_work", re.compile(rf"(?:^|[,,。;])(?P<a>{_N})对(?P<y1>{_Y})年度?(?:开展)?的?(?:政府|政务)?信息公开工作")),
    ("compiled_by", re.compile(rf"由(?P<a>{_N})(?:\([^()]{{1,30}}\))?(?:负责)?(?:编制|汇总|根据|依据|按照|编写)")),
    ("compiles_report", re.compile(rf"(?:^|[,,。;])(?P<a>{_N})(?:结合[^,,。]{{1,10}})?[,,]?(?:编制|编写)(?:了|完成)?"
                                   rf"(?:本单位|本机关|本部门|本)?(?P<y1>{_Y})年度?")),
    ("year_lead", re.compile(rf"(?:^|[。;!\s)、]|情况|在)(?P<y1>{_Y})年度?(?:以来)?[,,]?(?P<a>{_N})(?=以习近平|在|坚持|坚决|认真|全面|围绕|按照|深入|"
                             r"严格|紧紧|进一步|始终|不断|高度|积极|根据|各|\(|政府信息公开|信息公开|政务公开|主动公开)")),
    ("based_on", re.compile(rf"根据(?P<y1>{_Y})年度?(?P<a>{_N})(?:政府)?信息公开工作")),
    ("since", re.compile(rf"以来[,,](?P<a>{_N})(?=高度重视|认真|坚持|严格|始终|积极|不断|进一步|围绕|按照|深入|全面)")),
    ("contact", re.compile(rf"(?:请与|请联系|直接与|可与|联系单位)[::]?(?P<a>{_N})(?:联系|[(,;。])")),
)
# The year may have lost its 年 to a page's garbling (`统计期限为20231月1日至12月31日`).
_PERIOD = re.compile(rf"(?:统计期限|统计时限|统计时间段|统计期间|统计区间|统计周期|统计时间|所列数据|数据统计)[^。]{{0,12}}?"
                     rf"(?P<y>{_Y})(?:年|(?=1月1日))")
_REPORT_NAMED = re.compile(rf"(?P<y>{_Y})年度?[^,。;《》]{{0,25}}?(?:政府|政务)?信息公开(?:工作)?(?:年度)?(?:报告|年报)")
# The year a report speaks of itself in (`2022年,我镇主动公开…`, `2016年初,我乡健全了…`).
_SELF_YEAR = re.compile(rf"(?P<y>{_Y})年度?(?:初|以来)?[,,]?(?:我|本)(?:镇|乡|街道|局|委|办|区|县|市|厅|部)")
_LINE_YEAR = re.compile(rf"^(?:\(.\)|[一二三四五六七八九十]、)?(?P<y>{_Y})年度?[,,]?[\u4e00-\u9fff]")

# Each edition's own header words, to point at the line that shows the edition.
_EDITION_WORDS = {"2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量"),
                  "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量")}

_PUBLISHED_LABELS = (("发布时间", "发布日期", "发文日期"), ("成文日期", "公文生成日期", "生成日期", "印发日期"), ("时间", "日期"))


@dataclass
class Metadata:
    title: str | None
    agency: str | None
    year: int | None
    province: str | None
    city: str | None
    county: str | None
    adcode: str | None
    template: str | None
    level: str | None = None
    edition: str | None = None
    published: str | None = None
    evidence: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Found:
    """A value and where it was read: the 1-based line and the text around it."""

    value: object
    line: int
    text: str
    continued: "_Found | None" = None  # a title broken over two lines: where its second part is

    def evidence(self) -> dict:
        return {"text": self.text, "line": self.line}


@dataclass
class _Reading:
    """One report's text, cut the ways the rules read it."""

    text: str
    units: list[Unit]
    fields: list[Field]
    body: list[tuple[int, str]]  # (line number, normalised line) of the opening

    @classmethod
    def of(cls, text: str) -> "_Reading":
        opening = text[:_OPENING]
        head = units(opening)
        body = []
        for number, raw in enumerate(opening.splitlines(), start=1):
            line = normalize(raw)
            if line and not furniture_kind(line):
                body.append((number, line))
        return cls(text, head, page_fields(head), body)


def _window(text: str, start: int, end: int, width: int = 60) -> str:
    return text[max(0, start - width): end + width]


# --- title and agency -------------------------------------------------------------------------


def _titles(reading: _Reading) -> list[tuple[_Found, int]]:
    """Units that name a report (joined with the next when broken), with their unit index.

    A page often shows the title twice (page header, then the document); the first may name no
    agency while the second has it on the line above, so all of the opening's are kept.
    """
    found = []
    pieces = reading.units[:40]
    for i, unit in enumerate(pieces):
        text = unit.text
        labelled = _TITLE_LABEL.match(text) if unit.furniture in ("page_field", "metadata_row") else None
        if labelled:  # a page's metadata table names the document: `标题:潞城市2009年政府信息公开年度报告`
            text = text[labelled.end():]
        elif unit.furniture or _NOT_TITLE_START.match(text) or text.endswith(("。", ";", ",")):
            continue
        nxt = pieces[i + 1].text if i + 1 < len(pieces) else ""
        continued = None
        if not _REPORT_WORD.search(text) and nxt and _REPORT_WORD.search(nxt) and not pieces[i + 1].furniture \
                and (re.search(rf"(?:{_Y}年度?|[\u4e00-\u9fff](?:局|政府|机关|委员会|办公室|街道|乡|镇))$", text)
                     and re.match(rf"^(?:政府信息公开|信息公开|政务公开|{_Y}年)", nxt)
                     or _DISCLOSURE_WORD.search(text) and re.match(r"^(?:工作)?(?:年度)?(?:报告|年报)$", nxt)) \
                and len(text + nxt) <= 60:
            continued = _Found(nxt, pieces[i + 1].line, nxt)
            text = text + nxt
        if _REPORT_WORD.search(text) and _DISCLOSURE_WORD.search(text) and len(text) <= 60 and "通知" not in text \
                and _GENERIC_TITLE.sub("", text):
            found.append((_Found(text, unit.line, unit.text, continued), i))
    return found[:4]


def _clean_agency(raw: str) -> str | None:
    """An agency name from the words a rule captured, or None when they are not one.

    A name with another in brackets is the place when the brackets hold one (`高新区(新市区)`:
    a development zone run by the district), else the name before them."""
    alias = _ALIAS.match(raw.strip())
    if alias:
        raw = alias.group("inner") if _is_place(alias.group("inner")) else alias.group("outer")
    name = re.split(r"[:>»›|]", raw.strip(" 《》“”\"'()()【】[]"))[-1]
    name = _LEADING.sub("", name)
    office = _DISCLOSURE_OFFICE.match(name)
    if office and (_is_place(office.group("gov")) or office.group("gov") in _RELATIVE_DEPTH):  # 省政务公开办公室
        name = office.group("gov") + "人民政府"
    sub = _SUB_UNIT.match(name)
    if sub:
        name = sub.group("base")
    name = re.sub(r"(?:关于|(?:政府)?(?:信息公开|政务公开)(?:工作)?)$", "", name)
    name = re.sub(r"(?<=政府)机关$", "", name)  # 城口县人民政府机关: the government and its office
    distinct = re.sub(r"(?:人民)?政府", "", _AGENCY_SUFFIX.sub("", name))  # 政府办公室 names no one; 市政府办公室 is relative
    one_character_township = re.fullmatch(r"[\u4e00-\u9fff][镇乡](?:人民政府)?", name) is not None  # 螅镇 (佳县)
    if _GENERIC_UNIT.fullmatch(name):  # `街道办事处` names a kind of office, not one
        return None
    if not 2 <= len(name) <= 40 or _NOT_AGENCY.search(name) \
            or (len(distinct) < 2 and distinct not in _RELATIVE_DEPTH and not one_character_township) \
            or _NOT_AGENCY_START.match(name) and not _starts_with_place(name):
        return None
    if _is_place(name):
        return name + "人民政府"
    return name if _AGENCY_SUFFIX.search(name) else None


def _starts_with_place(name: str) -> bool:
    found = mentions(name, short_names=True)
    return bool(found) and found[0].start == 0


def _is_place(name: str) -> bool:
    found = mentions(name, short_names=True)
    return bool(found) and found[0].start == 0 and found[-1].end == len(name) \
        and all(a.end == b.start for a, b in zip(found, found[1:]))


def _is_relative(name: str) -> bool:
    """`市教育局`, `区人民政府办公室`: named from inside a place the text must name elsewhere."""
    named = mentions(name, short_names=True)
    return name[0] in "省市县区州旗" and not (named and named[0].start == 0)


def _qualify(name: str, flat: str) -> str | None:
    """A relative name made whole from the text (`市教育局` → `泰州市教育局`), if exactly one way."""
    rest = re.escape(name[1:]).replace("政府", "(?:人民)?政府", 1)
    if name.endswith("办"):  # 区政府办 is 耀州区人民政府办公室, not a prefix of it
        rest += "(?:公室|公厅)?"
    whole = set()
    for match in re.finditer(rf"([\u4e00-\u9fff]{{1,8}}?{name[0]})({rest})", flat):
        place_ = _trim_to_place(match.group(1))
        if place_:
            whole.add(place_ + match.group(2))
    return whole.pop() if len(whole) == 1 else None


def _qualify_from_page(name: str, fields: list[Field]) -> _Found | None:
    """A relative name made whole from the page's 来源/发布机构 line when that names exactly one
    place of the name's level (`市人力资源社会保障局`, 来源:济宁市人民政府 → 济宁市…)."""
    depth = _RELATIVE_DEPTH[name[0]]
    found = {(m.text, f.line, f.value) for f in fields if f.label in _SOURCE_LABELS
             for m in mentions(f.value, short_names=True)[:1] if {p.level for p in m.holders} == {depth}}
    if len({text for text, _, _ in found}) != 1:
        return None
    place_, line, value = found.pop()
    return _Found(place_ + name[1:], line, value)


def _trim_to_place(prefix: str) -> str:
    """The longest place name a prefix ends with (`公布泰州市` → `泰州市`, `联系珙县` → `珙县`), or ''."""
    return next((prefix[start:] for start in range(len(prefix) - 1) if _is_place(prefix[start:])), "")


def _agency_candidates(reading: _Reading, titles: list[tuple[_Found, int]]) -> Iterator[_Found]:
    """The words that may name the agency, best first: titles, page fields, then the body's rules.
    A generator: the first that names one wins, and scanning every body line with every rule
    took a tenth of parsing a report whose title had already named it."""
    for title, title_index in titles:
        text = str(title.value)
        raws = [parts.group("pre") or parts.groupdict().get("mid") or ""
                for parts in (_TITLE_PARTS.match(text), _TITLE_NO_YEAR.match(text)) if parts]  # year first or last
        raws = [raw for raw in raws if raw]
        yield from (_Found(raw, title.line, title.text) for raw in raws)
        if not raws and title_index > 0:  # the agency on the line above a title that names none
            above = reading.units[title_index - 1]
            if not above.furniture and len(above.text) <= 40:
                yield _Found(above.text, above.line, above.text)
    for page_field in reading.fields:  # a government's office publishes the government's report
        if page_field.label in ("发布机构", "发文机关"):
            yield _Found(_author_of_office(page_field.value), page_field.line, page_field.value)
    for name, rule in _BODY_AGENCY:
        for number, line in reading.body:
            for match in rule.finditer(line[:3000]):
                raw = match.group("a")
                if name in ("compiled_by", "contact"):
                    raw = _author_of_office(raw)
                yield _Found(raw, number, _window(line, match.start(), match.end()))


def _author_of_office(name: str) -> str:
    """Whose report an office compiles or answers for: a government's 办公室 compiles the
    government's (`由信阳市政府办公室编制` → 信阳市人民政府), an agency's office is its contact
    (`请与湛江海关办公室联系` → 湛江海关). A title naming the office itself is read elsewhere."""
    township = _TOWNSHIP_OFFICE.match(name)
    if township:
        name = township.group("township")
        return name + ("办事处" if name.endswith("街道") else "人民政府")
    government = _GOVERNMENT_OFFICE.match(name)
    if government:
        place_ = government.group("place")
        if _is_place(place_):
            return place_ + "人民政府"
        if place_ in _RELATIVE_DEPTH:  # 区政府办公室: the relative name, made whole later
            return government.group("gov")
    office = _AGENCY_OFFICE.match(name)
    return office.group("base") if office else name


def _agency(reading: _Reading, titles: list[tuple[_Found, int]], flat: str) -> tuple[_Found | None, _Found | None]:
    """(agency, relative name): the relative name alone when the text never names it in full."""
    relative = None
    for candidate in _agency_candidates(reading, titles):
        name = _clean_agency(str(candidate.value))
        if name is None:
            continue
        if _is_relative(name):
            whole = _qualify(name, flat)
            if whole is None and (from_page := _qualify_from_page(name, reading.fields)):
                return from_page, None
            if whole is None:  # named relative to a place the text does not name: a later full name, or none
                relative = relative or _Found(name, candidate.line, candidate.text)
                continue
            where = next(((n, line) for n, line in reading.body if whole in line), None)
            if where:
                at = where[1].index(whole)
                return _Found(whole, where[0], _window(where[1], at, at + len(whole))), None
            name = whole
        return _Found(name, candidate.line, candidate.text), None
    return None, relative


# --- year ----------------------------------------------------------------------------------------


def _year(reading: _Reading, title: _Found | None) -> _Found | None:
    if title:
        for part in (title, title.continued):
            match = re.search(rf"({_Y})\s*年", part.text) if part else None
            if match:
                return _Found(int(match.group(1)), part.line, part.text)
    named = dict(_BODY_AGENCY)
    for rule in (_PERIOD, named["title_run_into_text"], named["publishes_report"], named["reports_on"], _REPORT_NAMED,
                 named["based_on"], _SELF_YEAR, named["year_lead"]):
        for number, line in reading.body:
            for match in rule.finditer(line[:3000]):
                year = next((g for g in (match.groupdict().get(k) for k in ("y", "y1", "y2")) if g), None)
                if year and "关于" not in line[max(0, match.start() - 12): match.start()]:
                    return _Found(int(year), number, _window(line, match.start(), match.end()))
    for number, line in reading.body[:40]:
        match = _LINE_YEAR.match(line)
        if match:
            return _Found(int(match.group("y")), number, line[:120])
    return None


# --- region and level ----------------------------------------------------------------------------


def _region(agency: _Found | None, title: _Found | None, reading: _Reading, flat: str) -> tuple[Place | None, _Found | None]:
    """The division the agency belongs to, and the line naming it."""
    context = flat[:2000]
    if agency:
        named = (_branch_place(str(agency.value)) or mentions(str(agency.value), short_names=True)
                 or _short_place_at_start(str(agency.value)))
        if not named and str(agency.value).startswith(_PROVINCE_RELATIVE):  # 自治区北部湾办: the one province named
            provinces = {m.text: m for m in mentions(context) if all(p.level == "province" for p in m.holders)}
            named = tuple(provinces.values()) if len(provinces) == 1 else ()
            if not named:
                return None, None
        if named:
            place_, _ = resolve(named, context)
            return place_, agency if place_ else None
        if _NATIONAL.search(str(agency.value)):
            return None, None
    elif title is None and not reading.fields:  # nothing names the author: the body's places could be anyone's,
        return _province_of_rules(reading, context)  # but the province whose rules it follows is its own
    sources: list[tuple[str, int, str]] = []
    if title:
        sources.append((str(title.value), title.line, title.text))
    sources += [(f.value, f.line, f.value) for f in reading.fields if f.label in _SOURCE_LABELS]
    sources += [(u.text, u.line, u.text) for u in reading.units if u.furniture == "breadcrumb"]
    for text, line, snippet in sources:
        named = mentions(text, short_names=True)
        if named:
            place_, _ = resolve(named, context)
            return (place_, _Found(text, line, snippet)) if place_ else (None, None)
    return _region_from_body(reading, context) if agency else _province_of_rules(reading, context)


def _province_of_rules(reading: _Reading, context: str) -> tuple[Place | None, _Found | None]:
    """The one province whose disclosure rules the opening cites (`根据《四川省政府信息公开规定》`):
    a report follows its own province's rules, so this names the author's province even when
    nothing names the author."""
    named = {m.text: m for found in _RULES_CITED.finditer(context) for m in mentions(found.group("place"))[:1]
             if m.start == 0 and all(p.level == "province" for p in m.holders)}
    if len(named) != 1:
        return None, None
    mention = next(iter(named.values()))
    place_, _ = resolve([mention], context)
    number, line = next(((n, line) for n, line in reading.body if "《" + mention.text in line), (0, mention.text))
    at = max(0, line.find(mention.text))
    return place_, _Found(mention.text, number, _window(line, at, at + len(mention.text)))


def _region_from_body(reading: _Reading, context: str) -> tuple[Place | None, _Found | None]:
    """The one county (else the one city, else the one province: `《四川省政府信息公开办法》`) the opening
    text names, for an agency that names none."""
    for level in ("county", "city", "province"):
        named = [m for m in mentions(context) if all(p.level == level for p in m.holders)]
        if len({m.text for m in named}) == 1:
            place_, mention = resolve([named[0]], context)
            if place_ is None:
                return None, None
            number, line = next(((n, line) for n, line in reading.body if mention.text in line), (0, mention.text))
            at = line.find(mention.text)
            return place_, _Found(mention.text, number, _window(line, at, at + len(mention.text)))
        if named:
            return None, None
    return None, None


_SELF_TOWNSHIP = re.compile(r"(?:本|我)(?:街道|街办|乡|镇)")
# Only ministries say 我部 and only provincial departments 我厅 (a county has 局, a province 厅).
_SELF_LEVEL = ((re.compile(r"我厅|本厅"), "department-province"), (re.compile(r"我部(?!门)|本部(?!门)"), "national-ministry"),
               # a department led by a county's or district's party committee and government
               (re.compile(r"(?:区|县|旗)委、?(?:区|县|旗)(?:人民)?政府[^。]{0,30}?(?:我|本)(?:局|委|办|中心|所|站)|"
                           r"(?:我|本)(?:局|委|办|中心|所|站)[^。]{0,30}?(?:区|县|旗)委、?(?:区|县|旗)(?:人民)?政府"), "department-county"))
_SOURCE_LABELS = ("来源", "文章来源", "信息来源", "发布机构")
_RELATIVE_DEPTH = {"省": "province", "市": "city", "州": "city", "县": "county", "区": "county", "旗": "county"}


_GENERIC_UNIT = re.compile(r"(?:街道|乡|镇)(?:人民政府|政府|办事处)?(?:办公室)?|街道办事处|办事处")
_FREE_TRADE_ZONE = re.compile(r"^中国[(（](?P<province>[^()（）]{2,3})[)）]自由贸易试验区")
_PROVINCE_RELATIVE = ("自治区", "省")  # a name made from inside its province: 自治区北部湾办, 省政府法制办
_DISTRICT_AFTER = re.compile(r"^[\u4e00-\u9fff]{2,3}[区县]")
_ZONE = re.compile(r"新区|高新区|开发区|园区|管理区|试验区|实验区|城区|市区|景区|社区|片区|辖区|小区|[东西南北中]区")


def _short_place_at_start(agency: str) -> tuple[Mention, ...]:
    """Where a name that starts with a short form is: `中国(福建)自由贸易试验区福州片区…` (a free trade
    zone's piece: the bracketed province, then the city its piece is named after), `武汉东湖新技术开发区`."""
    zone = _FREE_TRADE_ZONE.match(agency)
    start, province = (zone.end(), province_short_names().get(zone.group("province"))) if zone else (0, None)
    city = None if _TOWNSHIP.search(agency) else _short_name_at(agency, start, city_short_names())  # 朝阳乡: no
    if city:
        return (city,)
    return (Mention(0, zone.end(), zone.group("province"), (province,)),) if province else ()


def _short_name_at(text: str, start: int, shorts: dict[str, Place]) -> Mention | None:
    """The short name (湖北, 武汉, 内蒙古) that `text` has at `start`, longest first."""
    short = next((text[start:start + size] for size in (3, 2) if text[start:start + size] in shorts), None)
    return Mention(start, start + len(short), short, (shorts[short],)) if short else None


def _branch_place(agency: str) -> tuple[Mention, ...]:
    """Where a national body's branch serves, named right after the body (`国家统计局湖北调查总队`,
    `国家税务总局湖北省税务局`, `中国人民银行武汉分行`); empty for the body itself or another name."""
    national = _NATIONAL_BODY.match(agency)
    if not national or national.end() == len(agency):
        return ()
    rest = agency[national.end():]
    named = mentions(rest, short_names=True)
    if named and named[0].start == 0:
        return named[:1]
    province = _short_name_at(rest, 0, province_short_names())
    return (province,) if province else ()


def _level(agency: str | None, place_: Place | None, relative: str | None = None,
           speaks_as: str | None = None) -> str | None:
    """The manifest's level words: national-ministry, province, city, county, township, department-<level>.

    A relative name tells the level without the place: 市人力资源社会保障局 is department-city;
    so does a report that names no agency but speaks as 本街道, 我厅 or 我部 (`speaks_as`, a level).
    """
    if agency is None and relative:
        rest = relative[1:]
        depth = _RELATIVE_DEPTH[relative[0]]
        return "township" if _TOWNSHIP.search(relative) else (depth if _GOVERNMENT_REST.match(rest) else f"department-{depth}")
    if agency is None:
        return speaks_as
    if _TOWNSHIP.search(agency):
        return "township"
    if agency.startswith(_PROVINCE_RELATIVE) and not mentions(agency, short_names=True):
        rest = agency.removeprefix("自治区").removeprefix("省")
        return "province" if _GOVERNMENT_REST.match(rest) else "department-province"
    if branch := _branch_place(agency):  # a national body's branch: a department where it serves
        return f"department-{branch[0].holders[0].level}" if len({p.level for p in branch[0].holders}) == 1 else None
    named = mentions(agency, short_names=True)
    if not named and _NATIONAL.search(agency):
        return "national-ministry"
    if place_ is None:  # same-named divisions (两个和平区) still share a level
        levels = {p.level for p in named[-1].holders} if named else set()
        if len(levels) != 1:
            return None
        depth = levels.pop()
    else:
        depth = place_.level
    if place_ and depth == "city" and region_names(place_)[0] in MUNICIPALITIES:
        depth = "province"
    rest = agency[named[-1].end:] if named and named[0].start == 0 else agency
    if depth == "city" and agency.endswith(("分局", "分中心")):  # a city body's branch serves a district: 淄博市公安局高新区分局
        return "department-county"
    district = _DISTRICT_AFTER.match(rest) if depth == "city" and named else None
    if district and not _ZONE.search(district.group()):  # 深圳市龙华区…中心: a district newer than the table
        return "county" if _GOVERNMENT_REST.match(rest[district.end():]) else "department-county"
    return depth if _GOVERNMENT_REST.match(rest) else f"department-{depth}"


def _self_reference(reading: _Reading) -> _Found | None:
    """Where a report that names no agency speaks as what it is: its value the level (本街道 and 我乡
    a township, 我厅 a provincial department, 我部 a ministry)."""
    rules = ((_SELF_TOWNSHIP, "township"), *_SELF_LEVEL)
    for number, line in reading.body[:40]:
        for rule, level in rules:
            if match := rule.search(line):
                return _Found(level, number, _window(line, match.start(), match.end()))
    return None


# --- edition and publication date -----------------------------------------------------------------


def template_of(text: str, year: int | None) -> str | None:
    """`new` for the 2019 revision's tables (both editions), `old` before: from the tables, else the year."""
    edition = _edition(text, year)
    return None if edition is None else ("old" if edition.value == "old" else "new")


def _edition(text: str, year: int | None, year_found: _Found | None = None) -> _Found | None:
    """The template edition: the statistics tables as `stats.detect_edition` reads them (their line
    as evidence: the first that holds the edition's own header words), else the year."""
    tables = detect_edition(text)
    if tables == "old":
        return _Found("old", 0, "old-template tables")
    if tables in _EDITION_WORDS:
        words = _EDITION_WORDS[tables]
        for number, line in enumerate(text.splitlines(), start=1):
            compact = "".join(line.split())
            marker = next((w for w in words if w in compact), None)
            if marker:
                return _Found(tables, number, marker)
        return _Found(tables, 0, f"{tables} tables")
    if year is None:
        return None
    edition = "old" if year < 2019 else ("2019" if year < 2021 else "2021")
    if year_found:
        return _Found(edition, year_found.line, year_found.text)
    return _Found(edition, 0, str(year))


def _published(reading: _Reading, titles: list[tuple[_Found, int]]) -> _Found | None:
    """The date the page or the report states it was issued: a labelled page field; else a date
    standing alone under a title (after the agency's line, if it signs there), at the end, or
    anywhere in the page header; else a page's stamp or byline right under a title (a repost's own
    date comes last: it is not the report's)."""
    for labels in _PUBLISHED_LABELS:
        for page_field in reading.fields:
            if page_field.label in labels and (date := parse_date(page_field.value)):
                return _Found(date, page_field.line, page_field.value)
            if labels is _PUBLISHED_LABELS[0] and page_field.label in _PUBLISHED_LABELS[2] \
                    and (date := time_stamp_date(page_field.value)):  # `时间:2017-01-05 18:05`: the page's stamp
                return _Found(date, page_field.line, page_field.value)
    under_titles = [(u.line, u.text.lstrip("•·*-")) for _, i in titles  # the two pieces under a title, past its widgets
                    for u in [u for u in reading.units[i + 1:i + 7] if not u.furniture][:2]]
    lines = reading.text.splitlines()
    tail = [(n, normalize(piece)) for n in range(len(lines), max(0, len(lines) - 6), -1)
            for piece in reversed(re.split(r"\s{2,}|\s(?=\S+\s*\|?\s*$)", lines[n - 1].strip(" |")))]
    header = [(u.line, u.text.lstrip("•·*-")) for u in reading.units[:12]]
    for number, piece in under_titles + tail + header:
        if date := signature_date(piece):
            return _Found(date, number, piece)
    for number, piece in under_titles:  # a page's stamp under its title (`2021-02-07 18:07`, `门户网站 2023-01-28`)
        if date := byline_date(piece):
            return _Found(date, number, piece)
    for number, piece in header:  # a page's time stamp (2021-01-22 08:37)
        if date := time_stamp_date(piece):
            return _Found(date, number, piece)
    return None


# --- entry point -----------------------------------------------------------------------------------


def extract_metadata(text: str) -> Metadata:
    """Everything the text says about who reported on which year, where, and where it says it."""
    reading = _Reading.of(text)
    flat = normalize(text[:_OPENING])
    titles = _titles(reading)
    title = titles[0][0] if titles else None
    agency, relative = _agency(reading, titles, flat)
    year = _year(reading, title)
    place_, place_found = _region(agency, title, reading, flat)
    province, city, county, adcode = region_names(place_)
    edition = _edition(text, year.value if year else None, year)
    published = _published(reading, titles)
    own = None if agency or relative else _self_reference(reading)
    level = _level(agency.value if agency else None, place_, str(relative.value) if relative else None,
                   str(own.value) if own else None)
    found = {"title": title, "agency": agency, "year": year, "published": published, "edition": edition,
             "template": edition, "level": (agency or relative or own) if level else None}
    found |= {key: place_found for key, value in
              (("province", province), ("city", city), ("county", county), ("adcode", adcode)) if value}
    return Metadata(
        title=str(title.value) if title else None,
        agency=str(agency.value) if agency else None,
        year=int(year.value) if year else None,
        province=province, city=city, county=county, adcode=adcode,
        template=None if edition is None else ("old" if edition.value == "old" else "new"),
        level=level,
        edition=str(edition.value) if edition else None,
        published=str(published.value) if published else None,
        evidence={key: value.evidence() for key, value in found.items() if value is not None},
    )
