"""Purity and coverage of the problem themes on the hand-labelled set (tests/data/themes/).

Embeds each labelled item as the index embeds a problems paragraph (section heading in front,
the index's model), clusters them with `indexer.findings.themes`, and prints purity (share of
clustered items whose label is their theme's majority label), coverage (share clustered) and
the themes, on all items and on each batch alone (batch 2 was labelled after batch 1 had been
used to choose the method: it is the held-out check). A batch's purity takes the majority
within the batch, over the clusters of the whole run.

Usage: python bench/themes.py [--model NAME] [--kmeans] [--sweep]
  --kmeans  the previous method (k-means, 10 restarts, seed 0) on the same rows, for comparison
  --sweep   purity for 5–12 neighbours (spectral) or seeds 0–9 (k-means): the spread
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from indexer.findings.themes import cluster, features, purity_coverage, theme_count
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--kmeans", action="store_true", help="the previous method, for comparison")
    parser.add_argument("--sweep", action="store_true", help="the spread over neighbours and seeds")
    args = parser.parse_args()
    items = load()
    texts = [i["text"] for i in items]
    matrix = embed(items, args.model)
    start = time.perf_counter()
    labels = kmeans(matrix, texts) if args.kmeans else cluster(matrix, texts)
    seconds = time.perf_counter() - start
    print(f"{'k-means' if args.kmeans else 'spectral'}: {len(items)} labelled items, "
          f"{len({i['theme'] for i in items})} hand themes, {len(set(labels.tolist()) - {-1})} clusters "
          f"({seconds:.1f} s)\n  {line(by_batch(items, labels))}")
    for theme in sorted(set(labels.tolist())):
        members = [items[n]["theme"] for n in np.flatnonzero(labels == theme)]
        print(f"  {theme:>2}: {dict(Counter(members).most_common())}")
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
