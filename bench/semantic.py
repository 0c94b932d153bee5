"""Semantic search quality and embedding speed on the five sample reports (or an eval set's own corpus).

Why: journalists search in their own words; this measures how often the passage they mean
comes first (R@1), in the top five (R@5), and how high (MRR), for keyword, semantic and hybrid
modes, on the paraphrased queries of bench/eval_semantic.json; and whether a report's problems
section finds another report's problems section first among that report's sections.
Targets (issue 4): semantic R@5 >= 0.90, section-pair top-1 >= 0.90.

    python bench/semantic.py              # index corpus/ with embeddings into a temp dir, print the table
    python bench/semantic.py --check      # only check the eval set against the corpus (no model)
    python bench/semantic.py --json out.json --misses
    python bench/semantic.py --eval bench/eval_semantic_fresh.json   # issue 25's fresh set, 35 reports

An eval set may name the folders it is written over (``"corpus"``, relative to the repository
root; default ``corpus/``): the fresh set indexes the samples and the 30 real reports together.

A result hits a gold passage when it comes from the gold report and its passage contains the
gold substring or shares at least 12 consecutive characters with it (normalised text). In
keyword mode a result is a whole report and its text the snippets shown for it: with five
reports its R@5 says little, and a paraphrase, one term of many words, is rarely whole in one
section. Semantic mode's ranks are its ranking's; the page shows only the passages above the
relevance line, and how often the gold one is among them is printed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.normalize import normalize  # noqa: E402

EVAL = ROOT / "bench" / "eval_semantic.json"
CORPUS = ["corpus"]  # folders indexed when an eval set names none
MODES = ("keyword", "semantic", "hybrid")
OVERLAP = 12       # consecutive characters a result must share with a gold substring
MAX_SHARED = 2     # longest run a query may share with its gold paragraph
LIMIT = 20
TARGETS = {"semantic R@5": 0.90, "section-pair top-1": 0.90}  # issue 4


def longest_run(a: str, b: str) -> int:
    """Length of the longest common substring of a and b."""
    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def words_only(text: str) -> str:
    """Normalised text without punctuation: what counts when a query is checked for copying."""
    return "".join(c for c in normalize(text) if c.isalnum())


def hits(text: str, gold: str) -> bool:
    """Does a (normalised) result passage cover the (normalised) gold substring?"""
    return gold in text or longest_run(text, gold) >= min(len(gold), OVERLAP)


def gold_paragraphs(store, spec: dict) -> dict[tuple[str, str], str]:
    """(file, substring) -> the one normalised prose paragraph of that file holding the substring."""
    by_source: dict[str, list[str]] = {}
    reports = {r["id"]: r["source"] for r in store.reports()}
    for row in store.paragraphs():
        by_source.setdefault(reports[row["report_id"]], []).append(normalize(row["text"]))
    found = {}
    for q in spec["queries"]:
        for g in q["gold"]:
            key = (g["file"], normalize(g["contains"]))
            holders = [p for p in by_source.get(g["file"], []) if key[1] in p]
            if len(holders) != 1:
                raise SystemExit(f"{q['id']}: '{g['contains']}' is in {len(holders)} paragraphs of {g['file']}, want 1")
            found[key] = holders[0]
    return found


def corpus_paths(spec: dict) -> list[Path]:
    """The folders an eval set is written over."""
    return [ROOT / folder for folder in spec.get("corpus", CORPUS)]


def check(store, spec: dict) -> list[str]:
    """Problems with the eval set: ambiguous gold, queries copying their gold paragraph."""
    problems = []
    paragraphs = gold_paragraphs(store, spec)
    ids = [q["id"] for q in spec["queries"]]
    if len(set(ids)) != len(ids):
        problems.append("duplicate query ids")
    for q in spec["queries"]:
        query = words_only(q["query"])
        for g in q["gold"]:
            paragraph = words_only(paragraphs[(g["file"], normalize(g["contains"]))])
            run = longest_run(query, paragraph)
            if run > MAX_SHARED:
                m = SequenceMatcher(None, query, paragraph, autojunk=False).find_longest_match(0, len(query), 0, len(paragraph))
                problems.append(f"{q['id']}: shares '{query[m.a:m.a + m.size]}' with its gold paragraph in {g['file']}")
    return problems


def result_texts(result: dict) -> list[str]:
    """The passage of a semantic/hybrid result, or the snippets of a keyword (report) result."""
    if "text" in result:
        return [normalize(result["text"])]
    return [normalize(s["text"]) for s in result.get("snippets", [])]


def first_hit(results: list[dict], gold: list[dict]) -> int | None:
    """1-based rank of the first result covering any gold passage."""
    for rank, result in enumerate(results, 1):
        for g in gold:
            if result.get("source") == g["file"] and any(hits(t, normalize(g["contains"])) for t in result_texts(result)):
                return rank
    return None


def score(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {"R@1": sum(r == 1 for r in ranks) / n, "R@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "MRR": sum(1 / r for r in ranks if r) / n, "n": n}


def section_vectors(index_dir: Path) -> dict[tuple[str, int], np.ndarray]:
    """(report id, section ord) -> the section vector the vectors module stored (mean of its passages)."""
    from indexer.semantic.vectors import load_vectors

    vs = load_vectors(index_dir)
    return {(vs.report_ids[int(row["report"])], int(row["section"])): vs.section_vectors[i]
            for i, row in enumerate(vs.sections)}


def section_pairs(index_dir: Path, store, spec: dict) -> list[dict]:
    """For each pair: the kind of b's section closest to a's section of that kind."""
    vectors = section_vectors(index_dir)
    by_source = {r["source"]: r["id"] for r in store.reports()}
    kinds = {(r["report_id"], r["ord"]): r["kind"] for rid in by_source.values() for r in store.sections(rid)}
    out = []
    for pair in spec["section_pairs"]:
        a, b = by_source[pair["a"]], by_source[pair["b"]]
        a_keys = [k for k in vectors if k[0] == a and kinds[k] == pair["kind"]]
        b_keys = [k for k in vectors if k[0] == b]
        query = sum(vectors[k] for k in a_keys)
        best = max(b_keys, key=lambda k: float(np.dot(query, vectors[k])))
        out.append({**pair, "top1": kinds[best], "ok": kinds[best] == pair["kind"]})
    return out


def run(args: argparse.Namespace, spec: dict) -> dict:
    """The whole measurement in a temporary index."""
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-semantic-") as tmp:
        return measure(args, spec, Path(tmp))


def measure(args: argparse.Namespace, spec: dict, index_dir: Path) -> dict:
    """Index the eval set's corpus into index_dir with embeddings, then run every query in every mode."""
    from indexer.indexing import index_paths
    from indexer.query import Engine, SearchFilters, parse_query
    from indexer.semantic.model import load_model
    from indexer.semantic.vectors import update_vectors
    from indexer.store import Store

    index_paths(corpus_paths(spec), index_dir, embed=False)
    store = Store(index_dir, create=False)
    gold_paragraphs(store, spec)

    # The model is loaded and warm before the clock starts; the fresh index has an empty embedding cache.
    embedder = load_model(args.model)
    embedder.embed_documents(["热身"])
    update = update_vectors(index_dir, store, model=embedder)

    engine = Engine(index_dir, model=embedder)
    table, misses = {}, []
    shown = []  # semantic mode: is the first gold passage ranked among those above the relevance line?
    for mode in MODES:
        ranks = []
        latencies = []
        for q in spec["queries"]:
            t0 = time.perf_counter()
            found = engine.search(q["query"], None, mode=mode, limit=LIMIT)
            latencies.append(time.perf_counter() - t0)
            results = found["results"]
            if mode == "semantic":  # the ranking itself, the relevance line aside (bench/semantic_cut.py measures it)
                parsed = parse_query(q["query"])
                ranked = engine.semantic.rank(parsed, SearchFilters().merged(parsed.filters), LIMIT)
                results = engine.semantic.results(ranked.vs, ranked.rows, ranked.scores)
                hit = first_hit(results, q["gold"])
                shown.append(hit is not None and hit <= found["relevance"]["passed"])
            rank = first_hit(results, q["gold"])
            ranks.append(rank)
            if args.misses and (rank is None or rank > 1):
                misses.append({"mode": mode, "id": q["id"], "query": q["query"], "rank": rank,
                               "gold": q["gold"], "top": [{"source": r.get("source"), "score": r.get("score"),
                                                           "text": (r.get("text") or "")[:120]} for r in results[:3]]})
        table[mode] = {**score(ranks), "p50_ms": 1000 * float(np.median(latencies[1:] or latencies))}
    pairs = section_pairs(index_dir, store, spec)
    engine.close()
    store.close()
    return {
        "queries": len(spec["queries"]),
        "modes": table,
        "semantic_gold_above_line": sum(shown) / len(shown),
        "section_pairs": {"top1": sum(p["ok"] for p in pairs) / len(pairs), "n": len(pairs),
                          "wrong": [p for p in pairs if not p["ok"]]},
        "embedding": {"passages": update.passages, "embedded": update.embedded, "seconds": update.embed_seconds,
                      "passages_per_s": update.passages_per_second,
                      "model": embedder.model_id, "precision": embedder.precision, "cpus": os.cpu_count(),
                      "load_average": os.getloadavg()[0]},
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=EVAL)
    parser.add_argument("--check", action="store_true", help="Only check the eval set (no model).")
    parser.add_argument("--model", help="sentence-transformers name or path (default: the converted e5-small).")
    parser.add_argument("--misses", action="store_true", help="List queries whose gold was not ranked first.")
    parser.add_argument("--json", type=Path, help="Also write the numbers here.")
    args = parser.parse_args()
    spec = json.loads(args.eval.read_text(encoding="utf-8"))

    if args.check:
        from indexer.indexing import index_paths
        from indexer.store import Store

        with tempfile.TemporaryDirectory() as tmp:
            index_paths(corpus_paths(spec), Path(tmp), embed=False)
            store = Store(Path(tmp), create=False)
            problems = check(store, spec)
            store.close()
        for p in problems:
            print(p)
        print(f"{len(spec['queries'])} queries, {len(spec['section_pairs'])} section pairs: "
              + ("ok" if not problems else f"{len(problems)} problems"))
        sys.exit(1 if problems else 0)

    out = run(args, spec)
    print(f"{out['queries']} queries over {', '.join(spec.get('corpus', CORPUS))} (results per query: {LIMIT}; keyword ranks whole reports)")
    print(f"{'mode':10} {'R@1':>6} {'R@5':>6} {'MRR':>6} {'p50 ms':>8}")
    for mode, s in out["modes"].items():
        print(f"{mode:10} {s['R@1']:6.3f} {s['R@5']:6.3f} {s['MRR']:6.3f} {s['p50_ms']:8.1f}")
    print(f"semantic: ranks of the ranking itself; the gold passage is above the relevance line in "
          f"{out['semantic_gold_above_line']:.3f} of the queries (what the page shows as relevant)")
    sp = out["section_pairs"]
    print(f"section pairs top-1: {sp['top1']:.3f} ({sp['n']} pairs)")
    for p in sp["wrong"]:
        print(f"  {p['a']} -> {p['b']}: {p['top1']} ranked first, not {p['kind']}")
    measured = {"semantic R@5": out["modes"]["semantic"]["R@5"], "section-pair top-1": sp["top1"]}
    for name, target in TARGETS.items():
        print(f"target {name} >= {target:.2f}: {measured[name]:.3f} {'met' if measured[name] >= target else 'MISSED'}")
    e = out["embedding"]
    print(f"embedding while indexing: {e['embedded']} texts (passages, windows) in {e['seconds']:.1f} s = "
          f"{e['passages_per_s']:.1f} texts/s ({e['model']}, {e['precision']}, {e['cpus']} CPUs, "
          f"load average {e['load_average']:.1f})")
    for m in out["misses"]:
        print(f"\n[{m['mode']}] {m['id']} rank {m['rank']}: {m['query']}")
        for t in m["top"]:
            print(f"    {t['source']} {t['score']}: {t['text']}")
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
