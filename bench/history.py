"""`nianbao history` and `nianbao repeats` over a corpus where every agency has several years.

Why: the target is 20,000 reports (`history` <= 1 s, `repeats` over the whole corpus <= 2 min).
bench/synth.py draws each report's agency at random, so agencies rarely have two years; here
each agency's first report comes from synth, and its later years are that report with the years
moved on, numbers redrawn and a share of its paragraphs (drawn per agency, 0-90 %) replaced by
paragraphs of other synthetic reports: some agencies copy, some rewrite.

The reference run, in the same process, is the floor both commands stand on: reading every
report's prose paragraphs from the store (`Store.prose_rows`). `repeats` grows linearly with the
corpus (each report is compared with one other), and so does `history` named by an agency name
(every report's agency key is grouped); `history` by key reads only its regions' reports. The
20,000-report figures are extrapolated linearly from the measured parts, and labelled so.

    python bench/history.py --reports 2000 --workdir /tmp/nb-history
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synth import report_text  # noqa: E402

from indexer.agencies import AgencyError, agencies  # noqa: E402
from indexer.history import history, repeats  # noqa: E402
from indexer.indexing import index_paths  # noqa: E402
from indexer.store import Store  # noqa: E402

TARGETS = {"history_s": 1.0, "repeats_s": 120.0}
FULL_SIZE = 20000
_NUMBER = re.compile(r"(?<!\d)\d{1,3}(?!\d)")


def _is_prose(line: str) -> bool:
    return len(line) > 40 and "\t" not in line and not line.rstrip().endswith("|")


def agency_years(j: int, seed: int, years: int) -> list[str]:
    """Agency j's reports, oldest first: synth's report j, then `years - 1` edited successors."""
    text, info = report_text(j, seed)
    rng = random.Random(f"history:{seed}:{j}")
    rewrite = rng.choice((0.0, 0.05, 0.2, 0.5, 0.9))
    start = min(info.year, 2024 - years)
    out = []
    for k in range(years):
        year = start + k
        if k:
            donor = [line for line in report_text(10_000_000 + j * years + k, seed)[0].splitlines() if _is_prose(line)]
            lines = text.splitlines()
            title = next(i for i, line in enumerate(lines) if line.strip())
            for i, line in enumerate(lines):
                if i > title and _is_prose(line) and rng.random() < rewrite:
                    lines[i] = rng.choice(donor)
            text = _NUMBER.sub(lambda m: str(rng.randint(0, 999)) if rng.random() < 0.3 else m.group(0), "\n".join(lines))
        out.append(text.replace(str(info.year), str(year)))
    return out


def build(workdir: Path, reports: int, seed: int, years: int) -> tuple[Path, float]:
    corpus, index_dir = workdir / "corpus", workdir / "index"
    stamp = workdir / "built.txt"
    if stamp.exists() and stamp.read_text() == f"{reports} {seed} {years}":
        return index_dir, 0.0
    shutil.rmtree(workdir, ignore_errors=True)
    corpus.mkdir(parents=True)
    for j in range(reports // years):
        for k, text in enumerate(agency_years(j, seed, years)):
            (corpus / f"{j:06d}_{k}.txt").write_text(text, encoding="utf-8")
    started = time.perf_counter()
    index_paths([corpus], index_dir, embed=False)
    stamp.write_text(f"{reports} {seed} {years}")
    return index_dir, time.perf_counter() - started


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--years", type=int, default=5, help="reports per agency")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--histories", type=int, default=20, help="agencies whose history is timed")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nb-history"))
    args = parser.parse_args(argv)

    index_dir, build_s = build(args.workdir, args.reports, args.seed, args.years)
    store = Store(index_dir, create=False)
    n = store.count_reports()
    print(f"corpus: {n} reports, {args.years} per agency (index built in {build_s:.1f} s; 0 = reused)")

    floor_s, rows = timed(lambda: sum(1 for _ in store.prose_rows()))
    print(f"reference: reading every prose paragraph ({rows}) {floor_s:.2f} s")

    store.drop_history_caches()  # a cold run: every report's sentences and the template computed
    repeats_s, found = timed(repeats, store, 0.5)
    rates = [r["repeat_rate"] for r in repeats(store, 0.0)["results"]]
    print(f"repeats --min 0.5 (cold: fingerprints and template sentences computed): {repeats_s:.2f} s, {len(found['results'])} reports "
          f"(of {len(rates)} with a previous year; median rate {statistics.median(rates) if rates else float('nan'):.2f})")
    warm_repeats_s, _ = timed(repeats, store, 0.5)
    print(f"repeats --min 0.5 (warm: both saved): {warm_repeats_s:.2f} s")
    print(f"cold repeats = {repeats_s / floor_s:.1f} x reference")

    store.drop_history_caches()
    first_s, _ = timed(history, store, next(iter(agencies(store))))
    print(f"history, first call after an index (every report's sentences and the template computed): {first_s:.2f} s")
    grouping_s, grouped = timed(agencies, store)
    picked = random.Random(args.seed).sample(sorted(grouped), min(args.histories, len(grouped)))
    by_key = [timed(history, store, key)[0] for key in picked]
    by_name = []
    for key in picked:
        try:
            by_name.append(timed(history, store, grouped[key].name)[0])
        except AgencyError:  # a name several agencies share: the key is the way in
            pass
    print(f"agency grouping (every report's key): {grouping_s:.3f} s for {len(grouped)} agencies")
    print(f"history by key (reads its regions' reports only): p50 {statistics.median(by_key):.3f} s, "
          f"max {max(by_key):.3f} s over {len(by_key)} agencies (warm)")
    if by_name:
        print(f"history by name (groups every report): p50 {statistics.median(by_name):.3f} s, "
              f"max {max(by_name):.3f} s over {len(by_name)} agencies (warm)")

    scale = FULL_SIZE / n
    est = {"repeats_s": repeats_s * scale, "repeats_warm_s": warm_repeats_s * scale,
           "history_key_s": max(by_key), "history_name_s": max(by_name or [0.0]) + grouping_s * (scale - 1),
           "history_first_s": first_s * scale}
    print(f"extrapolated to {FULL_SIZE} reports (linear, labelled): repeats ~{est['repeats_s']:.0f} s cold, "
          f"~{est['repeats_warm_s']:.0f} s warm (target {TARGETS['repeats_s']:.0f} s); history by key "
          f"~{est['history_key_s']:.2f} s (does not grow with the corpus), by name ~{est['history_name_s']:.2f} s "
          f"(target {TARGETS['history_s']:.0f} s); first history after an index ~{est['history_first_s']:.0f} s")
    store.close()
    return {"reports": n, "floor_s": floor_s, "repeats_cold_s": repeats_s, "repeats_warm_s": warm_repeats_s,
            "history_first_s": first_s, "history_key_max_s": max(by_key), "grouping_s": grouping_s, "extrapolated": est}


if __name__ == "__main__":
    main()
