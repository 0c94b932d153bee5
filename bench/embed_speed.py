"""Passages per second for the default embedding model, fp32 against the auto-chosen precision.

Why: bf16 is about 3x faster than fp32 on CPUs with native bf16 but slower on others, so the
precision is picked from the CPU flags; this shows what that choice buys on this machine
and how close its vectors stay to fp32.

    python bench/embed_speed.py [--corpus DIR] [--batch-size 32] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np

from indexer.semantic.model import Embedder, choose_precision, ensure_default_model, load_model

ROOT = Path(__file__).resolve().parents[1]


def corpus_passages(corpus: Path, max_chars: int = 300, min_chars: int = 10) -> list[str]:
    """Lines of every report (blank lines and newlines split them), cut to at most ``max_chars``."""
    passages = []
    for path in sorted(corpus.glob("*.txt")):
        for line in re.split(r"\n+", path.read_text(encoding="utf-8")):
            line = line.strip()
            if len(line) < min_chars:
                continue
            for start in range(0, len(line), max_chars):
                chunk = line[start : start + max_chars].strip()
                if len(chunk) >= min_chars:
                    passages.append(chunk)
    return passages


def measure(embedder: Embedder, passages: list[str], batch_size: int, repeat: int) -> tuple[float, np.ndarray]:
    """Best passages/s over ``repeat`` runs after one warm-up batch, and the vectors."""
    embedder.embed_documents(passages[:batch_size], batch_size=batch_size)
    best = float("inf")
    vectors = np.empty((0, embedder.dim), dtype=np.float32)
    for _ in range(repeat):
        start = time.perf_counter()
        vectors = embedder.embed_documents(passages, batch_size=batch_size)
        best = min(best, time.perf_counter() - start)
    return len(passages) / best, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    passages = corpus_passages(args.corpus)
    lengths = [len(p) for p in passages]
    print(f"{len(passages)} passages from {args.corpus} (chars: mean {np.mean(lengths):.0f}, max {max(lengths)})")

    start = time.perf_counter()
    folder = ensure_default_model()
    print(f"model folder {folder} ready in {time.perf_counter() - start:.1f} s")

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other work on the machine skews the numbers)")
    auto = choose_precision("cpu")
    results: dict[str, tuple[float, np.ndarray]] = {}
    for precision in dict.fromkeys(["fp32", auto]):
        embedder = load_model(precision=precision, device="cpu")
        results[precision] = measure(embedder, passages, args.batch_size, args.repeat)
        print(f"{precision:>5}: {results[precision][0]:7.1f} passages/s  (batch {args.batch_size}, "
              f"max_seq_length {embedder.max_seq_length})")
    if auto == "fp32":
        print("auto-chosen precision is fp32 (no amx_bf16/avx512_bf16 on this CPU)")
    else:
        cosines = np.sum(results["fp32"][1] * results[auto][1], axis=1)
        speedup = results[auto][0] / results["fp32"][0]
        print(f"auto-chosen {auto}: {speedup:.2f}x fp32; cosine to fp32 min {cosines.min():.6f}, mean {cosines.mean():.6f}")


if __name__ == "__main__":
    main()
