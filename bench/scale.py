"""How far one machine goes: the whole pipeline over a synthetic corpus, end to end.

Why: a user points nianbao at a province's reports (tens of thousands of files) on a laptop.
This measures what that costs: `nianbao index --no-embed` (read, parse, statistics, store,
full-text) in one run, the statistics export, embeddings with their cache, disk per
component, peak memory (this process and its worker processes), and the search desk's
latency at that size (the app's own calls through `indexer.query.Engine`).

Embedding every passage of 20,000 reports takes 40 minutes (2 cores with native bf16) to
hours (2 AVX2 cores), so `--embed-reports N` embeds the first N reports, then a further N/4
into the same index (where the cache serves the genre's boilerplate), and extrapolates to the
whole corpus from the rate of that second step. Every extrapolated figure is labelled as such;
the extrapolation overestimates, as the cache's share grows with the corpus (all 20,000
reports embedded 421,852 texts where it expected ~608,000).

    python bench/scale.py --reports 2000
    python bench/scale.py --reports 20000 --embed-reports 200 --workdir /tmp/nb-scale

Targets at 20,000 reports: pipeline without embeddings <= 5 min, app search <= 1 s,
peak memory <= 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import PeakMemory, dir_mb, ensure_corpus, percentile  # noqa: E402

from indexer.fulltext.grams import SEGMENT_PREFIX, TOC_FILE  # noqa: E402
from indexer.fulltext.index import FULLTEXT_DIR  # noqa: E402
from indexer.indexing import index_paths  # noqa: E402
from indexer.query import Engine, SearchFilters  # noqa: E402
from indexer.store import STORE_FILE, Store  # noqa: E402

TARGETS = {"pipeline_s": 300, "search_s": 1.0, "peak_memory_mb": 2048}
# The search desk's mix: common and rare phrases, boolean queries, filters, keyword mode.
APP_QUERIES = [
    ("exact", "政府信息公开", None),
    ("exact", "依申请公开", None),
    ("exact", "政府开放日", None),
    ("exact", "不予公开", SearchFilters(year="2018-2020")),
    ("exact", "行政复议 OR 行政诉讼", None),
    ("exact", '"信息公开指南" -政府开放日', None),
    ("exact", "保密审查 section:problems", None),
    ("exact", "活动24次", None),
    ("exact", "量子计算", None),
    ("exact", "审计局 year:2019", None),
    ("keyword", "政府信息公开 申请", None),
    ("keyword", "疫情防控", None),
    ("keyword", "政策解读 回应关切", SearchFilters(sections=["problems"])),
]
PAGE_SIZE = 10  # search_app/views/search.py


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def app_search(engine: Engine, mode: str, query: str, filters: SearchFilters | None) -> int:
    """What the search page does per query: every result for the facet counts, then one page.
    Nothing remembered from an earlier query counts: each is timed as if asked for the first time."""
    engine.fulltext.forget()
    everything = engine.fulltext.run(query, None, mode=mode, limit=None, snippets=False)
    engine.search(query, filters, mode=mode, limit=PAGE_SIZE)
    return everything["total_reports"]


def measure_search(index_dir: Path, rounds: int) -> dict:
    """The first exact query on a fresh Engine (opens the store, reads the corpus table and the
    gram segments' arrays the query needs), the first keyword query (loads jieba's dictionary and
    opens the words index), then the mix. The app's background warm-up, which reads every text
    and section after its first queries, is not run: a mix query that needs them reads them."""
    started = time.perf_counter()
    engine = Engine(index_dir)
    app_search(engine, "exact", "政府信息公开", None)
    first = time.perf_counter() - started
    started = time.perf_counter()
    app_search(engine, "keyword", "政府信息公开 申请", None)
    first_keyword = time.perf_counter() - started
    times: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    for _ in range(rounds):
        for mode, query, filters in APP_QUERIES:
            t = time.perf_counter()
            hits[query] = app_search(engine, mode, query, filters)
            times.setdefault(mode, []).append(time.perf_counter() - t)
    engine.close()
    every = [t for ts in times.values() for t in ts]
    return {"first_s": first, "first_keyword_s": first_keyword, "p50_s": percentile(every, 0.5), "p95_s": percentile(every, 0.95),
            "max_s": max(every), "by_mode": {m: (percentile(ts, 0.5), percentile(ts, 0.95)) for m, ts in times.items()},
            "queries": len(every), "hits": hits}


def disk(index_dir: Path) -> dict[str, float]:
    fulltext = index_dir / FULLTEXT_DIR
    grams = sum(p.stat().st_size for p in fulltext.glob(f"{SEGMENT_PREFIX}*")) / 1e6
    grams += (fulltext / TOC_FILE).stat().st_size / 1e6 if (fulltext / TOC_FILE).exists() else 0
    store = sum(dir_mb(p) for p in index_dir.glob(f"{STORE_FILE}*"))
    vectors = index_dir / "vectors"
    cache = dir_mb(vectors / "cache.sqlite") if (vectors / "cache.sqlite").exists() else 0.0
    return {"store": store, "fulltext_grams": grams, "fulltext_words": dir_mb(fulltext) - grams,
            "vectors": (dir_mb(vectors) - cache) if vectors.exists() else 0.0, "embedding_cache": cache}


def stats_export(index_dir: Path, out: Path) -> tuple[float, int]:
    from indexer.stats.export import write_csv
    from indexer.findings.stored import stats_rows

    started = time.perf_counter()
    store = Store(index_dir, create=False)
    try:
        rows = list(stats_rows(store, SearchFilters()))
    finally:
        store.close()
    write_csv(rows, out)
    return time.perf_counter() - started, len(rows)


def embed_stage(corpus: Path, workdir: Path, first: int, more: int) -> dict:
    """Embed `first` reports into a fresh index, then `more` further ones (the cache at work).

    Memory is sampled while the model loads and embeds, not while the second step's parser
    workers run: `nianbao index` loads its model after they finish, but here it stays loaded
    from the first step, and the workers' memory would add to it as no user run does."""
    from indexer.semantic.vectors import get_model, update_vectors

    files = sorted(corpus.glob("*.txt"))
    subset = workdir / "embed-corpus"
    shutil.rmtree(subset, ignore_errors=True)
    subset.mkdir(parents=True)
    index_dir = workdir / "embed-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    with PeakMemory() as mem:
        started = time.perf_counter()
        model = get_model()
    out = {"model_load_s": time.perf_counter() - started, "steps": []}
    peak = mem.peak
    for count in (first, more):
        done = len(list(subset.iterdir()))
        for path in files[done:done + count]:
            os.link(path, subset / path.name)
        index_paths([subset], index_dir, embed=False)
        store = Store(index_dir, create=False)
        try:
            with PeakMemory() as mem:
                update = update_vectors(index_dir, store, model=model)
            peak = max(peak, mem.peak)
        finally:
            store.close()
        out["steps"].append({"reports": done + count, "added": count, "passages": update.passages,
                             "reused": update.reused, "cached": update.cached, "embedded": update.embedded,
                             "seconds": update.seconds, "embed_seconds": update.embed_seconds})
    out["disk"] = disk(index_dir)
    out["peak_memory_mb"] = peak / 2**20
    return out


def extrapolate(embed: dict, reports: int) -> dict:
    """Whole-corpus embedding from the measured steps: the second step's share of new passages
    the model had to embed (the rest came from the cache) applied to every further report.
    The share falls as the cache grows, so this overestimates."""
    a, b = embed["steps"]
    per_report = a["passages"] / a["reports"]
    new_passages = b["passages"] - b["reused"]
    share = b["embedded"] / new_passages if new_passages else 1.0
    rate = (a["embedded"] + b["embedded"]) / max(a["embed_seconds"] + b["embed_seconds"], 1e-9)
    passages = per_report * reports
    embedded = a["embedded"] + share * per_report * (reports - a["reports"])
    vector_mb = embed["disk"]["vectors"] / b["passages"] * passages if b["passages"] else 0.0
    cache_mb = embed["disk"]["embedding_cache"] / max(a["embedded"] + b["embedded"], 1) * embedded
    return {"passages": passages, "embedded": embedded, "cache_share": 1 - embedded / passages,
            "seconds": embedded / rate, "rate": rate, "vectors_mb": vector_mb, "cache_mb": cache_mb}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the parser workers, once joined):
    unlike wall time on a shared machine, it does not grow with other people's load."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def pipeline_stage(corpus: Path, index_dir: Path, workers: int | None) -> dict:
    """`index --no-embed` from nothing, then again on the unchanged folder."""
    shutil.rmtree(index_dir, ignore_errors=True)
    with PeakMemory() as mem:
        started, cpu = time.perf_counter(), cpu_seconds()
        summary = index_paths([corpus], index_dir, workers=workers, embed=False)
        pipeline, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    out = {"pipeline_s": pipeline, "pipeline_cpu_s": cpu, "pipeline_peak_memory_mb": mem.peak / 2**20,
           "indexed": summary.reports}
    print(f"pipeline (read, parse, statistics, store, full-text; index --no-embed): {pipeline:.1f} s, "
          f"{summary.reports / pipeline:.1f} reports/s, {summary.reports} reports, peak memory {mem.peak / 2**20:.0f} MB "
          f"(this process + workers); CPU {cpu:.0f} s = {cpu / max(summary.reports, 1) * 1000:.0f} ms a report")
    with PeakMemory() as mem:
        started = time.perf_counter()
        unchanged = index_paths([corpus], index_dir, workers=workers, embed=False)
        out["rerun_s"] = time.perf_counter() - started
    print(f"re-run on the unchanged folder: {out['rerun_s']:.1f} s ({unchanged.counts()['unchanged']} unchanged), "
          f"peak memory {mem.peak / 2**20:.0f} MB")
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--embed-reports", type=int, default=100,
                        help="reports embedded for real (then a quarter more); 0 skips embeddings")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query mix")
    parser.add_argument("--workers", type=int, default=None, help="parsing processes (default: up to 4 CPUs)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpus here (reused next time)")
    parser.add_argument("--index", type=Path, default=None,
                        help="measure search, export and disk on this existing index (no pipeline timing), "
                             "e.g. the one bench/fulltext.py built over the same corpus")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"nianbao scale bench: {args.reports} reports, {os.cpu_count()} CPUs, load average {loadavg()}")
    corpus, infos, gen_s = ensure_corpus(workdir, args.reports, args.seed)
    chars = sum(i.chars for i in infos)
    print(f"corpus: {len(infos)} files, {chars / 1e6:.1f} M characters, {dir_mb(corpus):.0f} MB "
          f"({'generated in %.0f s' % gen_s if gen_s else 'reused'})")

    index_dir = args.index or workdir / "index"
    result: dict = {"reports": args.reports, "chars": chars, "cpus": os.cpu_count()}
    if args.index:
        print(f"pipeline: not timed (--index {index_dir}, as built before)")
    else:
        result.update(pipeline_stage(corpus, index_dir, args.workers))
    with PeakMemory() as mem, tempfile.TemporaryDirectory() as scratch:
        export_s, rows = stats_export(index_dir, Path(scratch) / "stats.csv")
    result["stats_export_s"] = export_s
    result["stats_export_peak_memory_mb"] = mem.peak / 2**20
    print(f"statistics export (stats --csv): {export_s:.1f} s for {rows} reports, peak memory {mem.peak / 2**20:.0f} MB")

    with PeakMemory() as mem:
        search = measure_search(index_dir, args.rounds)
    result["search"] = search
    result["search_peak_memory_mb"] = mem.peak / 2**20
    print(f"app search (Engine, facets + first page of {PAGE_SIZE}): first query {search['first_s']:.2f} s "
          f"(cold: opens the store, reads the corpus table and gram segments), first keyword query "
          f"{search['first_keyword_s']:.2f} s (loads jieba); then p50 {search['p50_s'] * 1000:.0f} ms, "
          f"p95 {search['p95_s'] * 1000:.0f} ms, max {search['max_s'] * 1000:.0f} ms over {search['queries']} queries; "
          f"peak memory {mem.peak / 2**20:.0f} MB")
    for mode, (p50, p95) in search["by_mode"].items():
        print(f"  {mode}: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")

    sizes = disk(index_dir)
    result["disk_mb"] = sizes
    print("disk: " + ", ".join(f"{k} {v:.0f} MB" for k, v in sizes.items() if k not in ("vectors", "embedding_cache")))

    if args.embed_reports:
        more = max(args.embed_reports // 4, 1)
        embed = embed_stage(corpus, workdir, args.embed_reports, more)
        result["embed"] = embed
        print(f"embeddings, measured: model load {embed['model_load_s']:.1f} s; peak memory {embed['peak_memory_mb']:.0f} MB "
              "while loading and embedding")
        for step in embed["steps"]:
            print(f"  {step['reports']} reports (+{step['added']}): {step['passages']} passages, {step['reused']} kept, "
                  f"{step['cached']} from the cache, {step['embedded']} embedded in {step['embed_seconds']:.1f} s "
                  f"({step['seconds']:.1f} s in all)")
        a, b = embed["steps"]
        saved_a = 1 - a["embedded"] / a["passages"] if a["passages"] else 0.0
        new = b["passages"] - b["reused"]
        saved_b = 1 - b["embedded"] / new if new else 0.0
        print(f"  the cache saved {saved_a:.0%} of the first {a['reports']} reports' passages (identical text "
              f"embedded once) and {saved_b:.0%} of the next {b['added']} reports' passages")
        guess = extrapolate(embed, args.reports)
        result["embed_extrapolated"] = guess
        print(f"embeddings, extrapolated to {args.reports} reports (not measured): ~{guess['passages']:.0f} passages, "
              f"~{guess['embedded']:.0f} embedded ({guess['cache_share']:.0%} from the cache), "
              f"~{guess['seconds'] / 60:.0f} min at {guess['rate']:.0f} passages/s, "
              f"vectors ~{guess['vectors_mb']:.0f} MB + cache ~{guess['cache_mb']:.0f} MB")

    peak = max(result.get("pipeline_peak_memory_mb", 0), result["stats_export_peak_memory_mb"], result["search_peak_memory_mb"],
               result.get("embed", {}).get("peak_memory_mb", 0))
    result["peak_memory_mb"] = peak
    pipeline = result.get("pipeline_s")
    verdicts = {"pipeline_s": pipeline is not None and pipeline <= TARGETS["pipeline_s"],
                "search_s": max(search["p95_s"], search["first_s"], search["first_keyword_s"]) <= TARGETS["search_s"],
                "peak_memory_mb": peak <= TARGETS["peak_memory_mb"]}
    result["targets_met"] = verdicts
    print(f"targets: pipeline <= 5 min {'not timed' if pipeline is None else 'met' if verdicts['pipeline_s'] else 'MISSED'}; "
          f"app search <= 1 s (first queries and p95) {'met' if verdicts['search_s'] else 'MISSED'}; "
          f"peak memory <= 2 GB {'met' if verdicts['peak_memory_mb'] else 'MISSED'} ({peak:.0f} MB over the stages run)")
    print(f"load average at the end: {loadavg()}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
