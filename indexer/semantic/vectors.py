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

import contextlib
import ctypes
import gc
import hashlib
import json
import os
import shutil
import sys
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
from .passages import CHUNKER_VERSION, EMBED_RECIPE, iter_passages, windows

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
READ_REPORTS = 256
"""Reports whose paragraphs are read, cut into passages and looked up in the cache at a time:
only their passages are Python objects at once (all of 20,000 reports' were ~1 GB)."""
ROW_BLOCK = 16384
"""Rows of the generation's matrices written or read at a time, so no matrix is whole in memory."""
SUM_BLOCK = 65536
"""Rows summed at a time into section sums (:func:`_group_sums`). Not to be changed lightly: a
section split by a block is summed in two parts, so another size changes the last bits of its
vector."""

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


def _forget_model(model_id: str) -> None:
    """Drop a model that one update loaded for itself, before it writes the generation: the model
    holds ~0.5 GB that the generation's matrices and ANN index need next (a real 20,000-report run
    peaked at 2.16 GB with it still loaded; docs/performance.md). A model loaded before (the
    desk's, a test's) stays."""
    with _MODELS_LOCK:
        _MODELS.pop(model_id, None)
    gc.collect()
    if sys.platform.startswith("linux"):  # glibc keeps freed memory in its heap unless asked to give it back
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


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


class _Distinct:
    """The distinct texts a generation needs: each key's slot, and whether the cache holds its
    vector. The vectors themselves are not held: every one is in the cache once the missing
    ones are embedded, and is read from there when the generation is written (:meth:`vectors`).
    Why: at 20,000 reports the distinct texts' vectors were ~300 MB held through embedding,
    and a dict of small arrays before that ~200 bytes of Python objects per 768-byte vector.
    The width is set by the first vector seen (the model's dimension, known only then)."""

    def __init__(self, dim: int | None) -> None:
        self.keys: list[bytes] = []
        self.slot: dict[bytes, int] = {}
        self.dim = dim
        self._filled = bytearray()

    def add(self, key: bytes) -> tuple[int, bool]:
        """The slot of a text's key, and whether it is new."""
        slot = self.slot.get(key)
        if slot is not None:
            return slot, False
        slot = self.slot[key] = len(self.keys)
        self.keys.append(key)
        self._filled.append(0)
        return slot, True

    def filled(self, slots: np.ndarray) -> np.ndarray:
        return np.frombuffer(bytes(self._filled), dtype=bool)[np.asarray(slots, dtype=np.int64)]

    def put_cached(self, slot: int, vec: np.ndarray) -> bool:
        """Count a cached vector unless its width differs from the others (stale rows of another build)."""
        if self.dim is None:
            self.dim = vec.shape[0]
        if vec.shape[0] != self.dim:
            return False
        self._filled[slot] = 1
        return True

    def put(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        """Count vectors the model made (and the caller cached)."""
        if self.dim is None:
            self.dim = vectors.shape[1]
        if vectors.shape[1] != self.dim:
            raise VectorsError(f"the model gave {vectors.shape[1]}-dimensional vectors where the cache has {self.dim}")
        for slot in np.asarray(slots).tolist():
            self._filled[slot] = 1

    def vectors(self, cache: EmbeddingCache, model_id: str, slots: np.ndarray, dim: int) -> np.ndarray:
        """The vectors of ``slots``, read from the cache."""
        unique, inverse = np.unique(np.asarray(slots, dtype=np.int64), return_inverse=True)
        found = np.zeros((len(unique), dim), dtype=np.float16)
        where = {self.keys[s]: i for i, s in enumerate(unique.tolist())}
        for key, blob in cache.find(model_id, list(where)):
            vec = np.frombuffer(blob, dtype="<f2")
            if vec.shape[0] == dim:
                found[where[key]] = vec
        return found[inverse.reshape(-1)]


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

    def fill(self, model_id: str, distinct: _Distinct, keys: Sequence[bytes]) -> int:
        """Mark the texts of ``keys`` whose vectors are cached in ``distinct``; returns how many were found."""
        return sum(distinct.put_cached(distinct.slot[key], np.frombuffer(blob, dtype="<f2"))
                   for key, blob in self.find(model_id, keys))

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


class _RowFile:
    """The rows of a 2-D ``.npy`` file, read by plain reads rather than a memory map: a map's
    pages stay in this process's memory once touched (a 20,000-report matrix is ~600 MB), read
    pages go back to the page cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            self.shape, fortran, self.dtype = read_header(f)
            self.offset = f.tell()
        if len(self.shape) != 2 or fortran:
            raise ValueError(f"{path} is not a matrix of rows")
        self.row_bytes = self.shape[1] * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(len(self))
        count = max(0, stop - start)
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self.row_bytes)
            data = f.read(count * self.row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows, read run by run of consecutive rows."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(rows) != 1) + 1, [len(rows)]]) if len(rows) else []
        for a, b in zip(cuts[:-1], cuts[1:]):
            out[a:b] = self[int(rows[a]):int(rows[a]) + (b - a)]
        return out


class _NpyWriter:
    """A ``.npy`` file written block by block, the same bytes as ``np.save`` of the whole array,
    which is never whole in memory: written pages go to the page cache, not this process."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: np.dtype | type) -> None:
        self.dtype = np.dtype(dtype)
        self.rows = shape[0]
        self.written = 0
        self.file = open(path, "wb")
        np.lib.format.write_array_header_1_0(self.file, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                         "fortran_order": False, "shape": shape})

    def write(self, block: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(block, dtype=self.dtype).tobytes())
        self.written += len(block)

    def __enter__(self) -> "_NpyWriter":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.file.close()
        if exc_type is None and self.written != self.rows:
            raise RuntimeError(f"{self.file.name}: {self.written} rows written of {self.rows}")


def _group_sums(matrix: np.ndarray | _RowFile, keys: np.ndarray, n_groups: int, inverse: np.ndarray) -> np.ndarray:
    """Sum the rows of each group; rows of a group are contiguous (``keys`` sorted).

    The sums are one ``np.add.reduceat`` per :data:`SUM_BLOCK` rows, as the vectors have
    always been made, but computed on pieces of about :data:`ROW_BLOCK` rows cut where a
    group starts, so no float32 copy of 65,536 rows is made: a group's sum does not depend on
    the rows around it."""
    sums = np.zeros((n_groups, matrix.shape[1]), dtype=np.float32)
    for block in range(0, len(matrix), SUM_BLOCK):
        stop = min(block + SUM_BLOCK, len(matrix))
        starts = np.concatenate([[block], np.flatnonzero(np.diff(keys[block:stop])) + 1 + block])
        start = block
        while start < stop:
            end = stop
            if start + ROW_BLOCK < stop:
                i = int(np.searchsorted(starts, start + ROW_BLOCK, side="right")) - 1
                if starts[i] > start:
                    end = int(starts[i])
                elif i + 1 < len(starts):  # one group longer than a piece: all of it
                    end = int(starts[i + 1])
            firsts = starts[(starts >= start) & (starts < end)] - start
            piece = np.asarray(matrix[start:end], dtype=np.float32)
            sums[inverse[start + firsts]] += np.add.reduceat(piece, firsts, axis=0)
            start = end
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


def _derived(matrix: np.ndarray | _RowFile, passages: np.ndarray, n_reports: int, folder: Path) -> None:
    """Write the report vectors (passage means), the section table, section vectors
    (:func:`section_vector`) and the centres (corpus mean passage, mean centred section) that
    section vectors subtract into ``folder``.

    Memory: one float32 row per section (the sums, turned into means in place; ~250 MB at
    20,000 reports); the centred mean and the section vectors go block by block. Each value is
    computed as a whole-array expression would (numpy sums axis 0 row after row), so the
    vectors do not depend on the blocks."""
    dim = matrix.shape[1]
    keys = passages["report"].astype(np.int64) * (1 << 20) + passages["section"]
    if len(keys) and np.any(np.diff(keys) < 0):
        raise ValueError("passages must be grouped by report and section, in order")
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    table = np.zeros(len(uniq), dtype=SECTION_DTYPE)
    table["report"] = passages["report"][first]
    table["section"] = passages["section"][first]
    table["kind"] = passages["kind"][first]
    np.save(folder / "sections.npy", table)
    means = _group_sums(matrix, keys, len(uniq), inverse) if len(uniq) else np.zeros((0, dim), np.float32)
    reports = np.zeros((n_reports, dim), dtype=np.float32)
    if len(uniq):
        firsts = np.concatenate([[0], np.flatnonzero(np.diff(table["report"])) + 1])
        reports[table["report"][firsts]] = np.add.reduceat(means, firsts, axis=0)
    has = np.linalg.norm(reports, axis=1) > 0
    reports[has] = _unit(reports[has])
    np.save(folder / "reports.npy", reports)
    del reports

    centres = np.zeros((2, dim), dtype=np.float32)
    if len(matrix):
        centres[0] = means.sum(axis=0) / len(matrix)
    means /= np.maximum(np.bincount(inverse, minlength=len(uniq)), 1)[:, None].astype(np.float32)
    if len(uniq):
        total = np.zeros((0, dim), dtype=np.float32)
        for start in range(0, len(means), ROW_BLOCK):
            block = _unit(means[start:start + ROW_BLOCK] - centres[0])
            total = np.add.reduce(np.concatenate([total, block]), axis=0, keepdims=True)
        centres[1] = total[0] / len(means)
    np.save(folder / "centres.npy", centres)
    with _NpyWriter(folder / "section_vectors.npy", (len(uniq), dim), np.float32) as out:
        for start in range(0, len(means), ROW_BLOCK):
            part = means[start:start + ROW_BLOCK]
            block = np.zeros((len(part), dim), dtype=np.float32)
            for i in range(len(part)):
                block[i] = section_vector(part[i], centres)
            out.write(block)


def _nlist(count: int) -> int:
    return int(min(4096, max(64, np.sqrt(count))))


def _build_ann(matrix: np.ndarray | _RowFile, path: Path, threads: int | None = None) -> dict:
    """faiss IVF with an 8-bit scalar quantiser: ~1/4 the memory of float32, re-scored exactly at query time."""
    import faiss

    if threads:
        faiss.omp_set_num_threads(threads)
    count, dim = matrix.shape
    nlist = _nlist(count)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(count, size=min(count, 64 * nlist), replace=False))
    train = np.empty((len(sample), dim), dtype=np.float32)
    for start in range(0, count, ROW_BLOCK):
        lo, hi = np.searchsorted(sample, [start, start + ROW_BLOCK])
        if hi > lo:
            train[lo:hi] = np.asarray(matrix[start:start + ROW_BLOCK])[sample[lo:hi] - start]
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.train(train)
    del train
    # Every list is allocated once at its final size: grown add by add, faiss doubles a list's
    # storage whenever it is full, and the ~300 MB of codes at 20,000 reports took up to twice that.
    lists = np.zeros(count, dtype=np.int64)
    for start in range(0, count, ROW_BLOCK):
        block = np.ascontiguousarray(matrix[start:start + ROW_BLOCK], dtype=np.float32)
        lists[start:start + len(block)] = quantizer.assign(block, 1).ravel()
    invlists = faiss.downcast_InvertedLists(index.invlists)
    for list_no, size in enumerate(np.bincount(lists, minlength=nlist).tolist()):
        invlists.resize(list_no, size)  # shrinking a list keeps its storage
        invlists.resize(list_no, 0)
    for start in range(0, count, ROW_BLOCK):
        block = np.ascontiguousarray(matrix[start:start + ROW_BLOCK], dtype=np.float32)
        index.add_core(len(block), faiss.swig_ptr(block), None, faiss.swig_ptr(lists[start:start + len(block)]))
    faiss.write_index(index, str(path))
    return {"ann": "faiss-ivf-sq8", "nlist": nlist, "nprobe": max(32, nlist // 16)}


def write_vectors(index_dir: Path, *, model_id: str, model_name: str | None, report_ids: Sequence[str],
                  passages: np.ndarray, matrix: np.ndarray, extra: dict | None = None,
                  window_owner: np.ndarray | None = None, window_matrix: np.ndarray | None = None) -> Path:
    """Write a complete generation from arrays in memory and make it current in one rename;
    returns its folder.

    ``passages`` (PASSAGE_DTYPE) must be grouped by report and section, in ``report_ids``
    order.
    """
    def arrays(folder: Path) -> None:
        np.save(folder / "vectors.npy", np.asarray(matrix, dtype=np.float16))
        if window_owner is not None and window_matrix is not None and len(window_owner):
            np.save(folder / "windows.npy", np.asarray(window_matrix, dtype=np.float16))
            np.save(folder / "window_owner.npy", np.asarray(window_owner, dtype=np.int32))

    return _write_generation(index_dir, arrays, model_id=model_id, model_name=model_name, report_ids=report_ids,
                             passages=passages, extra=extra)


def _write_generation(index_dir: Path, arrays: Callable[[Path], None], *, model_id: str, model_name: str | None,
                      report_ids: Sequence[str], passages: np.ndarray, extra: dict | None) -> Path:
    """Write a generation into a new folder, ``arrays`` writing its ``vectors.npy`` (and the
    windows) first, derive the rest from the file, and make it current in one rename."""
    root = _vectors_dir(Path(index_dir))
    root.mkdir(parents=True, exist_ok=True)
    remove_temp_folders(index_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        arrays(tmp)
        np.save(tmp / "passages.npy", passages)
        matrix = _RowFile(tmp / "vectors.npy")
        _derived(matrix, passages, len(report_ids), tmp)
        meta: dict[str, Any] = {
            "format": FORMAT, "model_id": model_id, "model_name": model_name, "chunker": CHUNKER_VERSION,
            "dim": int(matrix.shape[1]), "count": int(matrix.shape[0]), "kinds": list(KINDS),
            "created": time.time(), "ann": None, **(extra or {}), "reports": list(report_ids),
        }
        if len(matrix) > ANN_THRESHOLD:
            meta.update(_build_ann(matrix, tmp / "ann.faiss"))
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


@dataclass
class _Plan:
    """A new generation's passages as arrays, not Python objects: the passage table, where each
    row's vector comes from (a row of the previous generation, or a distinct text's vector in
    the cache), the windows' owners and slots, and the texts neither the cache nor the
    previous generation had (the only texts kept, until they are embedded)."""

    distinct: _Distinct
    table: np.ndarray  # PASSAGE_DTYPE
    old_rows: np.ndarray  # row in the previous generation, -1 where the vector is not reused
    slots: np.ndarray  # slot in ``distinct``, -1 where reused
    window_owner: np.ndarray  # int32, passage row of each window
    window_slots: np.ndarray  # slot in ``distinct`` of each window
    texts: dict[int, str]  # slot → text to embed

    def write(self, folder: Path, cache: EmbeddingCache, model_id: str, previous: Path | None) -> None:
        """Write ``vectors.npy`` and the windows into ``folder`` block by block, from the
        previous generation's file and the cache; then let go of the distinct texts' keys (the
        derived vectors and the ANN index come next)."""
        dim = self.distinct.dim or 384
        old = _RowFile(previous / "vectors.npy") if previous is not None and (self.old_rows >= 0).any() else None
        with _NpyWriter(folder / "vectors.npy", (len(self.table), dim), np.float16) as out:
            for start in range(0, len(self.table), ROW_BLOCK):
                slots, old_rows = self.slots[start:start + ROW_BLOCK], self.old_rows[start:start + ROW_BLOCK]
                block = np.zeros((len(slots), dim), dtype=np.float16)
                new = slots >= 0
                block[new] = self.distinct.vectors(cache, model_id, slots[new], dim)
                if old is not None and not new.all():
                    block[~new] = old.take(old_rows[~new])
                out.write(block)
        if len(self.window_owner):
            with _NpyWriter(folder / "windows.npy", (len(self.window_owner), dim), np.float16) as out:
                for start in range(0, len(self.window_owner), ROW_BLOCK):
                    out.write(self.distinct.vectors(cache, model_id, self.window_slots[start:start + ROW_BLOCK], dim))
            np.save(folder / "window_owner.npy", self.window_owner)
        self.distinct = _Distinct(dim)


def _reused_rows(reports: np.ndarray, report_ids: list[str], current: VectorSet | None) -> np.ndarray:
    """Each passage's row in ``current`` where its report has as many passages there (unchanged), else -1."""
    old = np.full(len(reports), -1, dtype=np.int64)
    if current is None or not len(reports):
        return old
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(reports)) + 1, [len(reports)]]).tolist()
    for a, b in zip(cuts[:-1], cuts[1:]):
        rows = current.rows_of(report_ids[reports[a]])
        if len(rows) == b - a:
            old[a:b] = rows
    return old


def _plan(store: Store, report_ids: list[str], current: VectorSet | None, cache: EmbeddingCache, model_id: str,
          update: VectorUpdate) -> _Plan:
    """What a new generation needs, read :data:`READ_REPORTS` reports at a time: their passages
    (cut and keyed, then dropped), their vectors in the previous generation (``current``, same
    model) or the cache, and the texts the model has to embed. The texts to embed keep the
    order the model has always seen them in: passages first, in passage order, then windows."""
    headings = store.section_headings()
    index = {r: i for i, r in enumerate(report_ids)}
    kinds = {k: i for i, k in enumerate(KINDS)}
    distinct = _Distinct(current.dim if current is not None else None)
    passage_texts: dict[int, str] = {}
    window_texts: dict[int, str] = {}
    tables: list[np.ndarray] = [np.zeros(0, dtype=PASSAGE_DTYPE)]
    old_parts = [np.zeros(0, dtype=np.int64)]
    slot_parts = [np.zeros(0, dtype=np.int64)]
    owner_parts = [np.zeros(0, dtype=np.int32)]
    window_slot_parts = [np.zeros(0, dtype=np.int64)]
    count = 0
    new_keys: list[bytes] = []

    def slot_of(text: str) -> int:
        slot, new = distinct.add(text_key(text))
        if new:
            new_keys.append(distinct.keys[slot])
        return slot

    for start in range(0, len(report_ids), READ_REPORTS):
        passages = list(iter_passages(store.paragraphs(report_ids[start:start + READ_REPORTS]), headings=headings))
        table = np.array([(index[p.report_id], p.section_ord, p.para_ord, p.start, p.end,
                           kinds.get(p.section_kind, kinds["other"]), p.first) for p in passages], dtype=PASSAGE_DTYPE)
        old_rows = _reused_rows(table["report"], report_ids, current)
        todo = np.flatnonzero(old_rows < 0)
        todo_texts = [passages[i].embed_text for i in todo.tolist()]
        wins = [(i, text) for i, p in enumerate(passages) for text in windows(p)]
        del passages
        new_keys.clear()
        slots = np.full(len(table), -1, dtype=np.int64)
        slots[todo] = [slot_of(text) for text in todo_texts]
        window_slots = np.array([slot_of(text) for _, text in wins], dtype=np.int64)
        cache.fill(model_id, distinct, new_keys)
        for slot, text, filled in zip(slots[todo].tolist(), todo_texts, distinct.filled(slots[todo]).tolist()):
            if not filled and slot not in passage_texts:
                passage_texts[slot] = text
                window_texts.pop(slot, None)
        for slot, (_, text), filled in zip(window_slots.tolist(), wins, distinct.filled(window_slots).tolist()):
            if not filled and slot not in passage_texts:
                window_texts.setdefault(slot, text)
        owner_parts.append(np.array([i for i, _ in wins], dtype=np.int32) + count)
        count += len(table)
        tables.append(table)
        old_parts.append(old_rows)
        slot_parts.append(slots)
        window_slot_parts.append(window_slots)
    old_rows, slots = np.concatenate(old_parts), np.concatenate(slot_parts)
    if current is not None:
        update.reused = int((old_rows >= 0).sum())
    update.cached = int(distinct.filled(slots[slots >= 0]).sum())
    return _Plan(distinct, np.concatenate(tables), old_rows, slots, np.concatenate(owner_parts),
                 np.concatenate(window_slot_parts), {**passage_texts, **window_texts})


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
    try:
        current = load_vectors(index_dir) if has_vectors(index_dir) else None
    except VectorsError:
        current = None
    same_model = current is not None and current.model_id == model_id and current.meta.get("chunker") == CHUNKER_VERSION
    with store.snapshot():
        report_ids = store.report_ids()
        # A generation written with other kind codes is read by name; writing it again with today's saves translating.
        if same_model and current.report_ids == report_ids and current.meta.get("kinds") == list(KINDS):
            update.passages = update.reused = current.count
            update.seconds = time.monotonic() - started
            return update
        cache = EmbeddingCache(_vectors_dir(index_dir) / CACHE_FILE)
        try:
            plan = _plan(store, report_ids, current if same_model else None, cache, model_id, update)
        except BaseException:
            cache.close()
            raise
    try:
        if plan.texts:
            loads_it = isinstance(model, (str, type(None))) and model_id not in _MODELS
            _embed_missing(plan.texts, plan.distinct, model, model_id, cache, progress, update, cluster)
            if loads_it:
                _forget_model(model_id)
        plan.texts = {}
        previous = current.path if same_model else None
        _write_generation(index_dir, lambda folder: plan.write(folder, cache, model_id, previous), model_id=model_id,
                          model_name=model_name, report_ids=report_ids, passages=plan.table,
                          extra={"embedded": update.embedded})
    finally:
        cache.close()
    update.passages = len(plan.table)
    update.written = True
    update.seconds = time.monotonic() - started
    return update


def _embed_missing(texts: dict[int, str], distinct: _Distinct, model: str | Embedder | None, model_id: str,
                   cache: EmbeddingCache, progress: ProgressFn | None, update: VectorUpdate,
                   cluster: str | None = None) -> None:
    """Embed ``texts`` (slot → text of ``distinct``), committing each batch to the cache, where
    the generation is written from."""
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
