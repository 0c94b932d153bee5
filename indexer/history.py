"""One agency across the years: repeated text, section diffs, numbers that do not carry over.

Why: the stories are in the sequence. A report that repeats last year's text (local assessment
rules deduct points above 50 % repetition), a 上年结转 that is not last year's 结转下年度.

Repeated text is measured in sentences of the narrative (prose paragraphs; tables are numbers,
not text). A sentence is cut at 。！？；, and compared with its digits masked and its agency's
region masked in any written form (灵武市 / 宁夏回族自治区灵武市), so a sentence whose numbers
changed is still the same sentence (a journalist wants to see those), and a template sentence
naming each agency's place is one sentence.

- **Template text** is a sentence that more than half of all agencies print (the rule of
  `semantic.copies.boilerplate_agencies`, without its cap, at least 2 agencies). It is no one's
  copying, so `repeat_rate` leaves it out. Agencies are counted by their own key (aliases aside).
  The set is saved in the store per published generation, and each report's sentence
  fingerprints once per report: the first `history` or `repeats` after an index reads every
  report's prose, later ones only compare saved arrays.
- **repeat_rate** of a report: the characters of its non-template sentences that also occur in
  the agency's previous report (the latest earlier year), over all its non-template characters;
  None for an agency's first report or when no non-template narrative is left.
- **Sections**: per section kind, a sentence-level diff (`difflib`) of the two reports: characters
  unchanged, added this year, removed since last year (template sentences included: this is the
  diff as a reader sees it).
- **Cross-year checks** (`CROSS_YEAR_CHECKS`) need the report of exactly the year before; a year
  or a cell that is missing makes a check `missing`, never a mismatch.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import groupby

import numpy as np

from .agencies import Agency, agency_key, find_agency, group_reports, place_forms
from .core.filters import SearchFilters
from .core.kinds import SECTION_KINDS
from .core.shapes import report_summary
from .normalize import normalize
from .semantic.copies import boilerplate_agencies
from .stats.indicators import INDICATORS
from .store import Store

TEMPLATE_CACHE = "template_sentences"
TEMPLATE_SHARE = 0.5
_SENTENCE = re.compile(r"[^。！？；!?;]+[。！？；!?;]*")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")

CARRY_IN, CARRY_OUT = "new.requests.carried_in.total", "new.requests.carried_over.total"
_ART20 = "new.art20."
ITEM_CHAIN_ITEMS = tuple(k[len(_ART20):-len(".prev_items")] for k in INDICATORS
                         if k.startswith(_ART20) and k.endswith(".prev_items") and k.replace(".prev_items", ".change") in INDICATORS)
STOCK_CHAIN_ITEMS = tuple(k[len(_ART20):-len(".in_force")] for k in INDICATORS
                          if k.startswith(_ART20) and k.endswith(".in_force")
                          and {k.replace(".in_force", ".issued"), k.replace(".in_force", ".repealed")} <= set(INDICATORS))


def _item_label(item: str) -> str:
    key = next(k for k in INDICATORS if k.startswith(f"{_ART20}{item}."))
    return INDICATORS[key].label.split(" / ")[0]


CROSS_YEAR_CHECKS: dict[str, str] = {
    "carry_over": "二、上年结转（本年）= 四、结转下年度继续办理（上年）",
    **{f"items.{item}": f"{_item_label(item)}：上一年项目数量（本年）= 上一年项目数量（上年）+ 本年增/减（上年）"
       for item in ITEM_CHAIN_ITEMS},
    **{f"in_force.{item}": f"{_item_label(item)}：现行有效件数（本年）= 现行有效件数（上年）+ 本年制发件数（本年）− 本年废止件数（本年）"
       for item in STOCK_CHAIN_ITEMS},
}


# --- sentences -------------------------------------------------------------------------


@dataclass
class Sentence:
    kind: str        # the section kind it stands in
    text: str        # normalised
    masked: str      # digits and the agency's own region masked
    print_: int      # stable 64-bit fingerprint of `masked`


Prints = tuple[np.ndarray, np.ndarray]
"""A report's sentence fingerprints and their lengths in characters: all that bulk work needs."""


@dataclass
class Narrative:
    """A report's narrative sentences."""

    report: dict
    sentences: list[Sentence]

    def prints(self) -> Prints:
        return _prints([s.print_ for s in self.sentences], [len(s.text) for s in self.sentences])


def _prints(prints: list[int], chars: list[int]) -> Prints:
    return np.array(prints, dtype=np.int64), np.array(chars, dtype=np.int64)


def fingerprint(text: str) -> int:
    """Stable across processes (the cache outlives one), unlike `hash`."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _own_places(report: dict) -> re.Pattern[str] | None:
    """The report's own region in any of its written forms, one or several in a row (宁夏回族自治区灵武市)."""
    region = report["region"]
    names = {form for place in (region["province"], region["city"], region["county"]) for form in place_forms(place)}
    names = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
    return re.compile("(?:%s)+" % "|".join(map(re.escape, names))) if names else None


def _mask(text: str, places: re.Pattern[str] | None) -> str:
    text = _DIGITS.sub("0", text)
    return places.sub("〇", text) if places else text


def sentences(text: str) -> list[str]:
    """A normalised text cut into sentences at 。！？；."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _sentences(store: Store, reports: list[dict]) -> Iterator[tuple[str, Sentence]]:
    """(report id, sentence) of the reports' narratives: each section's prose paragraphs joined
    (a sentence may run across a paragraph break), cut into sentences, in reading order."""
    by_id = {r["id"]: r for r in reports}
    ids = list(by_id) if len(by_id) < 500 else None  # a large set: one pass over every paragraph
    places: dict[str, re.Pattern[str] | None] = {}
    with store.snapshot():
        rows = store.prose_rows(ids)
        for (report_id, _, kind), group in groupby(rows, key=lambda row: row[:3]):
            if report_id not in by_id:
                continue
            if report_id not in places:
                places[report_id] = _own_places(by_id[report_id])
            text = normalize("".join(row[3] for row in group))
            # Masked once per section: masks hold no sentence end, so the sentences pair up one to one.
            masked = _mask(text, places[report_id])
            for sentence, masked_sentence in zip(sentences(text), sentences(masked), strict=True):
                yield report_id, Sentence(kind, sentence, masked_sentence, fingerprint(masked_sentence))


def narratives(store: Store, reports: list[dict]) -> dict[str, Narrative]:
    """report id → its narrative sentences."""
    out = {r["id"]: Narrative(r, []) for r in reports}
    for report_id, sentence in _sentences(store, reports):
        out[report_id].sentences.append(sentence)
    return out


def fingerprints(store: Store, reports: list[dict]) -> dict[str, Prints]:
    """report id → its sentences' fingerprints and lengths; computed once per report and saved."""
    saved = store.history_prints([r["id"] for r in reports])
    out = {rid: (np.frombuffer(p, dtype=np.int64), np.frombuffer(c, dtype=np.int64)) for rid, (p, c) in saved.items()}
    missing = [r for r in reports if r["id"] not in out]
    computed: dict[str, tuple[list[int], list[int]]] = {r["id"]: ([], []) for r in missing}
    for report_id, sentence in _sentences(store, missing) if missing else ():
        entry = computed[report_id]
        entry[0].append(sentence.print_)
        entry[1].append(len(sentence.text))
    for rid, entry in computed.items():
        out[rid] = _prints(*entry)
    store.save_history_prints([(rid, out[rid][0].tobytes(), out[rid][1].tobytes()) for rid in computed])
    return out


# --- template sentences ------------------------------------------------------------------


def _template_from(prints: dict[str, Prints], agency_of: dict[str, str]) -> np.ndarray:
    per_agency: dict[str, set[int]] = defaultdict(set)
    for rid, (report_prints, _) in prints.items():
        per_agency[agency_of[rid]].update(report_prints.tolist())
    counts = Counter(p for agency_prints in per_agency.values() for p in agency_prints)
    limit = boilerplate_agencies(len(per_agency), TEMPLATE_SHARE, max_agencies=len(per_agency))
    return np.array(sorted(p for p, n in counts.items() if n > limit), dtype=np.int64)


def _agency_of(reports: list[dict]) -> dict[str, str]:
    return {r["id"]: agency_key(r) or f"report:{r['id']}" for r in reports}


def template_sentences(store: Store, prints: dict[str, Prints] | None = None,
                       reports: list[dict] | None = None) -> np.ndarray:
    """Fingerprints of the sentences more than half of all agencies print (sorted), cached per generation."""
    gen = store.visible_gen()
    cached = store.history_cache(TEMPLATE_CACHE, gen)
    if cached is not None:
        return np.frombuffer(cached, dtype=np.int64)
    if reports is None:
        with store.snapshot():
            reports = store.reports()
    if prints is None:
        prints = fingerprints(store, reports)
    template = _template_from(prints, _agency_of(reports))
    store.save_history_cache(TEMPLATE_CACHE, gen, template.tobytes())
    return template


def repeat_rate(this: Prints, previous: Prints, template: np.ndarray) -> float | None:
    """Share of `this` report's non-template narrative characters found in `previous`."""
    prints, chars = this
    keep = ~np.isin(prints, template)
    total = int(chars[keep].sum())
    if total == 0:
        return None
    found = keep & np.isin(prints, previous[0])
    return round(int(chars[found].sum()) / total, 4)


# --- section diff -----------------------------------------------------------------------


def _by_kind(narrative: Narrative) -> dict[str, list[Sentence]]:
    kinds: dict[str, list[Sentence]] = {}
    for s in narrative.sentences:
        kinds.setdefault(s.kind, []).append(s)
    return kinds


def section_diff(this: Narrative, previous: Narrative, template: np.ndarray | None = None) -> list[dict]:
    """Per section kind: characters same, added and removed, and the passages marked
    (`op` same / added / removed; a same sentence whose numbers changed carries `old_text`)."""
    template_set = set(template.tolist()) if template is not None else set()
    new, old = _by_kind(this), _by_kind(previous)
    kinds = list(new) + [k for k in old if k not in new]
    out = []
    for kind in kinds:
        a, b = old.get(kind, []), new.get(kind, [])
        matcher = SequenceMatcher(None, [s.masked for s in a], [s.masked for s in b], autojunk=False)
        passages: list[dict] = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for s_old, s_new in zip(a[i1:i2], b[j1:j2]):
                    passage = {"op": "same", "text": s_new.text, "template": s_new.print_ in template_set}
                    if s_old.text != s_new.text:
                        passage["old_text"] = s_old.text
                    passages.append(passage)
                continue
            passages += [{"op": "removed", "text": s.text, "template": s.print_ in template_set} for s in a[i1:i2]]
            passages += [{"op": "added", "text": s.text, "template": s.print_ in template_set} for s in b[j1:j2]]
        chars = Counter()
        for p in passages:
            chars[p["op"]] += len(p["text"])
        out.append({"kind": kind, "label": SECTION_KINDS.get(kind, kind), "same_chars": chars["same"],
                    "added_chars": chars["added"], "removed_chars": chars["removed"], "passages": passages})
    return out


def _summary(report: dict) -> dict:
    return report_summary(report, "title")


def diff(store: Store, old_id: str, new_id: str) -> dict:
    """Two reports side by side, section by section (any two reports; usually one agency's years)."""
    ids = []
    for given in (old_id, new_id):
        full = store.resolve_id(given)
        if full is None:
            raise LookupError(f"no report with id '{given}' (see `nianbao reports`)")
        ids.append(full)
    with store.snapshot():
        reports = {r["id"]: r for r in store.reports(ids)}
    texts = narratives(store, list(reports.values()))
    template = template_sentences(store)
    old, new = texts[ids[0]], texts[ids[1]]
    return {"old": _summary(old.report), "new": _summary(new.report),
            "repeat_rate": repeat_rate(new.prints(), old.prints(), template), "sections": section_diff(new, old, template)}


# --- cross-year checks ------------------------------------------------------------------


def _number(value: float | int | None) -> float | int | None:
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass
class _Year:
    report: dict
    values: dict[str, tuple[str, float | None]]  # key → (label, value) as stored

    def cell(self, key: str) -> dict:
        label, value = self.values.get(key, (INDICATORS[key].label if key in INDICATORS else key, None))
        return {"key": key, "label": label, "value": _number(value), "year": self.report["year"],
                "report_id": self.report["id"]}


def _check(check: str, this: _Year, last: _Year | None, found_key: str, terms: list[tuple[int, str, str]]) -> dict:
    """`found_key` in this year against the sum of `terms`: (sign, 'this'|'last', key)."""
    year = this.report["year"]
    found = this.cell(found_key)
    cells = [found]
    missing = []
    if last is None:
        missing.append(f"{year - 1} 年报告")
    for sign, when, key in terms:
        source = this if when == "this" else last
        if source is not None:
            cells.append(source.cell(key))
            if cells[-1]["value"] is None:
                missing.append(f"{source.report['year']} 年“{cells[-1]['label']}”")
    if found["value"] is None:
        missing.insert(0, f"{year} 年“{found['label']}”")
    result = {"check": check, "label": CROSS_YEAR_CHECKS[check], "expected": None, "found": found["value"],
              "cells": cells}
    if missing:
        return {**result, "status": "missing", "message": "无法核对：缺少 " + "、".join(missing)}
    expected = sum(sign * (cell["value"] or 0) for (sign, _, _), cell in zip(terms, cells[1:]))
    result["expected"] = _number(float(expected))
    if math.isclose(expected, found["value"], abs_tol=1e-6):
        return {**result, "status": "ok", "message": ""}
    named = "，".join(f"{c['year']} 年“{c['label']}”为 {c['value']}" for c in cells)
    return {**result, "status": "mismatch", "message": f"可能不一致：{named}（按上年应为 {result['expected']}）"}


def cross_year_checks(this: _Year, last: _Year | None) -> list[dict]:
    """The checks whose this-year cell the report prints; `last` is the report of the year before."""
    out = []
    if CARRY_IN in this.values:
        out.append(_check("carry_over", this, last, CARRY_IN, [(1, "last", CARRY_OUT)]))
    for item in ITEM_CHAIN_ITEMS:
        key = f"{_ART20}{item}.prev_items"
        if key in this.values:
            out.append(_check(f"items.{item}", this, last, key, [(1, "last", key), (1, "last", f"{_ART20}{item}.change")]))
    for item in STOCK_CHAIN_ITEMS:
        key = f"{_ART20}{item}.in_force"
        if key in this.values:
            out.append(_check(f"in_force.{item}", this, last, key, [
                (1, "last", key), (1, "this", f"{_ART20}{item}.issued"), (-1, "this", f"{_ART20}{item}.repealed")]))
    return out


# --- history ----------------------------------------------------------------------------


def _previous(agency: Agency) -> dict[str, dict | None]:
    """report id → the agency's latest report of an earlier year (None for the first, or an undated one)."""
    out: dict[str, dict | None] = {}
    dated = [r for r in agency.reports if r["year"] is not None]
    for report in agency.reports:
        earlier = [r for r in dated if report["year"] is not None and r["year"] < report["year"]]
        out[report["id"]] = earlier[-1] if earlier else None
    return out


def history(store: Store, name: str) -> dict:
    """One agency's years (`name`: an agency key, name, or one of its reports' ids): repetition,
    section changes, cross-year checks, and its indicators as series."""
    agency = find_agency(store, name)
    texts = narratives(store, agency.reports)
    template = template_sentences(store)
    years = {r["id"]: _Year(r, {row["key"]: (row["label"], row["value"]) for row in store.indicators(r["id"])})
             for r in agency.reports}
    by_year = {r["year"]: years[r["id"]] for r in agency.reports if r["year"] is not None}
    previous = _previous(agency)
    out_years = []
    for report in agency.reports:
        if report["year"] is None:
            continue
        prev = previous[report["id"]]
        this = texts[report["id"]]
        sections = [{k: s[k] for k in ("kind", "label", "same_chars", "added_chars", "removed_chars")}
                    for s in section_diff(this, texts[prev["id"]])] if prev else []
        out_years.append({
            "year": report["year"], "report_id": report["id"], "title": report["title"],
            "previous_report_id": prev["id"] if prev else None, "previous_year": prev["year"] if prev else None,
            "repeat_rate": repeat_rate(this.prints(), texts[prev["id"]].prints(), template) if prev else None,
            "sections": sections,
            "cross_year_checks": cross_year_checks(years[report["id"]], by_year.get(report["year"] - 1)),
        })
    return {"agency": {"key": agency.key, "name": agency.name, "region": agency.region, "aliases": agency.keys[1:]},
            "years": out_years, "undated_reports": [r["id"] for r in agency.reports if r["year"] is None],
            "series": _series(agency, years)}


def _series(agency: Agency, years: dict[str, _Year]) -> dict[str, dict]:
    series: dict[str, dict] = {}
    for report in agency.reports:
        if report["year"] is None:
            continue
        for key, (label, value) in years[report["id"]].values.items():
            entry = series.setdefault(key, {"label": label, "unit": INDICATORS[key].unit if key in INDICATORS else None,
                                            "values": {}})
            entry["values"][str(report["year"])] = _number(value)
    order = {key: i for i, key in enumerate(INDICATORS)}
    kept = [k for k, v in series.items() if any(x is not None for x in v["values"].values())]
    return {k: series[k] for k in sorted(kept, key=lambda k: (order.get(k, len(order)), k))}


def repeats(store: Store, min_rate: float = 0.5, filters: SearchFilters | None = None) -> dict:
    """Reports whose repeat_rate is at least `min_rate`, highest first, with the report they repeat.

    `filters` choose the reports listed; the previous report and the template are the whole corpus's.
    """
    with store.snapshot():
        reports = store.reports()
        aliases = store.agency_aliases()
    prints = fingerprints(store, reports)
    template = template_sentences(store, prints, reports)
    results = []
    for agency in group_reports(reports, aliases).values():
        previous = _previous(agency)
        for report in agency.reports:
            prev = previous[report["id"]]
            if prev is None or (filters and not filters.accepts(report)):
                continue
            rate = repeat_rate(prints[report["id"]], prints[prev["id"]], template)
            if rate is not None and rate >= min_rate:
                results.append({**report_summary(report), "agency_key": agency.key, "previous_report_id": prev["id"],
                                "previous_year": prev["year"], "repeat_rate": rate})
    results.sort(key=lambda r: (-r["repeat_rate"], r["agency_key"], r["year"]))
    return {"min": min_rate, "results": results}
