"""Passages per second for the default embedding model: torch fp32, ONNX Runtime fp32 and int8, auto.

Why: the backend and precision are chosen per machine (bf16 on CPUs with native bf16, else
ONNX Runtime's fused fp32 graph; int8 on request); this shows what each buys here and how
close its vectors stay to torch fp32. Other work on the machine skews the numbers, so the
load average is printed with each one.

    python bench/embed_speed.py [--corpus DIR] [--batch-size N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np

from indexer.semantic.model import BACKEND_ENV, Embedder, choose_precision, ensure_default_model, load_model

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


def measure(embedder: Embedder, passages: list[str], batch_size: int | None, repeat: int) -> tuple[float, np.ndarray]:
    """Best passages/s over ``repeat`` runs after one warm-up batch, and the vectors."""
    embedder.embed_documents(passages[:batch_size or embedder.batch_size], batch_size=batch_size)
    best = float("inf")
    vectors = np.empty((0, embedder.dim), dtype=np.float32)
    for _ in range(repeat):
        start = time.perf_counter()
        vectors = embedder.embed_documents(passages, batch_size=batch_size)
        best = min(best, time.perf_counter() - start)
    return len(passages) / best, vectors


def _set_backend(backend: str | None) -> None:
    if backend is None:
        os.environ.pop(BACKEND_ENV, None)
    else:
        os.environ[BACKEND_ENV] = backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--batch-size", type=int, default=None, help="texts per model call (default: the backend's own)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    passages = corpus_passages(args.corpus)
    lengths = [len(p) for p in passages]
    print(f"{len(passages)} passages from {args.corpus} (chars: mean {np.mean(lengths):.0f}, max {max(lengths)})")

    start = time.perf_counter()
    folder = ensure_default_model()
    print(f"model folder {folder} ready in {time.perf_counter() - start:.1f} s")

    print(f"{os.cpu_count()} CPUs; other work on the machine skews the numbers, so each carries the load average")
    auto = choose_precision("cpu")
    variants = {"torch fp32": ("torch", "fp32"), "onnx fp32": ("onnx", "fp32"), "onnx int8": ("onnx", "int8"),
                f"auto ({auto})": (None, None)}
    results: dict[str, tuple[float, np.ndarray]] = {}
    saved = os.environ.get(BACKEND_ENV)
    for label, (backend, precision) in variants.items():
        try:
            _set_backend(backend or saved)
            embedder = load_model(precision=precision, device="cpu")
        except (ImportError, ValueError) as exc:
            print(f"{label:>14}: unavailable ({exc})")
            continue
        finally:
            _set_backend(saved)
        before = os.getloadavg()[0]
        results[label] = measure(embedder, passages, args.batch_size, args.repeat)
        cosines = np.sum(results["torch fp32"][1] * results[label][1], axis=1)
        print(f"{label:>14}: {results[label][0]:7.1f} passages/s  ({results[label][0] / results['torch fp32'][0]:.2f}x "
              f"torch fp32; cosine to it min {cosines.min():.5f}, mean {cosines.mean():.5f}; load "
              f"{before:.2f}->{os.getloadavg()[0]:.2f}; {embedder.backend}/{embedder.precision}, "
              f"batch {args.batch_size or embedder.batch_size}, max_seq_length {embedder.max_seq_length}, id {embedder.model_id})")

if __name__ == "__main__":
    main()
