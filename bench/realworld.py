"""Metadata accuracy on real reports: how often parsing reads what a person reading them reads.

Why: the synthetic corpus cannot tell whether titles, page furniture and statistics-period
wording of real saved pages are read right. A manifest (the format of
/work/shared/realworld/manifest.json) gives each file's true values; fields the text gives no
evidence for are listed in `unknowable`, where an empty value counts as right. Phrase counts
check the text itself: each term's occurrences in the normalised text, whitespace removed.

    python bench/realworld.py                              # ../shared/realworld next to the repo
    python bench/realworld.py --manifest tests/data/realworld/manifest.json

Prints per-field accuracy and every miss; exits 0 (it measures, it does not judge).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from indexer.ingest import read_report_file
from indexer.normalize import normalize
from indexer.parse import parse_report

DEFAULT_MANIFEST = Path(__file__).resolve().parents[1].parent / "shared" / "realworld" / "manifest.json"
FIELDS = ("agency", "year", "province", "city", "county", "level", "edition", "template", "published", "problems",
          "phrases")
_EDITIONS = {"pre-2019": "old"}


@dataclass
class Score:
    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def add(self, name: str, file: str, ok: bool, got: object, want: object) -> None:
        self.total[name] = self.total.get(name, 0) + 1
        self.right[name] = self.right.get(name, 0) + ok
        if not ok:
            self.misses.append(f"{file}  {name}: got {got!r}, want {want!r}")

    def accuracy(self, name: str) -> float:
        return self.right.get(name, 0) / self.total[name] if self.total.get(name) else 1.0


def phrase_count(text: str, term: str) -> int:
    """Occurrences of a term in the normalised text with all whitespace removed."""
    squeeze = re.compile(r"\s+")
    return squeeze.sub("", normalize(text)).count(squeeze.sub("", normalize(term)))


def score_manifest(manifest: Path) -> Score:
    score = Score()
    for entry in json.loads(manifest.read_text(encoding="utf-8")):
        _, text = read_report_file(manifest.parent / entry["file"])
        parsed = parse_report(text)
        meta, gold = parsed.metadata, entry["gold"]
        unknowable = set(gold.get("unknowable") or [])

        def check(name: str, got: object, accepted: list) -> None:
            score.add(name, entry["file"], (name in unknowable and got is None) or got in accepted, got, accepted[0])

        check("agency", meta.agency, gold.get("agency_accepted") or [gold["agency"]])
        check("year", meta.year, [gold["year"]])
        check("province", meta.province, [gold["province"]])
        check("city", meta.city, gold.get("city_accepted") or [gold["city"]])
        check("county", meta.county, gold.get("county_accepted") or [gold["county"]])
        if "level" in gold:
            check("level", meta.level, [gold["level"]])
        if "template_edition" in gold:
            check("edition", meta.edition, [_EDITIONS.get(gold["template_edition"], gold["template_edition"])])
        check("template", meta.template, [gold["template"]])
        if "published" in gold:
            check("published", meta.published, [gold["published"]])
        if gold.get("has_problems_section") is not None:
            found = any(s.kind == "problems" for s in parsed.sections)
            check("problems", found, [gold["has_problems_section"]])
        for phrase in entry.get("phrases", []):
            got = phrase_count(text, phrase["term"])
            score.add("phrases", entry["file"], got == phrase["count"], got, f"{phrase['term']} x{phrase['count']}")
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    args = parser.parse_args(argv)
    score = score_manifest(args.manifest)
    print(f"{args.manifest}")
    print(f"{'field':<10} {'right':>5} {'total':>5} {'accuracy':>8}")
    for name in FIELDS:
        if score.total.get(name):
            print(f"{name:<10} {score.right[name]:>5} {score.total[name]:>5} {score.accuracy(name):>8.3f}")
    print(f"\nmisses ({len(score.misses)}):")
    for miss in score.misses:
        print("  " + miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
