"""Build speed of two checkouts side by side: `nianbao index --no-embed` from nothing, alternating.

Why: the machine this runs on is shared, so a figure taken at another time says little. Each
round builds the same synthetic corpus once with each checkout (in turn, each in its own
process with its own code on the path) and records wall time, reports a second, CPU a report
(the build's process and its workers), peak memory (the proportional set size of the process
and its workers, sampled) and the load average around it.

    python bench/build_speed.py /tmp/build-base . --reports 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import PeakMemory, ensure_corpus  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for descendants: the build and its workers
    return usage.ru_utime + usage.ru_stime


def build(checkout: Path, corpus: Path, index_dir: Path, workers: int | None) -> dict:
    shutil.rmtree(index_dir, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(checkout.resolve()))
    args = [sys.executable, "-m", "indexer.cli", "--index-dir", str(index_dir), "index", "--no-embed", "-q"]
    if workers is not None:
        args += ["--workers", str(workers)]
    load_before = os.getloadavg()[0]
    cpu, started = _children_cpu(), time.perf_counter()
    with PeakMemory() as peak:
        subprocess.run(args + [str(corpus)], env=env, cwd=checkout, check=True, stdout=subprocess.DEVNULL)
    return {"seconds": time.perf_counter() - started, "cpu_s": _children_cpu() - cpu, "peak_mb": peak.peak / 2**20,
            "load": (load_before + os.getloadavg()[0]) / 2}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path, help="the checkout to compare against (e.g. a worktree of main)")
    ap.add_argument("new", type=Path, help="the changed checkout")
    ap.add_argument("--reports", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/nb-build-speed"))
    ap.add_argument("--json", type=Path, help="write every run's figures here")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus, _, _ = ensure_corpus(args.workdir, args.reports, args.seed)
    runs = []
    for round_ in range(args.rounds):
        order = [("old", args.old), ("new", args.new)]
        if round_ % 2:
            order.reverse()  # neither side always goes first
        for name, checkout in order:
            found = build(checkout, corpus, args.workdir / f"index-{name}", args.workers)
            found.update(name=name, round=round_)
            runs.append(found)
            print(f"round {round_} {name}: {found['seconds']:.1f} s = {args.reports / found['seconds']:.0f} reports/s, "
                  f"CPU {1000 * found['cpu_s'] / args.reports:.1f} ms a report, peak {found['peak_mb']:.0f} MB, "
                  f"load {found['load']:.1f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"reports": args.reports, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
