"""Purity and coverage of the problem themes on the hand-labelled set (tests/data/themes/).

Embeds each labelled item as the index embeds a problems paragraph (section heading in front,
the index's model), clusters them with `indexer.findings.themes`, and prints purity (share of
clustered items whose label is their theme's majority label), coverage (share clustered) and
the themes. Usage: python bench/themes.py [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from indexer.findings.themes import cluster, purity_coverage
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    args = parser.parse_args()
    items = load()
    start = time.perf_counter()
    labels = cluster(embed(items, args.model), [i["text"] for i in items])
    purity, coverage = purity_coverage([i["theme"] for i in items], labels.tolist())
    print(f"{len(items)} labelled items, {len(set(i['theme'] for i in items))} hand themes, "
          f"{len(set(labels.tolist()) - {-1})} clusters; purity {purity:.3f}, coverage {coverage:.3f} "
          f"({time.perf_counter() - start:.1f} s)")
    for theme in sorted(set(labels.tolist())):
        members = [items[n]["theme"] for n in np.flatnonzero(labels == theme)]
        print(f"  {theme:>2}: {dict(Counter(members).most_common())}")


if __name__ == "__main__":
    main()
