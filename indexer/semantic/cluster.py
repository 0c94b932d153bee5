"""Embedding on a Dask cluster: the texts the index lacks go to worker processes, each holding
the model, and their vectors come back to the machine that writes the cache and generation.

Why Dask distributed and not Ray: on a 2-core machine a local cluster of 2 workers started in
~2 s (Ray: ~10 s and several helper processes), it installs in ~30 s as pure Python (Ray
pulls a ~70 MB wheel, and ``ray.data`` pyarrow and pandas besides), and both spend their
time in the model, so throughput is the same (docs/performance.md, issue #25). A plain task
per batch is enough: :func:`vectors.get_model` keeps the model per process, so each worker
loads it once, which is what an actor pool would buy.

Workers run nianbao's own code (``pip install nianbao[cluster]`` on every machine) and load
the model by the id the index records, so their vectors are those a laptop run makes (a
worker whose CPU picks bf16 over fp32 agrees to cosine >= 0.9999, the same model id); a
worker that loads another model is refused. The scheduler is started apart from nianbao
(``dask scheduler``; ``dask worker ADDRESS --nthreads 1`` on each machine), or by the
caller for tests and benchmarks (``distributed.LocalCluster``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["CLUSTER_BATCH", "ClusterError", "embed_on_cluster", "embed_remote"]

CLUSTER_BATCH = 256
"""Texts per task: big enough that scheduling (~ms) is noise beside embedding (~2 s on 2 cores),
small enough that the progress bar and the cache commits keep moving."""
IN_FLIGHT = 3
"""Tasks queued per worker thread: enough that no worker waits for the next batch, few enough
that a million texts are not all in the scheduler's memory at once."""
CONNECT_TIMEOUT = 20
"""Seconds to reach the scheduler before saying it cannot be reached."""


class ClusterError(RuntimeError):
    """The cluster cannot be reached, has no workers, or a worker failed."""


def embed_remote(model_id: str, texts: list[str]) -> np.ndarray:
    """On a worker: float16 index vectors of ``texts`` from the model ``model_id``, loaded once per process."""
    from .vectors import VectorsError, embed_documents, get_model

    _use_the_cores()
    embedder = get_model(model_id)
    if embedder.model_id != model_id:
        raise VectorsError(f"worker loaded model {embedder.model_id} where {model_id} was asked for")
    return embed_documents(embedder, texts).astype(np.float16)


def _use_the_cores() -> None:
    """Give torch the machine's cores, shared among the worker's threads. Dask's nanny starts
    workers with ``OMP_NUM_THREADS=1`` (right for many small numpy tasks), which leaves the model
    one thread (on 2 cores: 56 passages/s with one, 71/s with two, same process, low load).
    ONNX Runtime sets its own threads."""
    import torch
    from distributed import get_worker

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(max(1, cores // get_worker().state.nthreads))


def embed_on_cluster(address: str, model_id: str, texts: Sequence[str], batch: int | None = None,
                     ) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, vectors)`` for each batch of ``texts`` (in any order) as the workers finish them.

    ``texts`` should be sorted by length, so that a batch pads little on the worker.
    ``batch`` defaults to :data:`CLUSTER_BATCH`.
    """
    batch = batch or CLUSTER_BATCH
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ClusterError("embedding on a cluster needs Dask: pip install 'nianbao[cluster]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        threads = sum(client.nthreads().values())
        if not threads:
            raise ClusterError(f"the Dask cluster at {address} has no workers")
        starts = iter(range(0, len(texts), batch))
        run = uuid.uuid4().hex  # task keys unique to this run: Dask reuses a result whose key it knows

        def submit(start: int):  # noqa: ANN202 - a distributed.Future
            return client.submit(embed_remote, model_id, list(texts[start:start + batch]),
                                 key=f"nianbao-embed-{run}-{start}")

        running = as_completed([submit(s) for _, s in zip(range(threads * IN_FLIGHT), starts)], with_results=False)
        for future in running:
            start = int(future.key.rsplit("-", 1)[1])
            try:
                vectors = future.result()
            except Exception as exc:  # a worker's error, raised here with its own type
                raise ClusterError(f"a worker failed on texts {start}-{start + batch}: {exc}") from exc
            following = next(starts, None)
            if following is not None:
                running.add(submit(following))
            yield start, vectors
    finally:
        client.close()
