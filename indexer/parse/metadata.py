"""Report metadata: title, agency, covered year, region, template.

A field that cannot be determined is None: a journalist filtering by province must never
get a report placed there by a guess.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, asdict
from functools import lru_cache

from ..normalize import normalize

_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d\d)年(?:度)?")
_PERIOD = re.compile(r"统计期限[为自是:]*((?:19|20)\d\d)年")
_PLACE_SUFFIXES = ("省", "市", "县", "区", "旗", "自治区", "自治州", "自治县", "州", "盟")
_AGENCY_IN_TEXT = re.compile(
    r"([\u4e00-\u9fff]{2,30}?(?:人民政府办公室|人民政府办公厅|人民政府|委员会|办公室|局|厅|委|院|中心|署|部))"
    r"(?:(?:19|20)\d\d年|根据|按照|依据)"
)


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

    def to_dict(self) -> dict:
        return asdict(self)


def _title(text: str) -> str | None:
    """The first line that names a report; a title broken over two lines is joined."""
    lines = [normalize(l) for l in text.splitlines()[:12] if l.strip()][:6]
    for i, line in enumerate(lines):
        if "报告" in line and len(line) <= 60:
            return line
        if i + 1 < len(lines) and "报告" in line + lines[i + 1] and len(line + lines[i + 1]) <= 60 \
                and "报告" not in lines[i + 1][:2] and not line.endswith("。"):
            if "报告" in lines[i + 1] and not lines[i + 1].startswith(("本", "根据", "按照")):
                return line + lines[i + 1]
    return None


@lru_cache(maxsize=1)
def _gazetteer():
    """cpca's division table, and each division name's holders, for spotting ambiguous names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    by_name: dict[str, list] = {}
    by_code = {}
    for info in cpca.ad_2_addr_dict.values():
        by_name.setdefault(info.name, []).append(info)
        by_code[info.adcode] = info
    return cpca, by_name, by_code


def _names_for(adcode: str) -> tuple[str | None, str | None, str | None]:
    _, _, table = _gazetteer()
    province = table.get(adcode[:2] + "0000")
    city = table.get(adcode[:4] + "00") if adcode[2:4] != "00" else None
    county = table.get(adcode) if adcode[4:6] != "00" else None
    return (province.name if province else None,
            city.name if city and city.name != "市辖区" else None,
            county.name if county else None)


@lru_cache(maxsize=4096)
def _cpca_adcode(agency: str) -> str | None:
    """cpca's adcode for a name, as `cpca.transform([agency])` gives it.

    transform wraps one record per name in a pandas frame, which cost ~10 ms a report, more
    than the rest of parsing; the record comes from `_get_one_addr` (cpca is pinned at 0.5.5),
    so that is called directly where it exists.
    """
    cpca = _gazetteer()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if hasattr(cpca, "_get_one_addr"):
            adcode = cpca._get_one_addr(agency, False, {})["adcode"]
        else:
            adcode = cpca.transform([agency]).iloc[0]["adcode"]
    return adcode[:6] if isinstance(adcode, str) else None


def resolve_region(agency: str, context: str = "") -> tuple[str | None, str | None, str | None, str | None]:
    """(province, city, county, adcode) for an agency name; ambiguous names stay None.

    cpca picks one of several same-named districts (朝阳区 is in Beijing and Changchun);
    we accept its pick only if the agency name or the report's opening text names the parent.
    """
    _, by_name, _ = _gazetteer()
    adcode = _cpca_adcode(agency)
    if not isinstance(adcode, str) or not adcode:
        return None, None, None, None
    province, city, county = _names_for(adcode)
    holders = by_name.get(county or city or "", [])
    if len(holders) > 1:
        parent = (city or province) if county else province
        named = parent and any(p in agency or p in context for p in {parent, parent.rstrip("省市")} if len(p) >= 2)
        if not named:
            regions = [_names_for(h.adcode) for h in holders]
            in_context = [(r, h.adcode) for r, h in zip(regions, holders) if (r[1] or r[0]) and (r[1] or r[0]) in context]
            if len(in_context) == 1:
                (province, city, county), adcode = in_context[0]
                return province, city, county, adcode
            province = province if len({r[0] for r in regions}) == 1 else None
            city = city if county and len({r[1] for r in regions}) == 1 else None
            county = adcode = None
    return province, city, county, adcode


def _agency(title: str | None, text: str) -> str | None:
    if title:
        match = _YEAR_IN_TITLE.search(title)
        prefix = title[: match.start()] if match else title.split("政府信息公开")[0]
        prefix = prefix.strip(" 《》“”\"")
        if 2 <= len(prefix) <= 40:
            if prefix.endswith(_PLACE_SUFFIXES) and not prefix.endswith(("局", "委")):
                by_name = _gazetteer()[1]
                if prefix in by_name or prefix.rstrip("市县区") in by_name:
                    return prefix + "人民政府"
            return prefix
    match = _AGENCY_IN_TEXT.search(normalize(text[:3000]))
    return match.group(1) if match else None


def _year(title: str | None, text: str) -> int | None:
    if title:
        match = _YEAR_IN_TITLE.search(title)
        if match:
            return int(match.group(1))
    match = _PERIOD.search(normalize(text[:5000]))
    return int(match.group(1)) if match else None


def template_of(text: str, year: int | None) -> str | None:
    """`new` for the 2019 revision's tables, `old` before: from the tables, else from the year covered."""
    from ..stats import detect_template

    found = detect_template(text)
    if found or year is None:
        return found
    return "new" if year >= 2019 else "old"


def extract_metadata(text: str) -> Metadata:
    title = _title(text)
    agency = _agency(title, text)
    year = _year(title, text)
    province = city = county = adcode = None
    if agency:
        province, city, county, adcode = resolve_region(agency, normalize(text[:2000]))
    return Metadata(title, agency, year, province, city, county, adcode, template_of(text, year))
