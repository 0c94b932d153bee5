"""Semantic query latency at scale: synthetic unit vectors through the index's own code.

Writes a generation of N passage vectors (384 dimensions, clustered like real embeddings:
points scattered around a few thousand topic centres) with `write_vectors` — which builds the
faiss IVF index above `ANN_THRESHOLD` — then loads it with `load_vectors` and times
`VectorSet.search` for queries near stored passages, unfiltered and with a filter keeping
half the reports. The query embedding (one short text through the model, ~20-80 ms on these
cores) is not included: it does not depend on N.

    python bench/semantic_scale.py                 # 1,000,000 passages
    python bench/semantic_scale.py --passages 200000 --queries 500
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.semantic.vectors import ANN_THRESHOLD, PASSAGE_DTYPE, load_vectors, write_vectors  # noqa: E402

DIM = 384
PER_REPORT = 100


def rss_mb() -> float:
    """Current resident memory of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def synthetic(n: int, centres: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((centres, DIM), dtype=np.float32)
    out = np.empty((n, DIM), dtype=np.float16)
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        block = topics[rng.integers(0, centres, size)] + 0.8 * rng.standard_normal((size, DIM), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + size] = block
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--centres", type=int, default=5000)
    parser.add_argument("--workdir", type=Path, help="Keep the vectors here (default: a temporary folder).")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-scale-"))
    try:
        t = time.perf_counter()
        matrix = synthetic(args.passages, args.centres)
        passages = np.zeros(args.passages, dtype=PASSAGE_DTYPE)
        passages["report"] = np.arange(args.passages) // PER_REPORT
        passages["section"] = (np.arange(args.passages) % PER_REPORT) // 20
        reports = [f"{i:016x}" for i in range(int(passages["report"][-1]) + 1)]
        print(f"{args.passages:,} synthetic passages of {len(reports):,} reports in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        write_vectors(workdir, model_id="synthetic", model_name=None, report_ids=reports, passages=passages,
                      matrix=matrix)
        build = time.perf_counter() - t
        rng = np.random.default_rng(1)
        picks = rng.integers(0, args.passages, args.queries)
        # A query near a stored passage: cosine ~0.95 to it (noise of norm 0.3).
        noise = rng.standard_normal((args.queries, DIM), dtype=np.float32)
        queries = matrix[picks].astype(np.float32) + 0.3 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        del matrix

        base = rss_mb()
        t = time.perf_counter()
        vs = load_vectors(workdir)
        vs.search(queries[0], 20)
        load = time.perf_counter() - t
        loaded = rss_mb() - base
        mode = vs.meta["ann"] or "exact numpy"
        print(f"write (float16 matrix, derived vectors, {mode}): {build:.1f} s; "
              f"load + first query {load:.2f} s, +{loaded:.0f} MB resident")

        half = passages["report"] % 2 == 0
        exact = np.asarray(vs.matrix, dtype=np.float32) if vs.meta["ann"] and vs.count <= 2_000_000 else None
        probes = [int(vs.meta["nprobe"]) * f for f in (1, 2)] if vs.meta["ann"] else [None]
        for nprobe in probes:
            if nprobe:
                vs.ann().nprobe = nprobe
            for label, allowed in (("unfiltered", None), ("half the reports", half)):
                times = []
                for q in queries:
                    t = time.perf_counter()
                    vs.search(q, 20, allowed)
                    times.append((time.perf_counter() - t) * 1000)
                print(f"query top 20, {label}{f', nprobe {nprobe}' if nprobe else ''}: "
                      f"p50 {np.percentile(times, 50):.2f} ms, p95 {np.percentile(times, 95):.2f} ms ({len(times)} queries)")
            if exact is not None:
                own = hits = 0
                for q, pick in zip(queries[:50], picks[:50]):
                    truth = set(np.argpartition(-(exact @ q), 10)[:10].tolist())
                    found = vs.search(q, 10)[0]
                    hits += len(truth & set(found.tolist()))
                    own += int(found[0] == pick)
                print(f"  the query's own passage first: {own / 50:.2f}; recall@10 against exact search: {hits / 500:.3f}")
        size = sum(p.stat().st_size for p in vs.path.iterdir()) / 2**20
        print(f"on disk: {size:.0f} MB; ANN threshold {ANN_THRESHOLD:,} passages; "
              f"peak resident {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
