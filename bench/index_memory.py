"""Peak memory of `nianbao index` embedding with the real model: a base commit's checkout against this one.

Why: bench/gather_memory.py measures the bookkeeping with a stand-in model; this runs the real
command. A `--no-embed` index of the synthetic corpus is built once, copied for each variant,
and `python -m indexer.cli --index-dir COPY index CORPUS` embeds it from each checkout in turn;
peak is the summed PSS of the command's process tree, sampled every 0.25 s.

    git worktree add /tmp/memory-base c810255
    python bench/index_memory.py --reports 100 --workdir /tmp/nb-index-memory --base-checkout /tmp/memory-base
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import PeakMemory, ensure_corpus  # noqa: E402


def cli(checkout: Path, index_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--index-dir", str(index_dir), "index", *args],
                          cwd=checkout, env={**os.environ, "PYTHONPATH": str(checkout)}, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nb-index-memory"))
    parser.add_argument("--base-checkout", type=Path, required=True, help="a worktree of the commit to compare with")
    parser.add_argument("--order", default="old,new")
    args = parser.parse_args()
    corpus, _, _ = ensure_corpus(args.workdir, args.reports, seed=0)
    base = args.workdir / "index-noembed"
    if not base.exists():
        cli(ROOT, base, "--no-embed", str(corpus)).check_returncode()
    checkouts = {"old": args.base_checkout, "new": ROOT}
    for variant in args.order.split(","):
        index_dir = args.workdir / f"index-{variant}"
        shutil.rmtree(index_dir, ignore_errors=True)
        shutil.copytree(base, index_dir)
        started = time.perf_counter()
        with PeakMemory() as mem:
            done = cli(checkouts[variant], index_dir, str(corpus))
        print(json.dumps({"variant": variant, "rc": done.returncode, "peak_mb": round(mem.peak / 2**20, 1),
                          "seconds": round(time.perf_counter() - started, 1),
                          "summary": (done.stdout + done.stderr).strip().splitlines()[-1:]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
