"""Purity and coverage of the problem themes on the hand-labelled set (tests/data/themes/).

Embeds each labelled item as the index embeds a problems paragraph (section heading in front,
the index's model), sorts them into themes with `indexer.findings.themes` two ways, side by
side: spectral clustering alone (shipped before) and the anchored themes (shipped now). Prints
purity (share of items in a theme whose label is their theme's majority label), coverage
(share in a theme; 其他 counts as one) and the themes, on all items and on each batch alone. A
batch's purity takes the majority within the batch, over the themes of the whole run. Batch 2
was labelled after batch 1 had chosen the clustering; batch 3 after the clustering and before
the anchors were written: each method's held-out check is the batch after the ones it was
built on (batch 3 for the anchored themes).

Usage: python bench/themes.py [--model NAME] [--kmeans] [--sweep]
  --kmeans  k-means (10 restarts, seed 0), shipped before spectral clustering, as a third column
  --sweep   purity for 5–12 neighbours (spectral) or seeds 0–9 (k-means): the spread
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from indexer.findings.themes import anchor_vectors, anchored, cluster, features, purity_coverage, theme_count
from indexer.normalize import normalize
from indexer.semantic.passages import heading_context
from indexer.semantic.vectors import embed_documents, get_model

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "themes" / "labelled.jsonl"
HEADING = "五、存在的主要问题及改进情况"


def load() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def embed(items: list[dict], model: str | None = None) -> np.ndarray:
    context = heading_context(HEADING)
    return np.asarray(embed_documents(get_model(model), [context + normalize(i["text"]) for i in items]), dtype=np.float32)


def by_batch(items: list[dict], labels: np.ndarray) -> dict[str, tuple[float, float]]:
    """Purity and coverage on all items and on each batch alone."""
    out = {"all": purity_coverage([i["theme"] for i in items], labels.tolist())}
    for batch in sorted({i["batch"] for i in items}):
        rows = [n for n, i in enumerate(items) if i["batch"] == batch]
        out[f"batch {batch}"] = purity_coverage([items[n]["theme"] for n in rows], labels[rows].tolist())
    return out


def kmeans(matrix: np.ndarray, texts: list[str], seed: int = 0) -> np.ndarray:
    """The method shipped before spectral clustering: k-means on the same rows and k."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=theme_count(len(texts)), n_init=10, random_state=seed).fit_predict(features(matrix, texts))


def line(result: dict[str, tuple[float, float]]) -> str:
    return "; ".join(f"{name} purity {p:.3f} coverage {c:.3f}" for name, (p, c) in result.items())


def show(name: str, items: list[dict], labels: np.ndarray, seconds: float, keys: list | None = None) -> None:
    print(f"{name}: {len(items)} labelled items, {len({i['theme'] for i in items})} hand themes, "
          f"{len(set(labels.tolist()) - {-1})} themes ({seconds:.2f} s)\n  {line(by_batch(items, labels))}")
    for theme in sorted(set(labels.tolist())):
        members = [items[n]["theme"] for n in np.flatnonzero(labels == theme)]
        key = f" {keys[theme]}" if keys and theme >= 0 and keys[theme] else ""
        print(f"  {theme:>2}{key}: {dict(Counter(members).most_common())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--kmeans", action="store_true", help="k-means too, for comparison")
    parser.add_argument("--sweep", action="store_true", help="the spread over neighbours and seeds")
    args = parser.parse_args()
    items = load()
    texts = [i["text"] for i in items]
    matrix = embed(items, args.model)
    anchors = anchor_vectors(lambda texts: embed_documents(get_model(args.model), texts))
    start = time.perf_counter()
    old = cluster(matrix, texts)
    old_seconds = time.perf_counter() - start
    start = time.perf_counter()
    new, keys = anchored(matrix, texts, anchors)
    new_seconds = time.perf_counter() - start
    print("| purity (coverage) | " + " | ".join(by_batch(items, old)) + " |")
    print("|---|" + "---|" * len(by_batch(items, old)))
    for name, found in (("spectral clustering (before)", old), ("anchored themes (now)", new)):
        print(f"| {name} | " + " | ".join(f"{p:.3f} ({c:.2f})" for p, c in by_batch(items, found).values()) + " |")
    if args.kmeans:
        print("| k-means | " + " | ".join(f"{p:.3f} ({c:.2f})" for p, c in by_batch(items, kmeans(matrix, texts)).values()) + " |")
    agree = {b: np.mean([keys[l] == i["theme"] for i, l in zip(items, new) if b in ("all", i["batch"])])
             for b in ["all", *sorted({i["batch"] for i in items})]}
    print("| anchored: share whose theme is its own hand theme | " + " | ".join(f"{a:.3f}" for a in agree.values()) + " |")
    print("batch sizes: " + ", ".join(f"{b}: {n}" for b, n in sorted(Counter(i['batch'] for i in items).items())))
    show("spectral", items, old, old_seconds)
    show("anchored", items, new, new_seconds, keys)
    if args.sweep:
        runs = ([(f"seed {s}", kmeans(matrix, texts, s)) for s in range(10)] if args.kmeans else
                [(f"{nn} neighbours", cluster(matrix, texts, neighbours=nn)) for nn in range(5, 13)])
        results = []
        for name, found in runs:
            results.append(by_batch(items, found))
            print(f"  {name}: {line(results[-1])}")
        for key in results[0]:
            values = [r[key][0] for r in results]
            print(f"  {key}: purity median {np.median(values):.3f}, range {min(values):.3f}–{max(values):.3f}")


if __name__ == "__main__":
    main()
