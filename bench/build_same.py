"""Do two checkouts of nianbao build the same index from the same folder?

Why: a change made only to build faster must not change what is built. This indexes one folder
with each checkout (`nianbao index --no-embed`, each in its own process with its own code on
the path), then compares every row of every store table, the Whoosh words index term by term
(postings, weights and stored fields), every array of every gram segment, and the results of
a set of exact and keyword searches. It exits 1 and names the first differences otherwise.

    python bench/build_same.py /tmp/build-base . --reports 500
    python bench/build_same.py /tmp/build-base . --folder tests/data/realworld
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from indexer.fulltext.grams import GramIndex  # noqa: E402
from indexer.fulltext.index import FULLTEXT_DIR, WORDS  # noqa: E402
from indexer.query import Engine  # noqa: E402
from indexer.store import STORE_FILE  # noqa: E402

PHRASES = ["政府信息公开", "依申请公开", "政府开放日", "不予公开", "府信息公", "行政复议", "保密审查", "信息公开指南",
           "活动24次", "量子计算", "审计局", "2019年", "（一）", "件", "主动公开政府信息"]
KEYWORDS = ["政府信息公开 申请", "行政复议", "疫情防控", "保密审查 制度", "政策解读 回应关切", "便民服务热线",
            "财政预决算", "网站 平台"]
# Columns that record when a row was written, not what was derived.
CLOCK_COLUMNS = {"added_at", "indexed_at", "edited_at", "retrieved", "updated_at"}


def build(checkout: Path, folder: Path, index_dir: Path, workers: int | None) -> None:
    env = dict(os.environ, PYTHONPATH=str(checkout.resolve()))
    args = [sys.executable, "-m", "indexer.cli", "--index-dir", str(index_dir), "index", "--no-embed", "-q"]
    if workers is not None:
        args += ["--workers", str(workers)]
    subprocess.run(args + [str(folder)], env=env, cwd=checkout, check=True)


def store_rows(index_dir: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(index_dir / STORE_FILE)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    rows = {}
    for table in tables:
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] not in CLOCK_COLUMNS]
        listed = ", ".join(f'"{c}"' for c in columns)
        rows[table] = db.execute(f'SELECT {listed} FROM "{table}" ORDER BY {listed}').fetchall()
    db.close()
    return rows


def words_postings(index_dir: Path) -> dict:
    """Every term of every field with its postings, documents named by their stored doc_id."""
    from whoosh import index as windex

    ix = windex.open_dir(str(index_dir / FULLTEXT_DIR), indexname=WORDS)
    found: dict = {}
    with ix.searcher() as searcher:
        reader = searcher.reader()
        names = {n: f["doc_id"] for n, f in reader.iter_docs()}
        found["stored"] = sorted(tuple(sorted(f.items())) for _, f in reader.iter_docs())
        for field, term in reader.all_terms():
            postings = reader.postings(field, term)
            items = []
            while postings.is_active():
                items.append((names[postings.id()], postings.weight(), postings.value()))
                postings.next()
            found[(field, term)] = sorted(items)
        found["lengths"] = sorted((names[n], reader.doc_field_length(n, WORDS)) for n in names)
    return found


def gram_arrays(index_dir: Path) -> list[dict[str, np.ndarray]]:
    return [segment.arrays.everything() for segment in GramIndex(index_dir / FULLTEXT_DIR).snapshot().segments]


def searches(index_dir: Path) -> list:
    engine = Engine(index_dir)
    try:
        out = []
        for phrase in PHRASES:
            out.append(("exact", phrase, engine.search(phrase, mode="exact", limit=None)))
        for query in KEYWORDS:
            out.append(("keyword", query, engine.search(query, mode="keyword", limit=50)))
        return out
    finally:
        engine.close()


def differences(a: Path, b: Path) -> list[str]:
    found = []
    rows_a, rows_b = store_rows(a), store_rows(b)
    for table in sorted(set(rows_a) | set(rows_b)):
        ra, rb = rows_a.get(table), rows_b.get(table)
        if ra != rb:
            first = next((i for i, (x, y) in enumerate(zip(ra or [], rb or [])) if x != y), None)
            found.append(f"store table {table}: {len(ra or [])} vs {len(rb or [])} rows; first differing row "
                         f"{first}: {str((ra or [None])[first or 0])[:300]} / {str((rb or [None])[first or 0])[:300]}")
    wa, wb = words_postings(a), words_postings(b)
    if wa != wb:
        keys = [k for k in sorted(set(wa) | set(wb), key=repr) if wa.get(k) != wb.get(k)]
        found.append(f"words index: {len(keys)} terms differ, e.g. {keys[:5]}")
    ga, gb = gram_arrays(a), gram_arrays(b)
    if len(ga) != len(gb):
        found.append(f"gram index: {len(ga)} vs {len(gb)} segments")
    for n, (sa, sb) in enumerate(zip(ga, gb)):
        for name in sorted(set(sa) | set(sb)):
            if name not in sa or name not in sb or not np.array_equal(sa[name], sb[name]) \
                    or sa[name].dtype != sb[name].dtype:
                found.append(f"gram segment {n}: array {name} differs")
    for (mode, query, ra), (_, _, rb) in zip(searches(a), searches(b)):
        if ra != rb:
            found.append(f"{mode} search {query!r} differs")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path, help="the checkout to compare against (e.g. a worktree of main)")
    ap.add_argument("new", type=Path, help="the changed checkout")
    ap.add_argument("--folder", type=Path, help="reports to index (default: a synthetic corpus)")
    ap.add_argument("--reports", type=int, default=500, help="synthetic reports, without --folder")
    ap.add_argument("--workers", type=int, help="worker processes for both builds")
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nb-same-"))
    folder = args.folder.resolve() if args.folder else None
    if folder is None:
        folder = workdir / "corpus"
        if not folder.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "synth.py"), str(folder), "--reports",
                            str(args.reports), "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    for name in ("old", "new"):
        shutil.rmtree(workdir / name, ignore_errors=True)
    build(args.old, folder, workdir / "old", args.workers)
    build(args.new, folder, workdir / "new", args.workers)
    found = differences(workdir / "old", workdir / "new")
    for line in found:
        print(line)
    print("same" if not found else f"{len(found)} differences", f"({folder})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
