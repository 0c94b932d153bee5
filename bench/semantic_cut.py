"""The relevance line of meaning search: precision and recall on real reports, against the fixed 40.

Why: meaning search showed the 40 closest passages whatever was asked; it now shows the passages
above a line (indexer/semantic/relevance.py). This measures, on the 30 real reports of
tests/data/realworld_shared and the 5 samples (35 reports), with the queries and gold passages of
bench/eval_semantic_cut.json:

- on-topic queries: passage precision (shown passages that answer / shown) and recall (answering
  passages shown / all that answer), and how many queries show at least one that answers;
- off-topic queries: how many show anything above the line, and how many passages.

    python bench/semantic_cut.py                 # index the 35 reports with vectors into a temp dir
    python bench/semantic_cut.py --index-dir DIR # reuse (or make) an index of them there
    python bench/semantic_cut.py --calibrate     # also: off-topic scores, and a grid of lines
    python bench/semantic_cut.py --json out.json

A shown passage answers when it is one of the query's gold passages (its report file, and a
substring of its normalised text).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.normalize import normalize  # noqa: E402

EVAL = ROOT / "bench" / "eval_semantic_cut.json"
REPORTS = [ROOT / "tests" / "data" / "realworld_shared", ROOT / "indexer" / "data" / "corpus"]
FIXED = 40  # what the desk showed before the line


def passage_key(source: str, text: str) -> tuple[str, str]:
    return source, normalize(text).replace("\n", "")


def gold_rows(keys: list[tuple[str, str]], spec: dict) -> list[set[int]]:
    """For each on-topic query, the passage rows its gold names (each must name exactly one)."""
    out = []
    for q in spec["on_topic"]:
        rows = set()
        for g in q["gold"]:
            found = [i for i, (source, text) in enumerate(keys) if source == g["file"] and g["contains"] in text]
            if len(found) != 1:
                raise SystemExit(f"{q['query']}: {g} names {len(found)} passages, want 1")
            rows |= set(found)
        out.append(rows)
    return out


def build(index_dir: Path) -> None:
    """The 35 reports with vectors, unless index_dir holds them already."""
    from indexer.indexing import index_paths

    if (index_dir / "store.sqlite").is_file():
        return
    with tempfile.TemporaryDirectory(prefix="nianbao-cut-files-") as tmp:
        for folder in REPORTS:  # one folder: the samples' names do not collide with the real reports'
            for path in folder.glob("*.txt"):
                shutil.copy(path, Path(tmp) / path.name)
        index_paths([Path(tmp)], index_dir, embed=True, force=True)


def measure(index_dir: Path, spec: dict) -> dict:
    from indexer.query import Engine
    from indexer.semantic.relevance import Reference
    from indexer.semantic.search import passage_texts

    engine = Engine(index_dir)
    semantic = engine.semantic
    vs = semantic.vectors()
    with engine.fulltext.store.snapshot():
        sources = {r["id"]: r["source"] for r in engine.fulltext.store.reports()}
        texts = passage_texts(engine.fulltext.store, vs, range(vs.count))
    keys = [passage_key(sources[vs.report_ids[p]], t) for p, t in zip(vs.passages["report"], texts)]
    row_of = {key: i for i, key in enumerate(keys)}
    golds = gold_rows(keys, spec)
    reference = Reference(vs)

    queries = [(q["query"], gold) for q, gold in zip(spec["on_topic"], golds)] + [(q, set()) for q in spec["off_topic"]]
    rows_out, scores_all, latencies = [], [], []
    for query, gold in queries:
        started = time.perf_counter()
        found = engine.search(query, mode="semantic", limit=1000)
        latencies.append(time.perf_counter() - started)
        shown = {row_of[passage_key(r["source"], r["text"])] for r in found["results"] if r["relevant"]}
        vector = semantic.embed_query(query, vs)
        scores = vs.scores(vector / np.linalg.norm(vector))
        scores_all.append(scores)
        fixed = set(np.argsort(-scores, kind="stable")[:FIXED].tolist())
        rows_out.append({"query": query, "on_topic": bool(gold), "gold": len(gold), "line": found["relevance"]["line"],
                         "typical": found["relevance"]["typical"], "best": float(scores.max()),
                         "shown": len(shown), "answering": len(shown & gold),
                         "fixed_answering": len(fixed & gold), "shown_rows": shown, "gold_rows": gold})
    engine.close()
    return {"rows": rows_out, "scores": np.stack(scores_all), "passages": vs.count, "model": vs.model_id,
            "latency_ms": 1000 * float(np.median(latencies)), "reference": reference}


def totals(rows: list[dict], shown: str = "shown", answering: str = "answering") -> dict:
    on = [r for r in rows if r["on_topic"]]
    off = [r for r in rows if not r["on_topic"]]
    n_shown = sum(r[shown] for r in on)
    return {"precision": sum(r[answering] for r in on) / max(n_shown, 1),
            "recall": sum(r[answering] for r in on) / sum(r["gold"] for r in on),
            "answered": sum(r[answering] > 0 for r in on), "on_topic": len(on),
            "shown_per_query": n_shown / len(on),
            "off_topic_showing": sum(r[shown] > 0 for r in off), "off_topic": len(off),
            "off_topic_passages": sum(r[shown] for r in off)}


def calibrate(out: dict, spec: dict) -> list[str]:
    """What unrelated queries reach, and precision/recall over a grid of floors and margins."""
    rows, scores = out["rows"], out["scores"]
    on = np.array([r["on_topic"] for r in rows])
    gold = np.zeros(scores.shape, dtype=bool)
    for i, r in enumerate(rows):
        gold[i, list(r["gold_rows"])] = True
    lines = [f"off-topic best scores: max {scores[~on].max(axis=1).max():.4f}, "
             f"median {np.median(scores[~on].max(axis=1)):.4f} over {int((~on).sum())} queries x {scores.shape[1]} passages",
             f"on-topic best scores: min {scores[on].max(axis=1).min():.4f}, median {np.median(scores[on].max(axis=1)):.4f}",
             f"{'floor':>6} {'margin':>6} {'P':>5} {'R':>5} {'F1':>5} {'answered':>9} {'off shows':>9}"]
    typical = np.quantile(scores, 0.9, axis=1, keepdims=True)
    for floor in (0.86, 0.865, 0.87, 0.875, 0.88, 0.885):
        for margin in (0.0, 0.01, 0.015, 0.02, 0.025):
            shown = scores >= np.maximum(floor, typical + margin)
            tp = (shown & gold)[on].sum()
            p, r = tp / max(shown[on].sum(), 1), tp / gold[on].sum()
            lines.append(f"{floor:6.3f} {margin:6.3f} {p:5.2f} {r:5.2f} {2 * p * r / max(p + r, 1e-9):5.2f} "
                         f"{int(sum((shown & gold)[i].any() for i in np.flatnonzero(on))):>5}/{int(on.sum())} "
                         f"{int(shown[~on].any(axis=1).sum()):>5}/{int((~on).sum())}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=EVAL)
    parser.add_argument("--index-dir", type=Path, help="Keep the index here (made if missing).")
    parser.add_argument("--calibrate", action="store_true", help="Also print off-topic scores and a grid of lines.")
    parser.add_argument("--json", type=Path, help="Also write the numbers here.")
    args = parser.parse_args()
    spec = json.loads(args.eval.read_text(encoding="utf-8"))

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-cut-") as tmp:
        index_dir = args.index_dir or Path(tmp)
        build(index_dir)
        out = measure(index_dir, spec)

    print(f"{len(out['rows'])} queries over {out['passages']} passages of 35 reports ({out['model']}); "
          f"semantic search p50 {out['latency_ms']:.0f} ms")
    print(f"{'query':<24} {'line':>6} {'best':>6} {'shown':>5} {'answer':>6} {'gold':>5} {'fixed40':>7}")
    for r in out["rows"]:
        print(f"{r['query'][:22]:<24} {r['line']:6.3f} {r['best']:6.3f} {r['shown']:5d} {r['answering']:6d} "
              f"{r['gold']:5d} {r['fixed_answering'] if r['on_topic'] else '':>7}")
    line, fixed = totals(out["rows"]), totals([{**r, "fixed": FIXED} for r in out["rows"]], "fixed", "fixed_answering")
    print(f"\n{'':14} {'precision':>9} {'recall':>7} {'answered':>9} {'shown/query':>11} {'off-topic showing':>18}")
    for name, t in (("fixed 40", fixed), ("relevance line", line)):
        print(f"{name:14} {t['precision']:9.2f} {t['recall']:7.2f} {t['answered']:>5}/{t['on_topic']:<3} "
              f"{t['shown_per_query']:11.1f} {t['off_topic_showing']:>12}/{t['off_topic']} ({t['off_topic_passages']} passages)")
    if args.calibrate:
        print()
        print("\n".join(calibrate(out, spec)))
    if args.json:
        slim = [{k: v for k, v in r.items() if not k.endswith("_rows")} for r in out["rows"]]
        args.json.write_text(json.dumps({"queries": slim, "line": line, "fixed_40": fixed, "passages": out["passages"],
                                         "model": out["model"], "latency_ms": out["latency_ms"]},
                                        ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
