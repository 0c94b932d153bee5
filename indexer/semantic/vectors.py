"""Passage vectors on disk beside the store, an embedding cache, and nearest-neighbour search.

Layout (``<index dir>/vectors/``):

- ``cache.sqlite``: (model id, hash of the normalised text) → vector. Boilerplate shared by
  many reports is embedded once, and re-indexing unchanged reports embeds nothing.
- ``g<ns>/``: one generation, never changed once written: ``meta.json`` (model, report ids,
  counts, and the section kinds by name: ``kinds[i]`` is what code ``i`` in the passage and
  section tables means, checked on read, see :func:`_kind_codes`), ``vectors.npy`` (float16, one row per passage, unit length), ``passages.npy``
  (where each row's text lies in the store), section and report vectors (means of their
  passages, renormalised), ``windows.npy`` / ``window_owner.npy`` (two-sentence windows of
  longer passages and the passage row each belongs to: exact search scores a passage by its
  best vector, its own or a window's; the ANN path uses passage rows only), and above
  :data:`ANN_THRESHOLD` passages ``ann.faiss``.
- ``CURRENT``: the name of the generation readers use, replaced atomically (``os.replace``)
  once a generation is complete. A reader never sees a half-written state, and a killed run
  leaves the previous generation in use.

Vectors of one model only: a different model id re-embeds everything instead of mixing.
Search is exact (numpy) below the threshold and faiss IVF (8-bit scalar quantiser, results
re-scored exactly) above it, where a full scan of a million rows would take too long.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import settings
from ..core.kinds import SECTION_KINDS
from ..store import VectorCache
from .passages import CHUNKER_VERSION, EMBED_RECIPE, Passage, iter_passages, windows

if TYPE_CHECKING:
    from ..store import Store
    from .model import Embedder

__all__ = [
    "ANN_THRESHOLD",
    "VectorSet",
    "VectorUpdate",
    "VectorsError",
    "get_model",
    "embed_with_cache",
    "has_vectors",
    "load_vectors",
    "update_vectors",
    "vectors_status",
    "section_vector",
    "write_vectors",
    "remove_temp_folders",
    "temp_files",
]

VECTORS_DIR = "vectors"
CURRENT = "CURRENT"
CACHE_FILE = "cache.sqlite"
FORMAT = 4
"""3: passages record the first (merged short) paragraph they show. 4: section vectors
centred on the mean section, no heading vector (centres[1] is that mean)."""
ANN_THRESHOLD = 200_000
"""Passages above which queries go through the ANN index (exact search of 200k rows is ~30 ms)."""
SUBSET_EXACT = 20_000
"""Above the ANN threshold, a filter leaving at most this many rows is answered exactly from
those rows (gathering more rows from the memory-mapped matrix costs more than the ANN search)."""
EMBED_BATCH = 64
"""Texts embedded between two cache commits and progress updates: small enough that the app's
first-start bar moves (with 256, a few reports went from 0/N to N/N in one step)."""

KINDS: tuple[str, ...] = tuple(SECTION_KINDS)
"""Section kind codes in memory: code ``i`` is ``KINDS[i]``. A generation written with other
codes is translated by name when read (:func:`_kind_codes`)."""
PASSAGE_DTYPE = np.dtype([("report", "<i4"), ("section", "<i4"), ("para", "<i4"), ("start", "<i4"),
                          ("end", "<i4"), ("kind", "<i2"), ("first", "<i4")])
"""``first``: the first paragraph the passage shows, ``para`` or an earlier short one merged into it."""
SECTION_DTYPE = np.dtype([("report", "<i4"), ("section", "<i4"), ("kind", "<i2")])

ProgressFn = Callable[[str, int, int], None]


class VectorsError(RuntimeError):
    """The vectors are missing, unreadable, or made by another model than the one asked for."""


# --------------------------------------------------------------------------- models

_MODELS: dict[str, Embedder] = {}
_MODELS_LOCK = threading.Lock()


def get_model(model: str | Embedder | None = None) -> Embedder:
    """A loaded model, kept per process: loading takes seconds and every query needs one."""
    from .model import Embedder, load_model, model_id_for

    if isinstance(model, Embedder):
        return model
    key = model_id_for(model)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from transformers.utils import logging as transformers_logging

            # transformers draws a "Loading weights" bar on stderr: noise in CLI output and in the app's log.
            transformers_logging.disable_progress_bar()
            _MODELS[key] = load_model(model)
        return _MODELS[key]


def _model_identity(model: str | Embedder | None) -> tuple[str, str | None]:
    """(model id, name to load it by) without loading it."""
    from .model import Embedder, model_id_for

    if isinstance(model, Embedder):
        # An id is the name it was loaded by, except the default model's, which names its source.
        name = settings.DEFAULT_MODEL if model.model_id == model_id_for(settings.DEFAULT_MODEL) else model.model_id
        return model.model_id, name
    name = settings.model_name(model)
    return model_id_for(name), name


# --------------------------------------------------------------------------- cache


def text_key(norm: str) -> bytes:
    """Cache key of a text as embedded for the index: :data:`EMBED_RECIPE` (the prompt choice)
    and the text itself, heading and merged context included."""
    return hashlib.blake2b(f"{EMBED_RECIPE}\x00{norm}".encode(), digest_size=16).digest()


def embed_documents(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Index-side embedding (e5: the symmetric prompt); stand-in models with only ``embed_passages`` work too."""
    embed = getattr(embedder, "embed_documents", None) or embedder.embed_passages
    return embed(list(texts))


class _Rows:
    """Float16 vectors of the distinct texts a generation needs, one preallocated row each,
    filled in place from the cache or the model. Why: a dict of a million small arrays costs
    ~200 bytes of Python objects per 768-byte vector, and stacking them copies them once more.
    The width is set by the first vector (the model's dimension, known only once one is seen)."""

    def __init__(self, keys: list[bytes], dim: int | None) -> None:
        self.keys = keys
        self.slot = {key: i for i, key in enumerate(keys)}
        self.dim = dim
        self.matrix = np.zeros((len(keys), dim or 0), dtype=np.float16)
        self.filled = np.zeros(len(keys), dtype=bool)

    def _allocate(self, dim: int) -> None:
        if self.dim is None:
            self.dim = dim
            self.matrix = np.zeros((len(self.keys), dim), dtype=np.float16)

    def put_cached(self, slot: int, vec: np.ndarray) -> bool:
        """Take a cached vector unless its width differs from the others (stale rows of another build)."""
        self._allocate(vec.shape[0])
        if vec.shape[0] != self.dim:
            return False
        self.matrix[slot] = vec
        self.filled[slot] = True
        return True

    def put(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        self._allocate(vectors.shape[1])
        if vectors.shape[1] != self.dim:
            raise VectorsError(f"the model gave {vectors.shape[1]}-dimensional vectors where the cache has {self.dim}")
        self.matrix[slots] = vectors
        self.filled[slots] = True


class EmbeddingCache(VectorCache):
    """(model id, text hash) → float16 vector, in the store's `VectorCache`. Committed batch by
    batch, so a killed run keeps its work."""

    def get(self, model_id: str, keys: Sequence[bytes], dim: int | None) -> dict[bytes, np.ndarray]:
        out: dict[bytes, np.ndarray] = {}
        for key, blob in self.find(model_id, list(dict.fromkeys(keys))):
            vec = np.frombuffer(blob, dtype="<f2")
            if dim is None or vec.shape[0] == dim:
                out[key] = vec
        return out

    def fill(self, model_id: str, rows: _Rows) -> int:
        """Copy the cached vectors of ``rows``' texts into it; returns how many were found."""
        return sum(rows.put_cached(rows.slot[key], np.frombuffer(blob, dtype="<f2"))
                   for key, blob in self.find(model_id, rows.keys))

    def put(self, model_id: str, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        self.save(model_id, zip(keys, (v.tobytes() for v in vectors.astype("<f2"))))


# --------------------------------------------------------------------------- reading


def _vectors_dir(index_dir: Path) -> Path:
    return Path(index_dir) / VECTORS_DIR


def _current_gen(index_dir: Path) -> Path | None:
    root = _vectors_dir(index_dir)
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    gen = root / name
    return gen if name and (gen / "meta.json").is_file() else None


def has_vectors(index_dir: Path) -> bool:
    """Whether the index has a complete generation of passage vectors."""
    return _current_gen(Path(index_dir)) is not None


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.maximum(norms, np.float32(1e-12))


@dataclass
class VectorSet:
    """One generation of vectors, read-only; row i of ``matrix`` is passage ``passages[i]``."""

    path: Path
    meta: dict
    matrix: np.ndarray  # float16, memory-mapped
    passages: np.ndarray  # PASSAGE_DTYPE
    report_ids: list[str]
    report_vectors: np.ndarray  # float32, zero rows for reports without passages
    sections: np.ndarray  # SECTION_DTYPE
    section_vectors: np.ndarray  # float32
    centres: np.ndarray  # float32 (2, dim): mean passage, mean centred section (see section_vector)
    window_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # passage row of each window
    window_matrix: np.ndarray | None = None  # float16, one row per window (passages.windows)
    _dense: np.ndarray | None = field(default=None, repr=False)
    _ann: Any = field(default=None, repr=False)
    _report_index: dict[str, int] | None = field(default=None, repr=False)

    @property
    def model_id(self) -> str:
        return self.meta["model_id"]

    @property
    def model_name(self) -> str | None:
        return self.meta.get("model_name")

    @property
    def count(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])

    def report_index(self) -> dict[str, int]:
        if self._report_index is None:
            self._report_index = {r: i for i, r in enumerate(self.report_ids)}
        return self._report_index

    def rows_of(self, report_id: str) -> np.ndarray:
        """Row numbers of one report's passages (rows are grouped by report)."""
        idx = self.report_index().get(report_id)
        if idx is None:
            return np.zeros(0, dtype=np.int64)
        start, end = np.searchsorted(self.passages["report"], [idx, idx + 1])
        return np.arange(start, end)

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """Float32 unit vectors of the given rows."""
        return _unit(self.matrix[np.asarray(rows, dtype=np.int64)])

    def dense(self) -> np.ndarray:
        """The whole matrix in float32, for exact search below the ANN threshold."""
        if self._dense is None:
            self._dense = np.ascontiguousarray(self.matrix, dtype=np.float32)
        return self._dense

    def ann(self) -> Any:
        if self._ann is None:
            import faiss

            self._ann = faiss.read_index(str(self.path / "ann.faiss"))
            self._ann.nprobe = int(self.meta.get("nprobe", 32))
        return self._ann

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the ``k`` passages nearest ``query``, best first.

        ``allowed`` is a boolean mask over rows (filters). Exact when the rows to consider are
        few enough; otherwise the ANN index restricted to the allowed rows, re-scored exactly.
        """
        query = _unit(query.reshape(-1))
        k = max(0, min(k, self.count if allowed is None else int(allowed.sum())))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if not self.meta.get("ann"):
            scores = self.scores(query)
            if allowed is not None:
                scores = np.where(allowed, scores, -np.inf)
            return _top(scores, np.arange(self.count), k)
        if allowed is not None and allowed.sum() <= SUBSET_EXACT:
            rows = np.flatnonzero(allowed)
            return _top(self.rows(rows) @ query, rows, k)
        return self._ann_search(query, k, allowed)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Every passage's cosine to a unit ``query``: its best vector's, its own or one of its
        windows' (exact, a pass over the whole matrix)."""
        scores = self.dense() @ query
        if self.window_matrix is not None and len(self.window_owner):
            np.maximum.at(scores, self.window_owner, np.asarray(self.window_matrix, dtype=np.float32) @ query)
        return scores

    def _ann_search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        index = self.ann()
        params = None
        if allowed is not None:
            bitmap = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe)
        wanted = min(max(4 * k, 50), self.count)
        _, found = index.search(query.reshape(1, -1), wanted, params=params)
        rows = found[0][found[0] >= 0]
        return _top(self.rows(rows) @ query, rows, min(k, len(rows)))


def _top(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
    else:
        part = np.arange(len(scores))
    part = part[np.isfinite(scores[part])]
    order = part[np.argsort(-scores[part], kind="stable")]
    return rows[order].astype(np.int64), scores[order].astype(np.float32)


_LOADED: dict[str, VectorSet] = {}
_LOADED_LOCK = threading.Lock()


def _kind_codes(meta: dict, gen: Path) -> np.ndarray | None:
    """Stored kind code → today's (:data:`KINDS`), by the names the generation stored; None when
    it stored today's kinds in today's order. A name today's parser no longer knows becomes
    "other", as it would if written now. A generation that stored no names cannot be read by
    name, and guessing today's order would mislabel sections if the kinds changed since: it is
    refused, and the next `index` (or `doctor --repair`) rebuilds it from the embedding cache."""
    stored = meta.get("kinds")
    if not isinstance(stored, list) or not stored or not all(isinstance(k, str) for k in stored):
        raise VectorsError(f"the vectors in {gen} do not name their section kinds; run `nianbao index` or "
                           "`nianbao doctor --repair` to rebuild them from the embedding cache")
    if stored == list(KINDS):
        return None
    today = {kind: code for code, kind in enumerate(KINDS)}
    return np.array([today.get(kind, today["other"]) for kind in stored], dtype=np.int16)


def load_vectors(index_dir: Path) -> VectorSet:
    """The current generation, kept open per process until a newer one is published."""
    gen = _current_gen(Path(index_dir))
    if gen is None:
        raise VectorsError(f"no vectors in {index_dir}: run `nianbao index --embed PATH`")
    key = str(gen.resolve())
    with _LOADED_LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            return cached
        try:
            meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                raise VectorsError(f"vectors in {gen} have format {meta.get('format')}; re-index to rebuild them")
            codes = _kind_codes(meta, gen)
            vs = VectorSet(
                path=gen, meta=meta,
                matrix=np.load(gen / "vectors.npy", mmap_mode="r"),
                passages=np.load(gen / "passages.npy"),
                report_ids=list(meta["reports"]),
                report_vectors=np.load(gen / "reports.npy"),
                sections=np.load(gen / "sections.npy"),
                section_vectors=np.load(gen / "section_vectors.npy"),
                centres=np.load(gen / "centres.npy"),
            )
            if codes is not None:
                vs.passages["kind"] = codes[vs.passages["kind"]]
                vs.sections["kind"] = codes[vs.sections["kind"]]
            if (gen / "windows.npy").is_file():
                vs.window_matrix = np.load(gen / "windows.npy")
                vs.window_owner = np.load(gen / "window_owner.npy")
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise VectorsError(f"cannot read the vectors in {gen}: {exc}") from None
        for old in [k for k in _LOADED if Path(k).parent == gen.resolve().parent]:
            del _LOADED[old]
        _LOADED[key] = vs
        return vs


# --------------------------------------------------------------------------- writing


def _group_sums(matrix: np.ndarray, keys: np.ndarray, n_groups: int, inverse: np.ndarray) -> np.ndarray:
    """Sum the rows of each group; rows of a group are contiguous (``keys`` sorted). Block by block,
    so a million float16 rows never become one float32 copy."""
    sums = np.zeros((n_groups, matrix.shape[1]), dtype=np.float32)
    for start in range(0, len(matrix), 65536):
        block = np.asarray(matrix[start:start + 65536], dtype=np.float32)
        local = keys[start:start + 65536]
        firsts = np.concatenate([[0], np.flatnonzero(np.diff(local)) + 1])
        sums[inverse[start + firsts]] += np.add.reduceat(block, firsts, axis=0)
    return sums


def section_vector(content_mean: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """A section's vector: its passages' mean minus the corpus mean passage, made unit length,
    minus the mean of all sections' such vectors.

    Why centred: every passage of this genre shares one dominant direction, so plain means of
    sections all lie within ~0.02 of each other and a big overview section is "closest" to
    everything (on the samples a problems section found the other reports' problems section
    first in 1 of 12 pairs). Minus the corpus mean 7 of 12; with the heading inside every
    passage (passages.py) 10 of 12; minus the mean section too 11 of 12 (a separate heading
    vector no longer helps: 10 of 12).
    """
    return _unit(_unit(content_mean - centres[0]) - centres[1])


def _derived(matrix: np.ndarray, passages: np.ndarray, n_reports: int,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Report vectors (passage means), the section table, section vectors (:func:`section_vector`)
    and the centres (corpus mean passage, mean centred section) that section vectors subtract."""
    dim = matrix.shape[1]
    keys = passages["report"].astype(np.int64) * (1 << 20) + passages["section"]
    if len(keys) and np.any(np.diff(keys) < 0):
        raise ValueError("passages must be grouped by report and section, in order")
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    table = np.zeros(len(uniq), dtype=SECTION_DTYPE)
    table["report"] = passages["report"][first]
    table["section"] = passages["section"][first]
    table["kind"] = passages["kind"][first]
    section_sums = _group_sums(matrix, keys, len(uniq), inverse) if len(uniq) else np.zeros((0, dim), np.float32)
    reports = np.zeros((n_reports, dim), dtype=np.float32)
    if len(uniq):
        firsts = np.concatenate([[0], np.flatnonzero(np.diff(table["report"])) + 1])
        reports[table["report"][firsts]] = np.add.reduceat(section_sums, firsts, axis=0)
    has = np.linalg.norm(reports, axis=1) > 0
    reports[has] = _unit(reports[has])

    centres = np.zeros((2, dim), dtype=np.float32)
    if len(matrix):
        centres[0] = section_sums.sum(axis=0) / len(matrix)
    means = section_sums / np.maximum(np.bincount(inverse, minlength=len(uniq)), 1)[:, None].astype(np.float32)
    if len(uniq):
        centres[1] = _unit(means - centres[0]).mean(axis=0)
    section_vectors = np.zeros((len(uniq), dim), dtype=np.float32)
    for i in range(len(uniq)):
        section_vectors[i] = section_vector(means[i], centres)
    return reports, table, section_vectors, centres


def _nlist(count: int) -> int:
    return int(min(4096, max(64, np.sqrt(count))))


def _build_ann(matrix: np.ndarray, path: Path, threads: int | None = None) -> dict:
    """faiss IVF with an 8-bit scalar quantiser: ~1/4 the memory of float32, re-scored exactly at query time."""
    import faiss

    if threads:
        faiss.omp_set_num_threads(threads)
    count, dim = matrix.shape
    nlist = _nlist(count)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(count, size=min(count, 64 * nlist), replace=False))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(matrix[sample], dtype=np.float32))
    for start in range(0, count, 100_000):
        index.add(np.ascontiguousarray(matrix[start:start + 100_000], dtype=np.float32))
    faiss.write_index(index, str(path))
    return {"ann": "faiss-ivf-sq8", "nlist": nlist, "nprobe": max(32, nlist // 16)}


def write_vectors(index_dir: Path, *, model_id: str, model_name: str | None, report_ids: Sequence[str],
                  passages: np.ndarray, matrix: np.ndarray, extra: dict | None = None,
                  window_owner: np.ndarray | None = None, window_matrix: np.ndarray | None = None) -> Path:
    """Write a complete generation and make it current in one rename; returns its folder.

    ``passages`` (PASSAGE_DTYPE) must be grouped by report and section, in ``report_ids``
    order.
    """
    root = _vectors_dir(Path(index_dir))
    root.mkdir(parents=True, exist_ok=True)
    remove_temp_folders(index_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        matrix16 = np.asarray(matrix, dtype=np.float16)
        np.save(tmp / "vectors.npy", matrix16)
        np.save(tmp / "passages.npy", passages)
        if window_owner is not None and window_matrix is not None and len(window_owner):
            np.save(tmp / "windows.npy", np.asarray(window_matrix, dtype=np.float16))
            np.save(tmp / "window_owner.npy", np.asarray(window_owner, dtype=np.int32))
        reports, sections, section_vectors, centres = _derived(matrix16, passages, len(report_ids))
        np.save(tmp / "centres.npy", centres)
        np.save(tmp / "reports.npy", reports)
        np.save(tmp / "sections.npy", sections)
        np.save(tmp / "section_vectors.npy", section_vectors)
        meta: dict[str, Any] = {
            "format": FORMAT, "model_id": model_id, "model_name": model_name, "chunker": CHUNKER_VERSION,
            "dim": int(matrix16.shape[1]), "count": int(matrix16.shape[0]), "kinds": list(KINDS),
            "created": time.time(), "ann": None, **(extra or {}), "reports": list(report_ids),
        }
        if len(matrix16) > ANN_THRESHOLD:
            meta.update(_build_ann(np.load(tmp / "vectors.npy", mmap_mode="r"), tmp / "ann.faiss"))
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        gen = root / f"g{time.time_ns()}"
        tmp.rename(gen)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer = root / f".{CURRENT}.{os.getpid()}.tmp"
    pointer.write_text(gen.name, encoding="utf-8")
    os.replace(pointer, root / CURRENT)
    _remove_old_generations(root, keep=gen.name)
    return gen


def temp_files(index_dir: Path) -> list[Path]:
    """Folders and CURRENT pointer files of a vectors write that a kill interrupted."""
    root = _vectors_dir(Path(index_dir))
    return sorted([*root.glob(".tmp-*"), *root.glob(f".{CURRENT}.*.tmp")])


def remove_temp_folders(index_dir: Path) -> None:
    """Temporary files of killed runs. Callers hold nianbao's write lock, so no live writer
    owns one: every one is a leftover, however recent."""
    for leftover in temp_files(index_dir):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _remove_old_generations(root: Path, keep: str) -> None:
    """Keep the new generation and the one before it (a reader may have just opened it)."""
    gens = sorted((p for p in root.glob("g*") if p.is_dir() and p.name != keep), key=lambda p: p.name)
    for old in gens[:-1]:
        shutil.rmtree(old, ignore_errors=True)


@dataclass
class VectorUpdate:
    """What `update_vectors` did: passages in the new set, and how each was obtained."""

    passages: int = 0
    reused: int = 0  # passages copied from the previous generation (unchanged reports)
    cached: int = 0  # passages found in the embedding cache
    embedded: int = 0  # texts the model embedded now: passages and their windows
    seconds: float = 0.0
    embed_seconds: float = 0.0
    written: bool = False
    model_id: str = ""

    @property
    def passages_per_second(self) -> float | None:
        return self.embedded / self.embed_seconds if self.embedded and self.embed_seconds else None


def _gather(rows: list, section_headings: dict, report_ids: list[str], current: VectorSet | None, index_dir: Path,
            model: str | Embedder | None, model_id: str, progress: ProgressFn | None, update: VectorUpdate,
            cluster: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The passage table, its vectors, and the windows' owners and vectors, from the previous
    generation (``current``, same model), the cache or the model (``cluster``: a Dask
    scheduler's workers). A function of its own so that the Python objects behind them (a
    million passages and their texts at 20,000 reports, ~1 GB) are gone before the arrays are
    written and the derived vectors computed. Vectors go straight into preallocated float16
    arrays: one row per distinct text (:class:`_Rows`), then the passage and window matrices."""
    passages = list(iter_passages(rows, headings=section_headings))
    index = {r: i for i, r in enumerate(report_ids)}
    by_report: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        by_report.setdefault(p.report_id, []).append(i)

    reused = np.zeros(len(passages), dtype=bool)
    old_rows = np.zeros(len(passages), dtype=np.int64)
    if current is not None:
        for report_id, members in by_report.items():
            old = current.rows_of(report_id)
            if len(old) == len(members):
                reused[members] = True
                old_rows[members] = old
        update.reused = int(reused.sum())
    todo = np.flatnonzero(~reused)
    window_items = [(i, text) for i, p in enumerate(passages) for text in windows(p)]
    window_owner = np.array([i for i, _ in window_items], dtype=np.int32)
    keys = [text_key(passages[i].embed_text) for i in todo.tolist()]
    keys += [text_key(text) for _, text in window_items]
    distinct = _Rows(list(dict.fromkeys(keys)), current.dim if current is not None else None)
    slots = np.array([distinct.slot[k] for k in keys], dtype=np.int64)
    del keys
    passage_slots, window_slots = slots[:len(todo)], slots[len(todo):]
    cache = EmbeddingCache(_vectors_dir(index_dir) / CACHE_FILE)
    try:
        cache.fill(model_id, distinct)
        update.cached = int(distinct.filled[passage_slots].sum())
        if not distinct.filled.all():
            texts = _texts_of(passages, todo, passage_slots, window_items, window_slots, distinct)
            _embed_missing(texts, distinct, model, model_id, cache, progress, update, cluster)
    finally:
        cache.close()

    dim = distinct.dim or (current.dim if current is not None else 384)
    matrix = np.zeros((len(passages), dim), dtype=np.float16)
    for start in range(0, len(passages), 65536):  # block by block: a reused row is read from the memory map
        part = np.flatnonzero(reused[start:start + 65536]) + start
        if len(part):
            matrix[part] = current.matrix[old_rows[part]]
    if len(todo):
        matrix[todo] = distinct.matrix[passage_slots]
    window_matrix = distinct.matrix[window_slots] if len(window_slots) else np.zeros((0, dim), dtype=np.float16)
    table = np.zeros(len(passages), dtype=PASSAGE_DTYPE)
    kinds = {k: i for i, k in enumerate(KINDS)}
    for i, p in enumerate(passages):
        table[i] = (index[p.report_id], p.section_ord, p.para_ord, p.start, p.end,
                    kinds.get(p.section_kind, kinds["other"]), p.first)
    return table, matrix, window_owner, window_matrix


def _texts_of(passages: list[Passage], todo: np.ndarray, passage_slots: np.ndarray,
              window_items: list[tuple[int, str]], window_slots: np.ndarray, distinct: _Rows) -> dict[int, str]:
    """Slot → text of every distinct text neither the cache nor the previous generation had."""
    texts: dict[int, str] = {}
    for i, slot in zip(todo.tolist(), passage_slots.tolist()):
        if not distinct.filled[slot]:
            texts.setdefault(slot, passages[i].embed_text)
    for slot, (_, text) in zip(window_slots.tolist(), window_items):
        if not distinct.filled[slot]:
            texts.setdefault(slot, text)
    return texts


def update_vectors(index_dir: Path, store: Store, *, model: str | Embedder | None = None,
                   progress: ProgressFn | None = None, cluster: str | None = None) -> VectorUpdate:
    """Bring the vectors in step with the store's visible reports.

    Unchanged reports keep their rows; new ones come from the cache or the model; removed
    ones are dropped. A different model (or chunker) than the current generation's embeds
    everything again. Nothing is written when nothing changed. ``cluster``, a Dask
    scheduler's address, sends the texts to embed to its workers (:mod:`.cluster`); the
    cache and generation are written here as without it.
    """
    started = time.monotonic()
    index_dir = Path(index_dir)
    model_id, model_name = _model_identity(model)
    update = VectorUpdate(model_id=model_id)
    with store.snapshot():
        report_ids = store.report_ids()
        rows = store.paragraphs()
        section_headings = store.section_headings()
    try:
        current = load_vectors(index_dir) if has_vectors(index_dir) else None
    except VectorsError:
        current = None
    same_model = current is not None and current.model_id == model_id and current.meta.get("chunker") == CHUNKER_VERSION
    # A generation written with other kind codes is read by name; writing it again with today's saves translating.
    if same_model and current.report_ids == report_ids and current.meta.get("kinds") == list(KINDS):
        update.passages = update.reused = current.count
        update.seconds = time.monotonic() - started
        return update

    table, matrix, window_owner, window_matrix = _gather(
        rows, section_headings, report_ids, current if same_model else None, index_dir, model, model_id, progress,
        update, cluster)
    del rows, section_headings  # every paragraph's text: not needed to write
    write_vectors(index_dir, model_id=model_id, model_name=model_name, report_ids=report_ids, passages=table,
                  matrix=matrix, extra={"embedded": update.embedded}, window_owner=window_owner,
                  window_matrix=window_matrix)
    update.passages = len(table)
    update.written = True
    update.seconds = time.monotonic() - started
    return update


def _embed_missing(texts: dict[int, str], distinct: _Rows, model: str | Embedder | None, model_id: str,
                   cache: EmbeddingCache, progress: ProgressFn | None, update: VectorUpdate,
                   cluster: str | None = None) -> None:
    """Embed ``texts`` (slot → text) into their rows of ``distinct``, committing each batch to the cache."""
    # Longest first across all batches, so each model batch pads to similar lengths.
    order = sorted(texts, key=lambda slot: -len(texts[slot]))
    ordered = [texts[slot] for slot in order]
    slots = np.array(order, dtype=np.int64)
    if cluster:
        from .cluster import embed_on_cluster

        batches = embed_on_cluster(cluster, model_id, ordered)
    else:
        batches = _embed_here(model, model_id, ordered)
    started = time.monotonic()
    if progress:
        progress("embed", 0, len(ordered))
    for start, vectors in batches:
        part = slots[start:start + len(vectors)]
        vectors = np.asarray(vectors, dtype=np.float16)
        distinct.put(part, vectors)
        cache.put(model_id, [distinct.keys[s] for s in part.tolist()], vectors)
        update.embedded += len(part)
        if progress:
            progress("embed", update.embedded, len(ordered))
    update.embed_seconds = time.monotonic() - started


def _embed_here(model: str | Embedder | None, model_id: str, texts: list[str]) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, vectors)`` for each :data:`EMBED_BATCH` texts, from the model in this process (loaded now)."""
    embedder = get_model(model)
    if embedder.model_id != model_id:
        raise VectorsError(f"model {embedder.model_id} loaded where {model_id} was asked for")
    return ((start, embed_documents(embedder, texts[start:start + EMBED_BATCH]))
            for start in range(0, len(texts), EMBED_BATCH))


def embed_with_cache(index_dir: Path, vs: VectorSet, texts: Sequence[str]) -> np.ndarray:
    """Unit vectors of ``texts`` (normalised, as the index embeds a passage) by the index's model,
    from the embedding cache where it holds them; the model is loaded only for the rest, which are
    cached. Why: `themes` embeds the same few anchor sentences on every call, and loading the
    model costs more than the rest of the call. Float16 either way, so a cached answer equals a
    fresh one."""
    keys = [text_key(text) for text in texts]
    cache = EmbeddingCache(_vectors_dir(index_dir) / CACHE_FILE)
    try:
        found = cache.get(vs.model_id, keys, vs.dim)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            vectors = np.asarray(embed_documents(get_model(vs.model_name), [texts[i] for i in missing]), dtype=np.float16)
            cache.put(vs.model_id, [keys[i] for i in missing], vectors)
            found.update(zip((keys[i] for i in missing), vectors))
    finally:
        cache.close()
    return _unit(np.stack([found[key] for key in keys]))


def vectors_status(index_dir: Path, store: Store) -> dict:
    """Whether the vectors agree with the store, for `nianbao doctor`.

    ``{present, model_id, passages, missing: [report ids in the store, not in the vectors],
    extra: [report ids in the vectors, no longer in the store], error}``; absent vectors are
    ``present: False`` and are not an error (indexing with ``--no-embed`` is allowed).
    """
    status: dict[str, Any] = {"present": False, "model_id": None, "passages": 0, "missing": [], "extra": [],
                              "error": None}
    if not has_vectors(index_dir):
        return status
    try:
        vs = load_vectors(index_dir)
        if vs.matrix.shape != (len(vs.passages), vs.dim) or vs.report_vectors.shape[0] != len(vs.report_ids):
            raise VectorsError(f"the vectors in {vs.path} do not match their passage table")
    except VectorsError as exc:
        status.update(present=True, error=str(exc))
        return status
    with store.snapshot():
        visible = set(store.report_ids())
    known = set(vs.report_ids)
    status.update(present=True, model_id=vs.model_id, passages=vs.count,
                  missing=sorted(visible - known), extra=sorted(known - visible))
    return status
