"""The store on disk, old layout against new, in one run over the same synthetic corpus.

Why: issue #25 asks for at most 40 KB a report (113 KB at 20,000 synthetic reports with the
layout of schema 5). This indexes the same folder with the code of an old revision (by default
the last one before migration 6) and with this checkout's, alternating, each in its own
process, and prints for both: KB a report by table (SQLite's dbstat) and for the whole file,
the build's wall and CPU time, the first query and the p50 of a query mix on a fresh engine,
and the reads whose cost the layout changed (every normalised text, every paragraph, every
indicator value, every failed check). It also converts a copy of the old store in place (what
opening it with this checkout does) and times that.

    python bench/store_size.py --reports 2000
    python bench/store_size.py --reports 20000 --workdir /tmp/nb-store --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import ensure_corpus, percentile  # noqa: E402

OLD_REV = "c810255"  # main before migration 6: schema 5, texts twice and paragraphs' text a third time
QUERIES = [("exact", "政府信息公开"), ("exact", "依申请公开"), ("exact", "政府开放日"), ("exact", "行政复议 OR 行政诉讼"),
           ("exact", '"信息公开指南" -政府开放日'), ("exact", "保密审查 section:problems"), ("exact", "活动24次"),
           ("exact", "量子计算"), ("exact", "审计局 year:2019"), ("keyword", "政府信息公开 申请"),
           ("keyword", "疫情防控")]

# Run by each checkout's own Python path: the first query on a fresh engine, the mix, the big reads.
MEASURE = r"""
import json, sys, time
from pathlib import Path
from indexer.query import Engine
from indexer.store import Store

index_dir, rounds, queries = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])

def timed(fn):  # (wall, CPU) seconds: the machine is shared, and this process's CPU time varies less
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu

engine = Engine(index_dir)

def ask(mode, query):
    engine.fulltext.forget()
    engine.fulltext.run(query, None, mode=mode, limit=None, snippets=False)
    engine.search(query, None, mode=mode, limit=10)

out = {"first_query_s": timed(lambda: ask("exact", "政府信息公开"))}
out["query_s"] = [timed(lambda: ask(mode, query)) for _ in range(rounds) for mode, query in queries]
engine.close()
store = Store(index_dir, create=False)
with store.snapshot():
    ids = store.report_ids()
    out["read_s"] = {
        "norm_texts": timed(lambda: sum(1 for _ in store.norm_texts())),
        "paragraphs": timed(store.paragraphs),
        "indicator_values": timed(lambda: sum(1 for _ in store.indicator_values())),
        "failed_checks": timed(store.failed_checks),
        "one_report": timed(lambda: [(store.report(i), store.indicators(i), store.check_failures(i)) for i in ids[:200]]),
    }
store.close()
print(json.dumps(out))
"""


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def checkout(rev: str, into: Path) -> Path:
    """The code of `rev` (git archive), extracted once into `into`."""
    if not (into / "indexer").is_dir():
        into.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def python(code: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Python with `code` first on its path (ahead of an editable install elsewhere)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.run([sys.executable, *args], cwd=code, env=env, check=True, capture_output=True, text=True)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(code: Path, corpus: Path, index_dir: Path) -> dict:
    shutil.rmtree(index_dir, ignore_errors=True)
    cpu, started = children_cpu(), time.perf_counter()
    python(code, "-m", "indexer.cli", "--index-dir", str(index_dir), "index", "--no-embed", "-q", str(corpus))
    return {"build_s": time.perf_counter() - started, "build_cpu_s": children_cpu() - cpu}


def tables_kb(store_path: Path, reports: int) -> dict[str, float]:
    """KB a report by table and index (SQLite's dbstat), largest first."""
    db = sqlite3.connect(store_path)
    try:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    finally:
        db.close()
    return {name: size / 1024 / reports for name, size in rows}


def store_kb(index_dir: Path, reports: int) -> float:
    return sum(p.stat().st_size for p in index_dir.glob("store.sqlite*")) / 1024 / reports


def measure(code: Path, index_dir: Path, rounds: int) -> dict:
    return json.loads(python(code, "-c", MEASURE, str(index_dir), str(rounds), json.dumps(QUERIES)).stdout)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="builds of each layout, alternating old and new")
    parser.add_argument("--query-rounds", type=int, default=3, help="passes over the query mix")
    parser.add_argument("--old-rev", default=OLD_REV, help="the revision whose store is the old layout")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpus here (reused next time)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nb-store-"))
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, _, _ = ensure_corpus(workdir, args.reports, args.seed)
    codes = {"old": checkout(args.old_rev, workdir / f"code-{args.old_rev}"), "new": ROOT}
    print(f"{args.reports} reports; old = {args.old_rev}, new = this checkout; load {loadavg()}", flush=True)

    results: dict[str, dict] = {"old": {"builds": []}, "new": {"builds": []}}
    for n in range(args.rounds):
        for layout in (("old", "new") if n % 2 == 0 else ("new", "old")):
            timing = build(codes[layout], corpus, workdir / f"index-{layout}")
            results[layout]["builds"].append(timing)
            print(f"  build {layout}: {timing['build_s']:.1f} s wall, {timing['build_cpu_s']:.1f} s CPU (load {loadavg()})",
                  flush=True)
    for layout in ("old", "new"):
        index_dir = workdir / f"index-{layout}"
        results[layout].update(store_kb=store_kb(index_dir, args.reports),
                               tables_kb=tables_kb(index_dir / "store.sqlite", args.reports), measures=[])
    for n in range(args.rounds):  # a fresh process each: the first query is a fresh engine's
        for layout in (("old", "new") if n % 2 == 0 else ("new", "old")):
            results[layout]["measures"].append(measure(codes[layout], workdir / f"index-{layout}", args.query_rounds))

    migrated = workdir / "index-migrated"
    shutil.rmtree(migrated, ignore_errors=True)
    shutil.copytree(workdir / "index-old", migrated, ignore=shutil.ignore_patterns("index.lock"))
    started = time.perf_counter()
    python(ROOT, "-c", "import sys; from pathlib import Path; from indexer.store import Store; Store(Path(sys.argv[1])).close()",
           str(migrated))
    results["migration"] = {"seconds": time.perf_counter() - started, "store_kb": store_kb(migrated, args.reports)}

    old, new = results["old"], results["new"]
    wall = {k: min(b["build_s"] for b in results[k]["builds"]) for k in ("old", "new")}
    print(f"\nstore KB a report: old {old['store_kb']:.1f}, new {new['store_kb']:.1f} "
          f"({new['store_kb'] / old['store_kb']:.2f}x); converted in place: {results['migration']['store_kb']:.1f} "
          f"in {results['migration']['seconds']:.1f} s")
    for layout in ("old", "new"):
        top = ", ".join(f"{name} {kb:.1f}" for name, kb in results[layout]["tables_kb"].items() if kb >= 0.1)
        print(f"  {layout}: {top}")
    print(f"build --no-embed, best of {args.rounds}: old {wall['old']:.1f} s, new {wall['new']:.1f} s "
          f"(new/old {wall['new'] / wall['old']:.2f})")
    for layout in ("old", "new"):
        runs = results[layout]["measures"]
        walls, cpus = zip(*(t for r in runs for t in r["query_s"]))
        first = ", ".join(f"{r['first_query_s'][0]:.2f} s (CPU {r['first_query_s'][1]:.2f})" for r in runs)
        reads = ", ".join(f"{name} {min(r['read_s'][name][0] for r in runs):.2f} / {min(r['read_s'][name][1] for r in runs):.2f}"
                          for name in runs[0]["read_s"])
        print(f"  {layout}: first query {first}; mix p50 {percentile(walls, 0.5) * 1000:.0f} ms"
              f" p95 {percentile(walls, 0.95) * 1000:.0f} ms (CPU p50 {percentile(cpus, 0.5) * 1000:.0f} ms);"
              f" reads, best s wall / CPU: {reads}")
    print(f"load {loadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
