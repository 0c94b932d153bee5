"""Agency identity across years: one stable key per agency, and the user's aliases.

An agency writes its name a little differently from year to year (市人力资源和社会保障局 /
市人力资源社会保障局, 人民政府办公室 / 政府办公室, with or without its region in front, an
autonomous area in full or short). The key is the report's region code (adcode) plus the name
with those variants folded away, so the years of one agency meet under one key:
``640181:商务局``. A report whose region is unknown keeps its whole name (``?:淮北市商务局``):
its region is not guessed. Renamed or merged bodies are joined by aliases the user records
(`nianbao agency alias`); they are keyed by agency keys, not report ids, so they survive
re-indexing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from .normalize import normalize
from .store import Store

UNKNOWN_REGION = "?"
_KEY = re.compile(r"^(?:\d{6}|\?):.")

# The 55 minority nationalities, as autonomous areas' names carry them (宁夏回族自治区, 恩施土家族苗族自治州).
_ETHNIC = ("蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 "
           "景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 "
           "德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺").split()
_AUTONOMOUS = re.compile(r"^(.{2,}?)(?:(?:%s)族?)*自治(区|州|县|旗)$" % "|".join(sorted(_ETHNIC, key=len, reverse=True)))
_PLACE_SUFFIX = re.compile(r"^(.{2,}?)(省|市|县|区|旗|盟|州|特别行政区)$")
# Department wording that varies without changing the body: (pattern, replacement), applied in order.
_VARIANTS = (
    (re.compile(r"^中华人民共和国"), ""),
    (re.compile(r"人民政府"), "政府"),
    (re.compile(r"(?<=[\u4e00-\u9fff]{2})和(?=[\u4e00-\u9fff]{2})"), ""),  # 人力资源和社会保障 / 人力资源社会保障
    (re.compile(r"委员会$"), "委"),
)
# Short forms in common use for a few departments, on the already folded name.
_ABBREVIATIONS = {
    "人社局": "人力资源社会保障局",
    "发改委": "发展改革委",
    "发改局": "发展改革局",
    "卫健委": "卫生健康委",
    "卫健局": "卫生健康局",
    "住建局": "住房城乡建设局",
    "市场监管局": "市场监督管理局",
    "文旅局": "文化旅游局",
    "政府办": "政府办公室",
}


def place_forms(name: str | None) -> list[str]:
    """A division's name as reports write it: in full, without its 自治 part, without its suffix."""
    if not name:
        return []
    forms = {name}
    auto = _AUTONOMOUS.match(name)
    if auto:
        base, kind = auto.groups()
        forms |= {base, base + "自治" + kind} | ({base + kind} if kind != "区" else set())
    elif plain := _PLACE_SUFFIX.match(name):
        forms.add(plain.group(1))
    return sorted(forms, key=len, reverse=True)


@lru_cache(maxsize=65536)
def _folded(name: str, places: tuple[str | None, ...]) -> str:
    """The name without its region written in front (in any form of `places`), wording variants folded."""
    text = normalize(name).replace(" ", "")
    prefixes = [form for place in places for form in place_forms(place)]
    prefixes.sort(key=len, reverse=True)
    while text not in prefixes:
        prefix = next((p for p in prefixes if text.startswith(p) and len(text) > len(p)), None)
        if prefix is None:
            break
        text = text[len(prefix):]
    if text in prefixes:  # the agency is the place itself: its government (灵武市 / 灵武市人民政府)
        text = "政府"
    for pattern, replacement in _VARIANTS:
        text = pattern.sub(replacement, text)
    for short, full in _ABBREVIATIONS.items():
        if text.endswith(short):
            text = text[: -len(short)] + full
    return text


def agency_key(report: dict) -> str | None:
    """The agency key of a report in the `reports --json` shape; None when its agency is unknown."""
    agency = (report.get("agency") or "").strip()
    if not agency:
        return None
    adcode = report.get("adcode")
    if not adcode:
        return f"{UNKNOWN_REGION}:{_folded(agency, ())}"
    region = report["region"]
    return f"{adcode}:{_folded(agency, (region['province'], region['city'], region['county']))}"


@dataclass
class Agency:
    """One agency: its key, the name its latest report gives it, and its reports (oldest first)."""

    key: str
    name: str
    region: dict
    reports: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # its own key and every key aliased to it

    def years(self) -> list[int]:
        return sorted({r["year"] for r in self.reports if r["year"] is not None})

    def to_json(self) -> dict:
        return {"key": self.key, "name": self.name, "region": self.region, "aliases": self.keys[1:],
                "years": self.years(), "reports": len(self.reports)}


class AgencyError(Exception):
    """An agency name, key or report id that names no agency, or more than one."""


def _root(key: str, aliases: dict[str, str]) -> str:
    seen = {key}
    while key in aliases and aliases[key] not in seen:
        key = aliases[key]
        seen.add(key)
    return key


def group_reports(reports: list[dict], aliases: dict[str, str]) -> dict[str, Agency]:
    """Reports grouped into agencies (aliases applied); reports without an agency are left out."""
    groups: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for report in reports:
        key = agency_key(report)
        if key is not None:
            groups[_root(key, aliases)].append((key, report))
    agencies = {}
    for root, members in groups.items():
        members.sort(key=lambda m: (m[1]["year"] is None, m[1]["year"] or 0, m[1]["id"]))
        latest = members[-1][1] if members[-1][1]["year"] is not None else members[0][1]
        own = sorted({k for k, _ in members} - {root})
        agencies[root] = Agency(root, latest["agency"], latest["region"], [r for _, r in members], [root, *own])
    return agencies


def agencies(store: Store) -> dict[str, Agency]:
    """Every agency of the visible reports, by key."""
    with store.snapshot():
        return group_reports(store.reports(), store.agency_aliases())


def _by_key(store: Store, key: str) -> Agency | None:
    """The agency of a key, reading only the reports of its regions (and of the keys joined to it)."""
    with store.snapshot():
        aliases = store.agency_aliases()
        root = _root(key, aliases)
        members = {root} | {k for k in aliases if _root(k, aliases) == root}
        adcodes = {m.split(":", 1)[0] for m in members}
        reports = store.reports_in_regions(None if a == UNKNOWN_REGION else a for a in adcodes)
    return group_reports(reports, aliases).get(root)


def find_agency(store: Store, name: str) -> Agency:
    """The agency a key, a report id (or unique prefix), an agency name or part of one names."""
    if not name.strip():
        raise AgencyError("give an agency: a name, a key (`nianbao agencies`) or a report id")
    if _KEY.match(name) and (agency := _by_key(store, name)) is not None:
        return agency
    found = agencies(store)
    report_id = store.resolve_id(name)
    if report_id:
        for agency in found.values():
            if any(r["id"] == report_id for r in agency.reports):
                return agency
        raise AgencyError(f"report {report_id} has no known agency")
    wanted = normalize(name).replace(" ", "")
    exact = [a for a in found.values() if any(normalize(r["agency"]).replace(" ", "") == wanted for r in a.reports)]
    matches = exact or [a for a in found.values() if any(wanted in normalize(r["agency"]) for r in a.reports)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AgencyError(f"no agency named '{name}' (see `nianbao agencies`)")
    listed = ", ".join(f"{a.key} ({a.name})" for a in sorted(matches, key=lambda a: a.key)[:5])
    raise AgencyError(f"'{name}' names {len(matches)} agencies: {listed}{' …' if len(matches) > 5 else ''}; give a key")


def add_alias(store: Store, target: str, other: str) -> tuple[Agency, Agency]:
    """Join agency `other` into agency `target` (each a key, report id or name); returns both."""
    into, joined = find_agency(store, target), find_agency(store, other)
    if into.key == joined.key:
        raise AgencyError(f"'{target}' and '{other}' are already one agency ({into.key})")
    store.set_agency_alias(joined.key, into.key)
    return into, joined


def remove_alias(store: Store, key: str) -> None:
    """Undo an alias: `key` is its own agency again."""
    if key not in store.agency_aliases():
        raise AgencyError(f"no alias for '{key}' (see `nianbao agencies --json`, field aliases)")
    store.remove_agency_alias(key)
