"""Passages per second for the default embedding model: torch fp32 and bf16, ONNX Runtime fp32 and int8, auto.

Why: the backend and precision are chosen per machine (bf16 on CPUs with native bf16, else
ONNX Runtime's fused fp32 graph; int8 on request, its signed-weights graph on VNNI CPUs); this
shows what each buys here and how
close its vectors stay to torch fp32. Other work on the machine skews the numbers, so the
variants take turns, round after round, in one process, and each pass prints the load average.

    python bench/embed_speed.py [--corpus DIR | --indexed DIR...] [--batch-size N] [--repeat 3] [--spin]

torch's OpenMP threads sleep while they wait (``indexer.semantic`` sets ``OMP_WAIT_POLICY``);
``OMP_WAIT_POLICY=ACTIVE python bench/embed_speed.py`` measures them spinning.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np

from indexer.semantic.model import BACKEND_ENV, Embedder, choose_precision, ensure_default_model, ensure_onnx_model, load_model

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


def measure(embedder: Embedder, passages: list[str], batch_size: int | None) -> tuple[float, float, np.ndarray]:
    """Passages/s of one pass over ``passages``, this process's CPU ms a passage, and the vectors."""
    start, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.embed_documents(passages, batch_size=batch_size)
    return len(passages) / (time.perf_counter() - start), 1000 * (time.process_time() - cpu) / len(passages), vectors


def _set_backend(backend: str | None) -> None:
    if backend is None:
        os.environ.pop(BACKEND_ENV, None)
    else:
        os.environ[BACKEND_ENV] = backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--batch-size", type=int, default=None, help="texts per model call (default: the backend's own)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each round runs every variant once, in turn")
    parser.add_argument("--indexed", nargs="+", type=Path, metavar="DIR",
                        help="the distinct texts `nianbao index` embeds for these folders instead of --corpus's lines")
    parser.add_argument("--spin", action="store_true",
                        help="also each ONNX graph with its threads spinning while they wait (ONNX Runtime's default)")
    args = parser.parse_args()

    if args.indexed:
        from int8_layers import index_texts

        passages = index_texts(args.indexed)
    else:
        passages = corpus_passages(args.corpus)
    lengths = [len(p) for p in passages]
    print(f"{len(passages)} passages from {' '.join(map(str, args.indexed or [args.corpus]))} "
          f"(chars: mean {np.mean(lengths):.0f}, max {max(lengths)})")

    start = time.perf_counter()
    folder = ensure_default_model()
    print(f"model folder {folder} ready in {time.perf_counter() - start:.1f} s")

    print(f"{os.cpu_count()} CPUs; other work on the machine skews the numbers, so each carries the load average")
    auto = choose_precision("cpu")
    variants = {"torch fp32": ("torch", "fp32"), "torch bf16": ("torch", "bf16"), "onnx fp32": ("onnx", "fp32"),
                "onnx int8": ("onnx", "int8"), f"auto ({auto})": (None, None)}
    embedders: dict[str, Embedder] = {}
    saved = os.environ.get(BACKEND_ENV)
    for label, (backend, precision) in variants.items():
        try:
            _set_backend(backend or saved)
            embedders[label] = load_model(precision=precision, device="cpu")
        except (ImportError, ValueError) as exc:
            print(f"{label:>14}: unavailable ({exc})")
        finally:
            _set_backend(saved)
    if "onnx int8" in embedders and embedders["onnx int8"].model.folder.name.endswith("int8s8"):
        from indexer.semantic.model.backends.onnx import OnnxModel

        unsigned = load_model(precision="int8", device="cpu")  # the graph CPUs without VNNI get
        unsigned.model = OnnxModel(ensure_onnx_model("int8"), unsigned.max_seq_length)
        embedders["onnx int8 u8u8"] = unsigned
        variants["onnx int8 u8u8"] = ("onnx", "int8")
    if args.spin:  # the same graphs, ONNX Runtime's threads spinning while they wait
        from indexer.semantic.model.backends.onnx import OnnxModel

        for label in [label for label in embedders if label.startswith("onnx")]:
            spinning = load_model(precision=variants[label][1], device="cpu")
            spinning.model = OnnxModel(embedders[label].model.folder, spinning.max_seq_length, spin=True)
            embedders[label + " spin"] = spinning
    for embedder in embedders.values():  # warm-up: one batch each
        embedder.embed_documents(passages[:args.batch_size or embedder.batch_size], batch_size=args.batch_size)

    rates: dict[str, list[float]] = {label: [] for label in embedders}
    vectors: dict[str, np.ndarray] = {}
    for round_ in range(args.repeat):
        for label, embedder in embedders.items():
            before = os.getloadavg()[0]
            rate, cpu_ms, vectors[label] = measure(embedder, passages, args.batch_size)
            rates[label].append(rate)
            print(f"round {round_ + 1} {label:>15}: {rate:7.1f} passages/s, {cpu_ms:5.1f} ms CPU a passage  "
                  f"(load {before:.2f}->{os.getloadavg()[0]:.2f})", flush=True)
    reference = vectors["torch fp32"]
    print("best of the rounds, and the median:")
    for label, embedder in embedders.items():
        best, median = max(rates[label]), float(np.median(rates[label]))
        cosines = np.sum(reference * vectors[label], axis=1)
        print(f"{label:>15}: {best:7.1f} passages/s, median {median:6.1f} ({median / np.median(rates['torch fp32']):.2f}x "
              f"torch fp32); cosine to it min {cosines.min():.5f}, mean {cosines.mean():.5f}; "
              f"{embedder.backend}/{embedder.precision}, batch {args.batch_size or embedder.batch_size}, id {embedder.model_id}")


if __name__ == "__main__":
    main()
