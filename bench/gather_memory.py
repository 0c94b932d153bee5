"""Peak memory of a vectors update, this checkout's `vectors.py` against a base commit's, in one run.

Why: issue #25 asks for the embedding stage in <= 2 GB at 20,000 reports; its vectors used to
wait in a dict of a million small arrays, its passages in a million Python objects. The model
is not what is measured here, so a stand-in of the real model's width (384, vectors from each
text's hash, ~30 us a text) embeds: what remains is the bookkeeping, the cache and the
generation. Each variant runs in a fresh process, alternating: once embedding everything
(empty cache), once building a fresh generation from the full cache. Peak is the child's
summed PSS sampled every 0.25 s, also given above the PSS at the update's start (Python,
numpy, the store open). Every file of the generations written (vectors, windows, passage and
section tables, report and section vectors, centres, the ANN index) must be the same bytes.

``--model-size`` adds what the real model holds once loaded and warm: a fresh process's PSS
after loading it and embedding a batch of the corpus's longest texts, less its PSS before.

    python bench/gather_memory.py --reports 1000 --workdir /tmp/nb-gather --base main
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
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import PeakMemory, _proportional, ensure_corpus  # noqa: E402

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


def vectors_module(variant: str, base: str):  # noqa: ANN201 - a module
    """This checkout's indexer.semantic.vectors, or ``base``'s loaded beside it in the same package."""
    if variant == "new":
        from indexer.semantic import vectors

        return vectors
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{base}:indexer/semantic/vectors.py"],
                            capture_output=True, text=True, check=True).stdout
    path = Path("/tmp") / "nianbao_vectors_base.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("indexer.semantic._vectors_main", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def generation_digest(gen: Path) -> dict[str, str]:
    """Each file of a generation but its meta.json (which holds the time): name -> hash of its bytes."""
    return {f.name: hashlib.blake2b(f.read_bytes(), digest_size=8).hexdigest()
            for f in sorted(gen.iterdir()) if f.name != "meta.json"}


def child(variant: str, index_dir: Path, base: str, ann_threshold: int | None) -> dict:
    from indexer.store import Store

    vectors = vectors_module(variant, base)
    if ann_threshold is not None:
        vectors.ANN_THRESHOLD = ann_threshold
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
    out["files"] = generation_digest(vectors.load_vectors(index_dir).path)
    return out


def model_size(index_dir: Path) -> dict:
    """PSS the real model adds once loaded and warm (a batch of the longest texts embedded)."""
    from indexer.semantic.passages import iter_passages
    from indexer.semantic.vectors import EMBED_BATCH, embed_documents, get_model
    from indexer.store import Store

    store = Store(index_dir, create=False)
    try:
        ids = store.report_ids()[:300]
        texts = [p.embed_text for p in iter_passages(store.paragraphs(ids), headings=store.section_headings())]
    finally:
        store.close()
    texts = sorted(texts, key=len, reverse=True)[:EMBED_BATCH]
    me = psutil.Process()
    before = _proportional(me)
    started = time.perf_counter()
    embedder = get_model()
    loaded = _proportional(me)
    embed_documents(embedder, texts)
    warm = _proportional(me)
    return {"model_id": embedder.model_id, "before_mb": round(before / 2**20, 1),
            "loaded_mb": round((loaded - before) / 2**20, 1), "warm_mb": round((warm - before) / 2**20, 1),
            "longest_chars": len(texts[0]), "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nb-gather"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--base", default="main", help="the commit whose vectors.py is the old variant")
    parser.add_argument("--ann-threshold", type=int, help="build the ANN index above this many passages (both)")
    parser.add_argument("--model-size", action="store_true", help="also measure the real model's PSS, loaded and warm")
    parser.add_argument("--child", choices=["old", "new", "model"])
    args = parser.parse_args()
    index_dir = args.workdir / "index"
    if args.child == "model":
        print(json.dumps(model_size(index_dir)))
        return
    if args.child:
        print(json.dumps(child(args.child, index_dir, args.base, args.ann_threshold)))
        return
    from indexer.indexing import index_paths

    corpus, _, _ = ensure_corpus(args.workdir, args.reports, seed=0)
    if not index_dir.exists():
        index_paths([corpus], index_dir, embed=False)
    base = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base],
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"old: vectors.py of {args.base} ({base}); new: this checkout", flush=True)

    def run_child(variant: str) -> dict:
        extra = ["--ann-threshold", str(args.ann_threshold)] if args.ann_threshold is not None else []
        done = subprocess.run([sys.executable, __file__, "--child", variant, "--workdir", str(args.workdir),
                               "--base", base, *extra], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    results = []
    for _ in range(args.rounds):
        for variant in ("old", "new"):
            results.append(run_child(variant))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "files"}), flush=True)
    files = [r["files"] for r in results]
    differ = sorted({name for f in files for name in f if len({g.get(name) for g in files}) > 1})
    print("same files:", not differ, f"({len(files[0])} files)" if not differ else f"differ: {differ}")
    if args.model_size:
        print("real model:", json.dumps(run_child("model")), flush=True)


if __name__ == "__main__":
    main()
