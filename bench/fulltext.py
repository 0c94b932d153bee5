"""Full-text benchmark: nianbao's build and queries against a plain scan and tantivy.

Why: exact search must be fast at the scale of a province's reports (20,000 reports,
~100 M characters) without giving up its contract (a report matches iff the normalised
term is a substring of its normalised text). This builds nianbao's index over a synthetic
corpus (`bench/synth.py`), times a fixed mix of phrase and keyword queries (a keyword query's
top 10, and its whole listing as the desk's facets ask for it), times the same
phrase queries as an in-memory substring scan and as a tantivy index over the same
bigrams, and fails loudly if the three do not return the same reports.

    python bench/fulltext.py --reports 2000
    python bench/fulltext.py --reports 20000 --workdir /tmp/nb20k --json out.json

Targets at 20,000 reports on 2 cores: build >= 100 reports/s, phrase p50 <= 50 ms and
p95 <= 300 ms, keyword top-10 p50 <= 50 ms, full-text index <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psutil  # noqa: E402

from indexer.fulltext.analysis import SPACE_MARK  # noqa: E402
from indexer.fulltext.index import FULLTEXT_DIR  # noqa: E402
from indexer.fulltext.search import Searcher  # noqa: E402
from indexer.indexing import index_paths  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.store import STORE_FILE, Store  # noqa: E402
from synth import ReportInfo, generate  # noqa: E402

COMMON_PHRASES = ["依申请公开", "政府开放日", "信息公开指南", "不予公开", "府信息公", "行政复议", "保密审查", "政府信息公开"]
RARE_PHRASES = ["活动24次", "公开政务信息22条", "量子计算", "坚持“以公开为常态、不公开为例外”原则，全面落实信息公开条例"]
KEYWORD_QUERIES = ["政府信息公开 申请", "行政复议", "政府开放日 活动", "疫情防控", "保密审查 制度", "政策解读 回应关切",
                   "便民服务热线", "财政预决算"]
TARGETS = {"build_reports_per_s": 100, "phrase_p50_ms": 50, "phrase_p95_ms": 300, "keyword_p50_ms": 50,
           "index_mb": 300}


class BenchMismatch(AssertionError):
    """nianbao, the scan and tantivy disagree about which reports hold a phrase."""


class PeakMemory:
    """Samples the memory of this process and its children (the index workers): the sum of their
    proportional set sizes, where a page shared by several processes counts once, split among
    them. Summed RSS would count a parent's pages once more per forked worker: with a loaded
    model (~1.5 GB) and two workers it reported 5 GB for 1.5-2 GB in use. A sample of a 1 GB
    process takes ~4 ms (the kernel walks its pages), hence a sample every quarter second."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += _proportional(proc)
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def _proportional(proc: psutil.Process) -> int:
    """Proportional set size where the system reports it (Linux), else resident set size."""
    info = proc.memory_full_info()
    return getattr(info, "pss", info.rss)


def rare_phrases(infos: list[ReportInfo]) -> list[str]:
    """The fixed rare phrases plus agency names of a few reports (present in one to a handful)."""
    picks = [infos[len(infos) // 3].agency, infos[(2 * len(infos)) // 3].agency, infos[-1].county + "人民政府"]
    return RARE_PHRASES + list(dict.fromkeys(picks))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Milliseconds of `repeat` calls after one untimed warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def dir_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


# --- the baselines -------------------------------------------------------------------------


def load_norm_texts(index_dir: Path) -> list[tuple[str, str]]:
    store = Store(index_dir, create=False)
    try:
        with store.snapshot():
            return [(r[0], r[1]) for r in store.norm_texts()]
    finally:
        store.close()


def scan(texts: list[tuple[str, str]], term: str) -> set[str]:
    return {rid for rid, text in texts if term in text}


class TantivyBigrams:
    """tantivy over the same grams: bigrams with positions (a phrase of bigrams is a substring), unigrams."""

    def __init__(self, path: Path, texts: list[tuple[str, str]]) -> None:
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("bigrams", tokenizer_name="whitespace", index_option="position")
        builder.add_text_field("chars", tokenizer_name="whitespace", index_option="basic")
        builder.add_unsigned_field("ord", stored=True, fast=True)
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.ids = [rid for rid, _ in texts]
        writer = self.index.writer(heap_size=256_000_000, num_threads=2)
        for ord_, (_, text) in enumerate(texts):
            text = text.replace(" ", SPACE_MARK)
            doc = tantivy.Document()
            doc.add_text("bigrams", " ".join(text[i:i + 2] for i in range(len(text) - 1)))
            doc.add_text("chars", " ".join(set(text)))
            doc.add_unsigned("ord", ord_)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, term: str):
        term = term.replace(" ", SPACE_MARK)
        q = self.tantivy.Query
        if len(term) == 1:
            return q.term_query(self.schema, "chars", term)
        grams = [term[i:i + 2] for i in range(len(term) - 1)]
        if len(grams) == 1:
            return q.term_query(self.schema, "bigrams", grams[0])
        return q.phrase_query(self.schema, "bigrams", grams)

    def top(self, term: str, limit: int = 20) -> tuple[int, list[str]]:
        """The count and the first `limit` report ids: what a results page needs."""
        found = self.searcher.search(self.query(term), limit=limit, count=True)
        ords = self.searcher.fast_field_values("ord", [addr for _, addr in found.hits])
        return found.count, [self.ids[o] for o in ords]

    def all(self, term: str) -> set[str]:
        found = self.searcher.search(self.query(term), limit=max(len(self.ids), 1), count=False)
        return {self.ids[o] for o in self.searcher.fast_field_values("ord", [addr for _, addr in found.hits])}


# --- the run -------------------------------------------------------------------------------


def ensure_corpus(workdir: Path, reports: int, seed: int) -> tuple[Path, list[ReportInfo], float]:
    """The synthetic corpus, reused when the folder already holds this size and seed."""
    corpus = workdir / "corpus"
    manifest = workdir / "corpus.json"
    if manifest.exists():
        saved = json.loads(manifest.read_text(encoding="utf-8"))
        if saved["reports"] == reports and saved["seed"] == seed and corpus.is_dir():
            return corpus, [ReportInfo(**i) for i in saved["infos"]], 0.0
    shutil.rmtree(corpus, ignore_errors=True)
    started = time.perf_counter()
    infos = generate(corpus, reports, seed)
    seconds = time.perf_counter() - started
    manifest.write_text(json.dumps({"reports": reports, "seed": seed, "infos": [i.__dict__ for i in infos]},
                                   ensure_ascii=False), encoding="utf-8")
    return corpus, infos, seconds


def summarise(times: list[float]) -> dict:
    return {"p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(percentile(times, 0.95), 2),
            "max_ms": round(max(times), 2) if times else float("nan")}


def run(reports: int, workdir: Path, *, seed: int = 7, repeat: int = 5, workers: int | None = None,
        reuse_index: bool = False, with_tantivy: bool = True, log: Callable[[str], None] = print) -> dict:
    """Build, query, compare; returns every number printed. Raises BenchMismatch on disagreement."""
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, infos, synth_s = ensure_corpus(workdir, reports, seed)
    chars = sum(i.chars for i in infos)
    log(f"corpus: {len(infos)} reports, {chars / 1e6:.1f} M chars" + (f" (generated in {synth_s:.1f} s)" if synth_s else " (reused)"))
    index_dir = workdir / "index"
    result: dict = {"reports": reports, "chars": chars, "seed": seed, "cpus": os.cpu_count()}

    if not (reuse_index and (index_dir / STORE_FILE).exists()):
        shutil.rmtree(index_dir, ignore_errors=True)
        with PeakMemory() as mem:
            started = time.perf_counter()
            summary = index_paths([corpus], index_dir, embed=False, workers=workers)
            build_s = time.perf_counter() - started
        result["build"] = {"seconds": round(build_s, 2), "reports_per_s": round(summary.reports / build_s, 1),
                           "peak_memory_mb": round(mem.peak / 1e6), "indexed": summary.reports}
        log(f"build: {summary.reports} reports in {build_s:.1f} s = {summary.reports / build_s:.0f} reports/s, "
            f"peak memory {mem.peak / 1e6:.0f} MB (with workers)")
    result["index_mb"] = round(dir_mb(index_dir / FULLTEXT_DIR), 1)
    result["store_mb"] = round(dir_mb(index_dir / STORE_FILE), 1)
    log(f"size: full-text index {result['index_mb']} MB, store {result['store_mb']} MB")

    phrases = {"phrase_common": COMMON_PHRASES, "phrase_rare": rare_phrases(infos)}
    searcher = Searcher(index_dir, remember=0)  # every timed query from scratch, none remembered
    timings: dict[str, dict[str, list[float]]] = {}
    with PeakMemory() as mem:
        started = time.perf_counter()
        searcher.run(COMMON_PHRASES[0], limit=20)
        first_ms = (time.perf_counter() - started) * 1000
        for cls, queries in phrases.items():
            timings[cls] = {q: timed(lambda q=q: searcher.run(q, limit=20), repeat)[0] for q in queries}
        timings["keyword"] = {q: timed(lambda q=q: searcher.run(q, mode="keyword", limit=10), repeat)[0]
                              for q in KEYWORD_QUERIES}
        # What the desk's facets ask for: every matching report, with the kinds it holds the query in.
        timings["keyword_facets"] = {q: timed(lambda q=q: searcher.run(q, mode="keyword", limit=None, snippets=False),
                                              repeat)[0] for q in KEYWORD_QUERIES}
    result["search_peak_memory_mb"] = round(mem.peak / 1e6)
    result["first_query_ms"] = round(first_ms, 1)
    found = {q: {r["report_id"] for r in searcher.run(q, limit=None, snippets=False)["results"]}
             for queries in phrases.values() for q in queries}
    searcher.close()

    texts = load_norm_texts(index_dir)
    terms = {q: normalize(q) for queries in phrases.values() for q in queries}
    scan_times = {cls: {q: timed(lambda q=q: scan(texts, terms[q]), repeat)[0] for q in queries}
                  for cls, queries in phrases.items()}
    scanned = {q: scan(texts, terms[q]) for q in terms}

    tantivy_times: dict[str, dict[str, list[float]]] = {}
    tantivy_found: dict[str, set[str]] = {}
    if with_tantivy:
        tantivy_dir = workdir / "tantivy"
        shutil.rmtree(tantivy_dir, ignore_errors=True)
        started = time.perf_counter()
        engine = TantivyBigrams(tantivy_dir, texts)
        result["tantivy_build_s"] = round(time.perf_counter() - started, 1)
        result["tantivy_index_mb"] = round(dir_mb(tantivy_dir), 1)
        tantivy_times = {cls: {q: timed(lambda q=q: engine.top(terms[q]), repeat)[0] for q in queries}
                         for cls, queries in phrases.items()}
        tantivy_found = {q: engine.all(terms[q]) for q in terms}

    problems = []
    for q in terms:
        if found[q] != scanned[q]:
            problems.append(f"{q}: nianbao {len(found[q])} reports, scan {len(scanned[q])} "
                            f"(only nianbao {len(found[q] - scanned[q])}, only scan {len(scanned[q] - found[q])})")
        if with_tantivy and tantivy_found[q] != scanned[q]:
            problems.append(f"{q}: tantivy {len(tantivy_found[q])} reports, scan {len(scanned[q])}")
    result["hits"] = {q: len(scanned[q]) for q in terms}
    result["agree"] = not problems

    classes: dict[str, dict] = {}
    for cls in list(phrases) + ["keyword", "keyword_facets"]:
        all_times = [t for ts in timings[cls].values() for t in ts]
        row = {"nianbao": summarise(all_times),
               "per_query_p50_ms": {q: round(statistics.median(ts), 2) for q, ts in timings[cls].items()}}
        if cls in scan_times:
            row["scan"] = summarise([t for ts in scan_times[cls].values() for t in ts])
            row["scan_per_query_p50_ms"] = {q: round(statistics.median(ts), 2) for q, ts in scan_times[cls].items()}
        if cls in tantivy_times:
            row["tantivy"] = summarise([t for ts in tantivy_times[cls].values() for t in ts])
            row["tantivy_per_query_p50_ms"] = {q: round(statistics.median(ts), 2) for q, ts in tantivy_times[cls].items()}
        classes[cls] = row
    phrase_all = [t for cls in phrases for ts in timings[cls].values() for t in ts]
    classes["phrase_all"] = {"nianbao": summarise(phrase_all)}
    result["queries"] = classes
    _print_report(result, log)
    if problems:
        raise BenchMismatch("engines disagree:\n  " + "\n  ".join(problems))
    log("agreement: nianbao, scan" + (" and tantivy" if with_tantivy else "") + f" return the same reports for all {len(terms)} phrases")
    return result


def _print_report(result: dict, log: Callable[[str], None]) -> None:
    log(f"first query (cold caches): {result['first_query_ms']} ms; search peak memory {result['search_peak_memory_mb']} MB")
    if "tantivy_build_s" in result:
        log(f"tantivy: built in {result['tantivy_build_s']} s, {result['tantivy_index_mb']} MB")
    log(f"{'class':14} {'engine':8} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}  ratio p50 (nianbao/engine)")
    for cls, row in result["queries"].items():
        base = row["nianbao"]["p50_ms"]
        for engine in ("nianbao", "scan", "tantivy"):
            if engine in row:
                s = row[engine]
                ratio = "" if engine == "nianbao" else f"{base / s['p50_ms']:.2f}x" if s["p50_ms"] else "inf"
                log(f"{cls:14} {engine:8} {s['p50_ms']:9.2f} {s['p95_ms']:9.2f} {s['max_ms']:9.2f}  {ratio}")
    for cls, row in result["queries"].items():
        if "per_query_p50_ms" in row:
            parts = []
            for q, ms in row["per_query_p50_ms"].items():
                extra = [f"{row[k][q]:.1f}" for k in ("scan_per_query_p50_ms", "tantivy_per_query_p50_ms") if k in row]
                hits = result["hits"].get(q)
                parts.append(f"{q[:14]}={ms:.1f}" + (f"/{'/'.join(extra)}" if extra else "")
                             + (f" [{hits}]" if hits is not None else ""))
            log(f"  {cls} p50 ms per query (nianbao/scan/tantivy [reports]): " + ", ".join(parts))
    if result["reports"] >= 20000:
        build = result.get("build", {})
        checks = {
            "build_reports_per_s": (build.get("reports_per_s", float("nan")), ">="),
            "phrase_p50_ms": (result["queries"]["phrase_all"]["nianbao"]["p50_ms"], "<="),
            "phrase_p95_ms": (result["queries"]["phrase_all"]["nianbao"]["p95_ms"], "<="),
            "keyword_p50_ms": (result["queries"]["keyword"]["nianbao"]["p50_ms"], "<="),
            "index_mb": (result["index_mb"], "<="),
        }
        for name, (value, op) in checks.items():
            ok = value >= TARGETS[name] if op == ">=" else value <= TARGETS[name]
            log(f"target {name} {op} {TARGETS[name]}: {value} {'PASS' if ok else 'MISS'}")
    else:
        log("(the targets apply at 20,000 reports)")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query (after one warm-up)")
    parser.add_argument("--workers", type=int, default=None, help="parsing processes (default: up to 4 CPUs)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpus and indexes here (reused next time)")
    parser.add_argument("--reuse-index", action="store_true", help="skip the build when WORKDIR already has an index")
    parser.add_argument("--no-tantivy", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    with_tantivy = not args.no_tantivy
    if with_tantivy:
        try:
            import tantivy  # noqa: F401
        except ImportError:
            print("tantivy is not installed (pip install -e '.[bench]'); running without it")
            with_tantivy = False
    temp = None
    workdir = args.workdir
    if workdir is None:
        temp = tempfile.mkdtemp(prefix="nianbao-bench-")
        workdir = Path(temp)
    try:
        result = run(args.reports, workdir, seed=args.seed, repeat=args.repeat, workers=args.workers,
                     reuse_index=args.reuse_index, with_tantivy=with_tantivy)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
