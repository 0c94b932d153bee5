"""Embedding through a distributed engine on a local cluster, against the same model in this process.

Why: issue #25 asks for embedding beyond one machine on an existing engine, Ray or Dask. This
measures, for one engine at a time (each is installed in its own environment when comparing):
the cluster's start time, the first pass over the texts (the workers load the model), a
second pass (throughput), and the peak memory of this process and its children (summed PSS,
which counts the workers and, for Ray, its raylet and GCS). The in-process reference runs
first in the same process, so the ratio holds on a shared machine where absolute figures do not.

    python bench/cluster.py --engine dask --workers 1 --texts 768
    python bench/cluster.py --engine ray --workers 1 --texts 768
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from embed_speed import corpus_passages  # noqa: E402
from fulltext import PeakMemory  # noqa: E402

from indexer.semantic.cluster import CLUSTER_BATCH, embed_on_cluster  # noqa: E402
from indexer.semantic.vectors import embed_documents, get_model  # noqa: E402


def run_dask(texts: list[str], model_id: str, workers: int) -> tuple[dict, np.ndarray]:
    from distributed import LocalCluster

    started = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    out = {"start_s": time.perf_counter() - started}
    try:
        vectors = np.empty((len(texts), 384), dtype=np.float16)
        for label in ("first_s", "second_s"):
            t = time.perf_counter()
            for start, rows in embed_on_cluster(cluster.scheduler_address, model_id, texts):
                vectors[start:start + len(rows)] = rows
            out[label] = time.perf_counter() - t
    finally:
        cluster.close()
    return out, vectors


def run_ray(texts: list[str], model_id: str, workers: int) -> tuple[dict, np.ndarray]:
    import ray

    class Embed:
        """An actor holding the model, as ray.data's actor pools want."""

        def __init__(self) -> None:
            from indexer.semantic.vectors import get_model

            self.model = get_model(model_id)

        def __call__(self, batch: dict) -> dict:
            from indexer.semantic.vectors import embed_documents

            return {"i": batch["i"], "v": embed_documents(self.model, list(batch["text"])).astype(np.float16)}

    started = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    out = {"start_s": time.perf_counter() - started}
    try:
        vectors = np.empty((len(texts), 384), dtype=np.float16)
        for label in ("first_s", "second_s"):
            t = time.perf_counter()
            ds = ray.data.from_items([{"i": i, "text": s} for i, s in enumerate(texts)])
            ds = ds.map_batches(Embed, batch_size=CLUSTER_BATCH, concurrency=workers, num_cpus=1)
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                vectors[batch["i"]] = np.stack(batch["v"])
            out[label] = time.perf_counter() - t
    finally:
        ray.shutdown()
    return out, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["dask", "ray"], required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--texts", type=int, default=768)
    args = parser.parse_args()
    texts = corpus_passages(ROOT / "corpus")[: args.texts]
    texts.sort(key=len, reverse=True)

    embedder = get_model()
    embed_documents(embedder, texts[:32])
    t = time.perf_counter()
    local = embed_documents(embedder, texts)
    local_s = time.perf_counter() - t
    with PeakMemory() as mem:
        runner = run_dask if args.engine == "dask" else run_ray
        out, vectors = runner(texts, embedder.model_id, args.workers)
    cos = np.sum(vectors.astype(np.float32) * local, axis=1)
    report = {"engine": args.engine, "workers": args.workers, "texts": len(texts), "cpus": os.cpu_count(),
              "local_per_s": len(texts) / local_s, "first_per_s": len(texts) / out["first_s"],
              "second_per_s": len(texts) / out["second_s"], **out,
              "second_vs_local": local_s / out["second_s"], "peak_pss_mb": mem.peak / 2**20,
              "min_cosine_to_local": float(cos.min()), "load": os.getloadavg()[0]}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
