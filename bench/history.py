"""`nianbao history` and `nianbao repeats` over a corpus where every agency has several years.

Why: the target is 20,000 reports (`history` <= 1 s, `repeats` over the whole corpus <= 2 min).
bench/synth.py draws each report's agency at random, so agencies rarely have two years; here
each agency's first report comes from synth, and its later years are that report with the years
moved on, numbers redrawn and a share of its paragraphs (drawn per agency, 0-90 %) replaced by
paragraphs of other synthetic reports: some agencies copy, some rewrite.

The reference run, in the same process, is the floor both commands stand on: reading every
report's prose paragraphs from the store (`Store.prose_rows`). Both commands grow linearly with
the corpus (`repeats` compares each report with one other; `history` groups every report's
agency key), so the 20,000-report figure is extrapolated linearly from the measured parts,
and labelled so.

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

from indexer.agencies import agencies  # noqa: E402
from indexer.history import TEMPLATE_CACHE, history, repeats  # noqa: E402
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

    store.save_history_cache(TEMPLATE_CACHE, -1, b"")  # forget the template sentences: a cold run
    repeats_s, found = timed(repeats, store, 0.5)
    rates = [r["repeat_rate"] for r in repeats(store, 0.0)["results"]]
    print(f"repeats --min 0.5 (cold: template sentences computed): {repeats_s:.2f} s, {len(found['results'])} reports "
          f"(of {len(rates)} with a previous year; median rate {statistics.median(rates) if rates else float('nan'):.2f})")
    warm_repeats_s, _ = timed(repeats, store, 0.5)
    print(f"repeats --min 0.5 (warm): {warm_repeats_s:.2f} s  = {warm_repeats_s / floor_s:.1f} x reference")

    store.save_history_cache(TEMPLATE_CACHE, -1, b"")
    first_s, _ = timed(history, store, next(iter(agencies(store))))
    print(f"history, first call after an index (template sentences computed over the corpus): {first_s:.2f} s")
    grouping_s, grouped = timed(agencies, store)
    keys = sorted(grouped)
    picked = random.Random(args.seed).sample(keys, min(args.histories, len(keys)))
    times = [timed(history, store, key)[0] for key in picked]
    print(f"agency grouping (every report's key): {grouping_s:.3f} s for {len(keys)} agencies")
    print(f"history: p50 {statistics.median(times):.3f} s, max {max(times):.3f} s over {len(times)} agencies (warm)")

    scale = FULL_SIZE / n
    est = {"repeats_s": repeats_s * scale, "history_s": max(times) + grouping_s * (scale - 1),
           "history_first_s": first_s * scale}
    print(f"extrapolated to {FULL_SIZE} reports (linear, labelled): repeats ~{est['repeats_s']:.0f} s cold "
          f"(target {TARGETS['repeats_s']:.0f} s), history ~{est['history_s']:.2f} s warm (target "
          f"{TARGETS['history_s']:.0f} s), first history after an index ~{est['history_first_s']:.0f} s")
    store.close()
    return {"reports": n, "floor_s": floor_s, "repeats_cold_s": repeats_s, "repeats_warm_s": warm_repeats_s,
            "history_first_s": first_s, "history_max_s": max(times), "grouping_s": grouping_s, "extrapolated": est}


if __name__ == "__main__":
    main()
