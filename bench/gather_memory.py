"""Peak memory of a vectors update, this checkout's `vectors.py` against main's, in one run.

Why: issue #25 asks for the embedding stage in <= 2 GB at 20,000 reports; its vectors used to
wait in a dict of a million small arrays. The model is not what is measured here, so a
stand-in of the real model's width (384, vectors from each text's hash, ~30 us a text) embeds:
what remains is the bookkeeping, the cache and the generation. Each variant runs in a fresh
process, alternating, twice: once embedding everything (empty cache), once building a fresh
generation from the full cache. Peak is the child's summed PSS sampled every 0.25 s, also
given above the PSS at the update's start (Python, numpy, the store open).

    python bench/gather_memory.py --reports 1000 --workdir /tmp/nb-gather
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import PeakMemory, ensure_corpus  # noqa: E402

DIM = 384


class HashEmbedder:
    """Unit vectors from each text's hash: the real model's width at a fraction of its cost."""

    model_id = "hash-384"
    dim = DIM

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        rows = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            rows[i] = np.random.default_rng(seed).standard_normal(DIM)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def vectors_module(variant: str):  # noqa: ANN201 - a module
    """This checkout's indexer.semantic.vectors, or main's loaded beside it in the same package."""
    if variant == "new":
        from indexer.semantic import vectors

        return vectors
    source = subprocess.run(["git", "-C", str(ROOT), "show", "main:indexer/semantic/vectors.py"],
                            capture_output=True, text=True, check=True).stdout
    path = Path("/tmp") / "nianbao_vectors_main.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("indexer.semantic._vectors_main", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def child(variant: str, index_dir: Path) -> dict:
    from indexer.store import Store

    vectors = vectors_module(variant)
    vectors._MODELS[HashEmbedder.model_id] = HashEmbedder()
    shutil.rmtree(index_dir / "vectors", ignore_errors=True)
    out = {"variant": variant}
    for label in ("embed_all", "from_cache"):
        if label == "from_cache":
            (index_dir / "vectors" / "CURRENT").unlink()
            vectors._LOADED.clear()
        store = Store(index_dir, create=False)
        try:
            with PeakMemory() as mem:
                base = mem.peak
                started = time.perf_counter()
                update = vectors.update_vectors(index_dir, store, model=HashEmbedder.model_id)
            out[label] = {"peak_mb": round(mem.peak / 2**20, 1), "above_start_mb": round((mem.peak - base) / 2**20, 1), "seconds": round(time.perf_counter() - started, 2),
                          "passages": update.passages, "embedded": update.embedded, "cached": update.cached}
        finally:
            store.close()
    vs = vectors.load_vectors(index_dir)
    out["digest"] = hashlib.blake2b(np.ascontiguousarray(vs.matrix).tobytes()
                                    + np.asarray(vs.window_matrix).tobytes()).hexdigest()[:16]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nb-gather"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["old", "new"])
    args = parser.parse_args()
    index_dir = args.workdir / "index"
    if args.child:
        print(json.dumps(child("old" if args.child == "old" else "new", index_dir)))
        return
    from indexer.indexing import index_paths

    corpus, _, _ = ensure_corpus(args.workdir, args.reports, seed=0)
    if not index_dir.exists():
        index_paths([corpus], index_dir, embed=False)
    results = []
    for _ in range(args.rounds):
        for variant in ("old", "new"):
            done = subprocess.run([sys.executable, __file__, "--child", variant, "--workdir", str(args.workdir)],
                                  capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    print("same vectors:", len({r["digest"] for r in results}) == 1)


if __name__ == "__main__":
    main()
