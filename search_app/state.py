"""What the pages share: the index directory, resources loaded once per process, and URL state.

The engine (full-text searchers, the corpus table, jieba, the embedding model) is built once
per process with `st.cache_resource` and warmed in a background thread at start, so the first
search waits for nothing. Streamlit runs each session in its own thread and the engine keeps
one SQLite connection, so every use of it goes through `using_engine()`, which serialises.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

import indexer
from indexer.core import settings
from indexer.indexing import WriteLock
from indexer.ingest import DEFAULT_MAX_BYTES, IngestError, read_report_bytes
from indexer.core.kinds import SECTION_KINDS
from indexer.progress import LABELS
from indexer.query import Engine, QueryError, SearchFilters
from indexer.store import Store, StoreError

log = logging.getLogger("nianbao.app")


def _parse_in_turn() -> None:
    """Make threads build Python ASTs one at a time (CPython before 3.13).

    The interpreter keeps one AST recursion counter for all threads, so two threads in
    `ast.parse` at once can fail with "SystemError: AST constructor recursion depth mismatch"
    (python/cpython#106905). Here they were Streamlit compiling a page (its magic parses the
    script) and the warm-up thread loading gram segments (numpy parses each array header with
    `ast.literal_eval`, which calls `ast.parse`): the app's tests failed on it now and then.
    """
    import ast

    if sys.version_info >= (3, 13) or getattr(ast.parse, "_nianbao_in_turn", False):
        return
    parse, lock = ast.parse, threading.RLock()

    def parse_in_turn(*args, **kwargs):
        with lock:
            return parse(*args, **kwargs)

    parse_in_turn._nianbao_in_turn = True
    ast.parse = parse_in_turn


_parse_in_turn()

# The five sample reports, package data so a wheel has them too; `corpus/` in a checkout links here.
BUNDLED_CORPUS = Path(indexer.__file__).resolve().parent / "data" / "corpus"
UPLOADS_DIR = "uploads"
MAX_NAME = 100
HASH_CHARS = 32  # 128 bits of sha256: an upload's folder name
_UNSAFE_NAME = re.compile(r"[^\w.\-()（）]+")


def index_dir() -> Path:
    """The index directory: NIANBAO_HOME (set by `nianbao app`) or the per-user data dir."""
    return settings.index_dir().resolve()


def uploads_dir() -> Path:
    return index_dir() / UPLOADS_DIR


def safe_upload_name(name: str) -> str:
    """A plain file name that stays inside the uploads folder whatever the browser sent."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip("._") or "upload"
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix.lower()[:8]
    stem = stem[:MAX_NAME - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def stored_upload(data: bytes, folder: Path) -> Path | None:
    """The copy of `data` an earlier upload kept in `folder` (see `save_upload`), or None."""
    slot = folder.resolve() / hashlib.sha256(data).hexdigest()[:HASH_CHARS]
    kept = sorted(p for p in slot.iterdir() if not p.name.startswith(".")) if slot.is_dir() else []
    return kept[0] if kept else None


def save_upload(name: str, data: bytes, folder: Path) -> Path:
    """Check an uploaded file with the library's reader, then keep it as `folder/<sha256>/<name>`.

    The content's hash names the folder, so a second file of the same name never replaces the
    first, and the same content sent twice (under any name) is stored once: the earlier copy's
    path is returned. The file is written beside and renamed, so a half-written one is never
    found. Raises `IngestError` (the reason in words) for a file too big, unreadable, or
    unnamable; nothing is written then.
    """
    limit_mb = DEFAULT_MAX_BYTES // (1024 * 1024)
    if len(data) > DEFAULT_MAX_BYTES:
        raise IngestError(f"文件太大（{len(data) / 1e6:.1f} MB，上限 {limit_mb} MB）")
    safe = safe_upload_name(name)
    read_report_bytes(safe, data)
    earlier = stored_upload(data, folder)
    if earlier is not None:
        return earlier
    folder = folder.resolve()
    slot = folder / hashlib.sha256(data).hexdigest()[:HASH_CHARS]
    path = (slot / safe).resolve()
    if path.parent != slot:
        raise IngestError("文件名不可用")
    slot.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = slot / f".{safe}.part"
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


# --- resources loaded once per process ---------------------------------------------------


@st.cache_resource(show_spinner=False)
def _engine_lock(index_path: str) -> threading.Lock:
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def _engine(index_path: str) -> Engine:
    return Engine(Path(index_path))


@st.cache_resource(show_spinner=False)
def _write_lock(index_path: str) -> threading.Lock:
    """One indexing run at a time from this process (the library's file lock covers other processes)."""
    return threading.Lock()


class EngineHandle:
    """The process's engine, held exclusively inside `with`; reusable from other threads (downloads)."""

    def __init__(self) -> None:
        path = str(index_dir())
        self.lock = _engine_lock(path)
        self.engine = _engine(path)

    def __enter__(self) -> Engine:
        self.lock.acquire()
        return self.engine

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def using_engine() -> EngineHandle:
    return EngineHandle()


@contextmanager
def store() -> Iterator[Store]:
    """A fresh read-only view of the store (a SQLite connection is cheap; a snapshot is consistent)."""
    with Store(index_dir(), create=False) as opened, opened.snapshot():
        yield opened


@st.cache_resource(show_spinner=False)
def _known_non_empty() -> set[str]:
    """Index directories this process has seen holding reports: no store is opened to ask again."""
    return set()


def has_reports() -> bool:
    """Whether the index holds a report; asked on every page run, so a yes is remembered."""
    path = str(index_dir())
    if path in _known_non_empty():
        return True
    try:
        with store() as s:
            found = s.count_reports() > 0
    except StoreError:
        return False
    if found:
        _known_non_empty().add(path)
    return found


def write_lock() -> threading.Lock:
    return _write_lock(str(index_dir()))


def _warm(engine: Engine, lock: threading.Lock) -> None:
    """Load everything a first query would otherwise wait for: corpus table, jieba, the words
    index, texts and sections, the model.

    The engine lock is held only for the queries, so a search arriving meanwhile waits for
    one of those, not for jieba's dictionary or the embedding model to load.
    """
    from indexer.fulltext.analysis import words

    started = time.monotonic()
    try:
        with lock:
            engine.search("政府信息公开", mode="exact", limit=1)
        words("政府信息公开")
        with lock:
            engine.search("政府信息公开", mode="keyword", limit=1)
        with lock:  # a filter also reads which report owns each words document (~1 s at 20,000)
            engine.search("政府信息公开", SearchFilters(year="1000-9999"), mode="keyword", limit=1)
        with lock:  # every text and section, which a scan or a long listing reads
            engine.fulltext.warm()
        log.info("full-text search warm in %.2f s", time.monotonic() - started)
        if vectors_available("search"):
            with lock:
                engine.search("政府信息公开", mode="semantic", limit=1)
            log.info("semantic search warm in %.2f s", time.monotonic() - started)
    except Exception:  # warming is an optimisation; a failure shows up again, politely, on the first query
        log.warning("warming the engine failed", exc_info=True)


@st.cache_resource(show_spinner=False)
def _warm_thread(index_path: str) -> threading.Thread:
    thread = threading.Thread(target=_warm, args=(_engine(index_path), _engine_lock(index_path)),
                              name="nianbao-warm", daemon=True)
    thread.start()
    return thread


def warm_up() -> None:
    """Start warming the engine once per process, without holding up the page."""
    _warm_thread(str(index_dir()))


def vectors_available(feature: str | None = None) -> bool:
    """Whether this index has paragraph embeddings and, if named, the semantic `feature` module exists.

    `feature` is a module of `indexer.semantic` (search, similar, compare): a page uses the
    library's function only when it is installed, and otherwise shows what it can without it.
    """
    try:
        from indexer.semantic import vectors
    except ImportError:
        return False
    probe: Callable[[Path], bool] | None = getattr(vectors, "has_vectors", None)
    if not (probe and probe(index_dir())):
        return False
    return feature is None or importlib.util.find_spec(f"indexer.semantic.{feature}") is not None


def semantic_installed() -> bool:
    """Whether this installation can compute vectors at all (the semantic layer is importable)."""
    try:
        from indexer.semantic import vectors
    except ImportError:
        return False
    return hasattr(vectors, "update_vectors")


def progress_bar() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A Streamlit progress bar as the library's `(stage, done, total)` callback, and its remover."""
    bar = st.progress(0.0, text="准备中……")

    def update(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{LABELS.get(stage, stage)}：{done} / {total}")

    return update, bar.empty


def compute_vectors(progress: Callable[[str, int, int], None] | None = None, wait: float = 10) -> None:
    """Embed every paragraph that lacks a vector, as `nianbao index` does after reading files.

    Raises `IndexLockedError` when another writer holds the index past `wait` seconds.
    """
    from indexer.semantic.vectors import update_vectors

    with write_lock(), WriteLock(index_dir(), wait):
        with Store(index_dir()) as opened:
            update_vectors(index_dir(), opened, progress=progress)
    _engine.clear()


# --- URL state ---------------------------------------------------------------------------


def param(name: str, default: str = "") -> str:
    value = st.query_params.get(name)
    return value if value else default


def param_list(name: str) -> list[str]:
    """A repeated URL parameter's values, each once (a pasted link may repeat one)."""
    return list(dict.fromkeys(v for v in st.query_params.get_all(name) if v))


def int_param(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the URL, brought within low..high; `default` when it is not a number
    (a pasted link may hold anything: ², a thousand digits)."""
    value = param(name)
    if not value.isdecimal():
        return default
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(high)):  # above `high`; and int() refuses thousands of digits
        return high
    return min(max(int(digits), low), high)


def year_params() -> list[str]:
    """The URL's years or ranges, as the search filters read them; a malformed one is dropped
    with a warning (it would otherwise stop every search on the page as a bad query)."""
    kept = []
    for year in param_list("year"):
        try:
            SearchFilters(year=year).years()
        except QueryError:
            st.warning(f"链接里的年份「{year}」无法识别（应为 2020 或 2018-2020），已忽略。")
            continue
        kept.append(year)
    return kept


def year_param() -> str:
    """The URL's first well-formed year or range (pages that filter by one year)."""
    return next(iter(year_params()), "")


def resolve_ids(values: list[str]) -> tuple[list[str], list[str]]:
    """Report ids from a link, each an id or a unique prefix as on the report page, without
    repeats; and the values that name no report."""
    found: list[str] = []
    unknown: list[str] = []
    if not values:
        return found, unknown
    with store() as opened:
        for value in values:
            full = opened.resolve_id(value)
            if full is None:
                unknown.append(value)
            elif full not in found:
                found.append(full)
    return found, unknown


SEARCH_PARAMS = ("q", "mode", "sort", "p", "year", "province", "city", "agency", "section")
"""What the search page keeps in its URL: a report opened from a result carries them back."""
FACET_PARAMS = ("year", "province", "city", "agency", "section")
"""The search's facets: each may repeat in the URL (any of the values matches)."""
SEMANTIC_LIMIT = 40
"""How many passages a meaning (semantic or hybrid) search shows."""


def url_filters() -> SearchFilters:
    """The search's filters as its URL states them: a report opened from a result re-runs the search."""
    return filters_of({"year": year_params(), "section": param_list("section"), "province": param_list("province"),
                       "city": param_list("city"), "agency": param_list("agency")})


def filters_of(chosen: dict[str, list[str]]) -> SearchFilters:
    """The library's filters for the facets' chosen values (none chosen: no filter)."""
    return SearchFilters(year=chosen.get("year") or None,
                         sections=[k for k in chosen.get("section", []) if k in SECTION_KINDS],
                         province=chosen.get("province") or None, city=chosen.get("city") or None,
                         agency=chosen.get("agency") or None)


def search_params() -> dict[str, str | list[str]]:
    """The search page's URL parameters found in this page's URL (the facets may repeat)."""
    found: dict[str, str | list[str]] = {}
    for name in SEARCH_PARAMS:
        values = param_list(name)
        if values:
            found[name] = values if name in FACET_PARAMS else values[0]
    return found


def init_widget(key: str, value: object) -> None:
    """Give a widget its starting value (from the URL) the first time the page is drawn."""
    if key not in st.session_state:
        st.session_state[key] = value


def set_params(params: dict[str, str | list[str] | None]) -> None:
    """Make the URL say exactly `params` (empty values dropped), without touching it if unchanged."""
    wanted = {k: v for k, v in params.items() if v not in (None, "", [])}
    current = {k: (st.query_params.get_all(k) if isinstance(wanted.get(k), list) else st.query_params.get(k))
               for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)
