"""Phrase queries of two checkouts in one process, alternating query by query.

Why: the machine this runs on is shared, and one `bench/fulltext.py` run's p50 swings by half
with the other sessions' load, more than a change of 10 % in the count. Here the other
checkout's `indexer` is imported as a package of its own (its imports are relative), both
search the same index (or each its own), and every query is timed by both, the order
alternating by round: the load falls on both alike. Counts and result pages must agree.

    python bench/phrase_ab.py /tmp/main-checkout /tmp/phr20k/index --rounds 9
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import COMMON_PHRASES, RARE_PHRASES, percentile  # noqa: E402
from indexer.fulltext.search import Searcher  # noqa: E402


def other_searcher(checkout: Path, into: Path) -> type:
    """The `Searcher` class of another checkout, its `indexer` copied in as `indexer_other`."""
    shutil.copytree(checkout / "indexer", into / "indexer_other", ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(into))
    from indexer_other.fulltext.search import Searcher as Other

    return Other


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path, help="the checkout to compare against (e.g. a worktree of main)")
    ap.add_argument("index", type=Path, help="the index both search (an index folder)")
    ap.add_argument("--new-index", type=Path, help="an index for this checkout alone (default: the same)")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    phrases = {"common": COMMON_PHRASES, "rare": RARE_PHRASES}
    with tempfile.TemporaryDirectory() as temp:
        engines = {"old": other_searcher(args.old, Path(temp))(args.index, remember=0),
                   "new": Searcher(args.new_index or args.index, remember=0)}
        every = [q for qs in phrases.values() for q in qs]
        for query in every:
            found = [e.run(query, limit=None, snippets=False) for e in engines.values()]
            assert len({(f["total_occurrences"], tuple(r["report_id"] for r in f["results"])) for f in found}) == 1, query
            for engine in engines.values():
                engine.run(query, limit=20)
        wall = {k: {q: [] for q in every} for k in engines}
        cpu = {k: {q: [] for q in every} for k in engines}
        load = os.getloadavg()[0]
        for round_ in range(args.rounds):
            for query in every:
                for name in (["old", "new"] if round_ % 2 == 0 else ["new", "old"]):
                    started, spent = time.perf_counter(), time.process_time()
                    engines[name].run(query, limit=20)  # as bench/fulltext.py times it
                    wall[name][query].append((time.perf_counter() - started) * 1000)
                    cpu[name][query].append((time.process_time() - spent) * 1000)
    print(f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}; {args.rounds} rounds; "
          f"the same counts and pages for all {len(every)} phrases")
    for name in engines:
        for group, queries in phrases.items():
            w = [t for q in queries for t in wall[name][q]]
            c = [t for q in queries for t in cpu[name][q]]
            print(f"{name} {group:6} wall p50 {percentile(w, .5):6.2f} p95 {percentile(w, .95):6.2f} ms | "
                  f"CPU p50 {percentile(c, .5):6.2f} p95 {percentile(c, .95):6.2f} mean {statistics.mean(c):6.2f} ms")
        print(f"{name} CPU p50 per common phrase: "
              + ", ".join(f"{q}={statistics.median(cpu[name][q]):.1f}" for q in COMMON_PHRASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
