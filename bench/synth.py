"""A synthetic corpus of annual reports, recombined from the five sample reports.

Why: the benches need tens of thousands of realistic reports (the genre's boilerplate, its
tables, its extraction damage) and only five real ones ship with the project. Each report
takes the sample paragraphs of each section kind, renames the sample agencies and places
after a real division from cpca's table, shifts the years into 2017–2023, redraws the
numbers, and breaks a few words across page breaks. Report i depends only on (seed, i), so
a bigger corpus contains every report of a smaller one with the same seed.

    python bench/synth.py OUT_DIR --reports 20000 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.parse.sections import is_table_row, split_sections  # noqa: E402

SAMPLES_DIR = ROOT / "corpus"
YEARS = range(2017, 2024)
TARGET_CHARS = (4200, 5800)
TABLE_SHARE = 0.7  # reports that keep their statistics tables
PROBLEMS_SHARE = 0.75  # reports that keep a problems section
DAMAGE_SHARE = 0.15  # prose paragraphs broken across a page break
COMPACT_SHARE = 0.25  # reports with one line per paragraph (no blank lines), like sample 002

DEPARTMENTS = (
    "人民政府", "人民政府办公室", "商务局", "教育局", "财政局", "公安局", "民政局", "司法局",
    "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局",
    "农业农村局", "卫生健康委员会", "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局",
    "机关事务管理局", "发展和改革局", "文化旅游体育局", "退役军人事务局", "林业和草原局",
    "城市管理局", "科学技术局", "工业和信息化局", "经济技术合作局",
)

# What the samples call their own agencies and places, longest first, and which slot replaces it.
_NAMES = {
    "宁夏回族自治区": "province",
    "灵武市商务和经济技术合作局": "agency", "固原市经济技术合作局": "agency", "淮北市商务局": "agency",
    "沙坡头区机关事务局": "agency",
    "市商务和经合局": "short", "机关事务局": "short", "市商务局": "short",
    "灵武市人民政府": "government", "沙坡头区人民政府": "government", "固原市人民政府": "city_government",
    "灵武市": "county", "沙坡头区": "county", "银川市": "city", "固原市": "city", "淮北市": "city", "中卫市": "city",
    "自治区": "province_kind", "宁夏": "province_short", "灵武": "county_short", "沙坡头": "county_short",
    "银川": "city_short", "固原": "city_short", "淮北": "city_short", "中卫": "city_short",
}
_NAME_RE = re.compile("|".join(sorted(_NAMES, key=len, reverse=True)))
_NUMBER = re.compile(r"\d+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HEADING_NUMBER = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*")
_ITEM_START = re.compile(r"^(?:[(（]\s*[一二三四五六七八九十\d]+\s*[)）]|\d+\s*[、.．]|[一二三四五六七八九十]+是)")
_SENTENCE_END = tuple("。！？!?；;")
_NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"]
_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市")


@dataclass
class Block:
    """A prose paragraph or a run of table rows from one sample."""

    text: str
    year: int
    table: bool


@dataclass
class SectionPool:
    headings: list[tuple[str, int]] = field(default_factory=list)
    prose: list[Block] = field(default_factory=list)
    tables: list[Block] = field(default_factory=list)


@dataclass
class Place:
    adcode: str
    province: str
    city: str
    county: str


@dataclass
class ReportInfo:
    """What a bench needs to know about a generated report without parsing it."""

    path: str
    agency: str
    year: int
    province: str
    city: str
    county: str
    template: str
    chars: int


def _sample_year(text: str) -> int:
    match = re.search(r"(20\d\d)\s*年", text[:300])
    return int(match.group(1)) if match else 2018


@lru_cache(maxsize=4)
def _pools(samples_dir: str) -> dict[str, dict[str, SectionPool]]:
    """template → section key → what the samples offer for it."""
    pools: dict[str, dict[str, SectionPool]] = {"old": {}, "new": {}}
    for path in sorted(Path(samples_dir).glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        year = _sample_year(text)
        template = "new" if "本年新收政府信息公开申请数量" in re.sub(r"\s", "", text) else "old"
        for section in split_sections(text):
            key = "preamble" if section.number == 0 else section.kind
            if section.number < 0 or "其他需要报告" in section.heading:
                key = "closing"
            prose, table = _blocks(section.text.split("\n", 1)[1] if section.number else section.text)
            pool = pools[template].setdefault(key, SectionPool())
            if section.number > 0:
                pool.headings.append((_HEADING_NUMBER.sub("", section.heading), year))
            pool.prose.extend(Block(t, year, False) for t in prose
                              if section.number >= 0 and not _is_title(t) and "统计表" not in t)
            if table:
                table_key = "appendix" if key == "closing" else key
                pools[template].setdefault(table_key, SectionPool()).tables.append(Block(table, year, True))
    return pools


def _is_title(text: str) -> bool:
    return "报告" in text and len(text) <= 60


def _blocks(body: str) -> tuple[list[str], str]:
    """Whole prose paragraphs (lines joined across the samples' own page breaks) and the table rows.

    A blank line ends a paragraph only after a sentence ends or before a list item, so
    `共组织开展\n\n“政府开放日”活动 24 次` stays one paragraph and a recombined report
    never splits a phrase where the sample did not.
    """
    prose: list[str] = []
    rows: list[str] = []
    current = ""
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if is_table_row(line):
            rows.append(stripped)
            continue
        if current and (current.endswith(_SENTENCE_END) or _ITEM_START.match(stripped)):
            prose.append(current)
            current = ""
        current += stripped
    if current:
        prose.append(current)
    return prose, "\n".join(rows)


@lru_cache(maxsize=1)
def _places() -> list[Place]:
    """Every county-level division in cpca's table with its city and province."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    by_code = {info.adcode[:6]: info.name for info in cpca.ad_2_addr_dict.values()}
    out = []
    for code in sorted(by_code):
        if code[4:6] == "00" or by_code[code] == "市辖区":
            continue
        province = by_code.get(code[:2] + "0000")
        city = by_code.get(code[:4] + "00")
        if not province:
            continue
        if not city or city == "市辖区":
            city = province
        out.append(Place(code, province, city, by_code[code]))
    return out


def _short(name: str) -> str:
    for suffix in _PROVINCE_SUFFIXES + ("县", "区", "旗"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _names(place: Place, department: str, city_level: bool) -> dict[str, str]:
    seat = place.city if city_level else place.county
    prefix = seat[-1] if seat[-1] in "市县区旗" else "市"
    short = f"{prefix}政府" if department.startswith("人民政府") else prefix + department
    province_kind = "省" if place.province.endswith("省") else ("市" if place.province.endswith("市") else "自治区")
    return {
        "agency": seat + department, "short": short, "government": seat + "人民政府",
        "city_government": place.city + "人民政府", "county": seat, "city": place.city,
        "province": place.province, "province_kind": province_kind, "province_short": _short(place.province),
        "county_short": _short(seat), "city_short": _short(place.city),
    }


class _Rewriter:
    """Names, years and numbers of one generated report."""

    def __init__(self, rng: random.Random, names: dict[str, str], year: int) -> None:
        self.rng = rng
        self.names = names
        self.year = year

    def __call__(self, block: Block) -> str:
        text = _NAME_RE.sub(lambda m: self.names[_NAMES[m.group(0)]], block.text)
        shift = self.year - block.year
        return _NUMBER.sub(lambda m: self._number(m, shift), text)

    def _number(self, match: re.Match[str], shift: int) -> str:
        digits = match.group(0)
        value = int(digits)
        if len(digits) == 4 and 2000 <= value <= 2030:
            return str(value + shift)
        text, start, end = match.string, match.start(), match.end()
        before, after = text[start - 1: start], text[end: end + 2].lstrip()[:1]
        if len(digits) > 4 or before and before in "(（" or after and after in ".、．)）月日%":
            return digits  # list markers, dates, shares, phone numbers, post codes
        if value == 0 and self.rng.random() < 0.7:
            return digits
        low = 10 ** (len(digits) - 1) if len(digits) > 1 else 0
        return str(self.rng.randint(low, 10 ** len(digits) - 1))


def _damage(text: str, rng: random.Random) -> str:
    """Break the paragraph across a page break between two CJK characters, as PDF extraction does."""
    if len(text) < 20 or rng.random() >= DAMAGE_SHARE:
        return text
    for _ in range(8):
        pos = rng.randrange(5, len(text) - 5)
        if _CJK.match(text[pos - 1]) and _CJK.match(text[pos]):
            return text[:pos] + "\n\n" + text[pos:]
    return text


def _outline(template: str, rng: random.Random, tables: bool, problems: bool) -> list[str]:
    if template == "new":
        keys = ["overview", "proactive", "requests", "review_litigation"]
        if problems:
            keys.append("problems")
        return keys + ["closing"]
    keys = ["overview", "proactive"]
    keys += [k for k in ("interpretation", "responses") if rng.random() < 0.6]
    keys.append("requests")
    keys += [k for k in ("fees", "review_litigation") if rng.random() < 0.7]
    keys += ["other"] * rng.randint(0, 3)
    if problems:
        keys.append("problems")
    if rng.random() < 0.6:
        keys.append("plans")
    keys.append("closing")
    if tables:
        keys.append("appendix")
    return keys


def report_text(i: int, seed: int, samples_dir: Path = SAMPLES_DIR) -> tuple[str, ReportInfo]:
    """The text of report `i` and what it is about; depends only on (seed, i)."""
    rng = random.Random(f"{seed}:{i}")
    places = _places()
    place = rng.choice(places)
    department = rng.choice(DEPARTMENTS)
    city_level = place.city != place.province and rng.random() < 0.3
    year = rng.choice(YEARS)
    template = "new" if year >= 2020 or (year == 2019 and rng.random() < 0.7) else "old"
    pools = _pools(str(samples_dir))[template]
    other_pools = _pools(str(samples_dir))["old" if template == "new" else "new"]
    names = _names(place, department, city_level)
    rewrite = _Rewriter(rng, names, year)
    tables, problems = rng.random() < TABLE_SHARE, rng.random() < PROBLEMS_SHARE
    target = rng.randint(*TARGET_CHARS)

    def pool(key: str) -> SectionPool:
        return pools.get(key) or other_pools.get(key) or SectionPool()

    sections: list[tuple[str, list[str]]] = []
    used: set[int] = set()
    for key in _outline(template, rng, tables, problems):
        section_pool = pool(key)
        blocks: list[str] = []
        if key in ("proactive", "requests", "review_litigation", "appendix") and tables and section_pool.tables:
            blocks.append(rewrite(rng.choice(section_pool.tables)))
        fresh = [b for b in section_pool.prose if id(b) not in used]
        if fresh and (not blocks or key == "proactive" and template == "old"):
            chosen = rng.sample(fresh, min(len(fresh), rng.randint(1, 4 if key != "overview" else 8)))
            used.update(id(b) for b in chosen)
            blocks += [_damage(rewrite(b), rng) for b in chosen]
        if not blocks and key != "appendix":
            blocks.append(rewrite(rng.choice(pool("closing").prose)))
        if key == "appendix":
            heading = f"附件：{names['agency']}政府信息公开情况统计表"
        else:
            heading = rewrite(Block(*rng.choice(section_pool.headings or pool("other").headings), False))
        sections.append((heading, blocks))

    filler = [b for b in pool("overview").prose + pool("other").prose if id(b) not in used]
    rng.shuffle(filler)
    length = sum(len(h) + sum(len(b) + 2 for b in blocks) for h, blocks in sections)
    while length < target and filler:
        extra = _damage(rewrite(filler.pop()), rng)
        sections[0][1].append(extra)
        length += len(extra) + 2

    spaced = rng.random() < 0.5
    title = f"{names['agency']} {year} 年政府信息公开工作年度报告" if spaced else \
        f"{names['agency']}{year}年度政府信息公开工作报告"
    preamble = [rewrite(b) for b in pool("preamble").prose]
    preamble = [rng.choice(preamble)] if preamble else []
    gap = "\n" if rng.random() < COMPACT_SHARE else "\n\n"
    parts = [title, *preamble]
    number = 0
    for heading, blocks in sections:
        if not heading.startswith("附件"):
            heading = f"{_NUMERALS[number]}、{heading}"
            number += 1
        parts.append(heading)
        parts.extend(blocks)
    text = "\n\n" + gap.join(parts) + "\n"
    info = ReportInfo("", names["agency"], year, place.province, place.city, place.county, template, len(text))
    return text, info


def _write_range(out_dir: str, start: int, stop: int, seed: int, samples_dir: str) -> list[dict]:
    infos = []
    for i in range(start, stop):
        text, info = report_text(i, seed, Path(samples_dir))
        path = Path(out_dir) / f"{i:06d}_{info.year}.txt"
        path.write_text(text, encoding="utf-8")
        info.path = str(path)
        infos.append(asdict(info))
    return infos


def generate(out_dir: Path, n: int, seed: int = 7, *, samples_dir: Path = SAMPLES_DIR,
             workers: int | None = None) -> list[ReportInfo]:
    """Write reports 0..n-1 as `OUT_DIR/NNNNNN_YEAR.txt`; returns their metadata in order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    chunk = 500
    ranges = [(i, min(i + chunk, n)) for i in range(0, n, chunk)]
    if workers <= 1 or n <= chunk:
        results = [_write_range(str(out_dir), a, b, seed, str(samples_dir)) for a, b in ranges]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_write_range, str(out_dir), a, b, seed, str(samples_dir)) for a, b in ranges]
            results = [f.result() for f in futures]
    return [ReportInfo(**info) for part in results for info in part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--manifest", action="store_true", help="also write manifest.json with each report's metadata")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    infos = generate(args.out_dir, args.reports, args.seed)
    chars = sum(i.chars for i in infos)
    if args.manifest:
        (args.out_dir / "manifest.json").write_text(
            json.dumps([asdict(i) for i in infos], ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(infos)} reports, {chars / 1e6:.1f} M chars ({chars / max(len(infos), 1):.0f} per report) "
          f"in {time.perf_counter() - started:.1f} s -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
