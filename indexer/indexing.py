"""`nianbao index`: bring the store and every index in step with the files on disk.

Files are read, parsed and tokenised in worker processes; the main process writes. New
reports go into the store invisibly, batch by batch, and become visible in one `publish`
at the end, after the full-text index already holds them. A killed run leaves the last
published state, and the next run discards its leftovers and does the work again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from filelock import FileLock, Timeout

from . import normalize, parse
from .fulltext.analysis import word_counts
from .fulltext.grams import gram_codes
from .fulltext.index import FulltextIndex, ReportDocs
from .ids import report_id_for, text_key
from .ingest import (DEFAULT_MAX_BYTES, NO_TEXT_LAYER, IngestError, PageProgress, extract_report_bytes,
                     iter_report_files, read_file_bytes)
from .ingest.ocr import limit_threads
from .parse import ParsedReport, parse_report
from .parse.gate import REJECTION, annual_report_score
from .stats import CheckFailure, Indicator, extract_stats, run_checks
from .store import METADATA_COLUMNS, FileRecord, ReportRows, Store

# Reports per store transaction and per full-text commit. Each commit is one Whoosh segment that
# is not merged again (fulltext.index.merge_small): commits of 1,200 reports (17 segments at
# 20,000) indexed no faster than 400 (50) and peaked 0.5 GB higher. Each commit is also one gram
# segment, which every phrase count goes through: commits of 800 reports count a common phrase
# only ~3 % faster (a rare one 13 %), build no faster and peak 120-240 MB higher at 20,000
# reports (docs/performance.md, Build speed, fourth pass), so 400 stays.
BATCH_REPORTS = 400
PARSE_FAILED = "could not parse"
_PARSER_SKIPS = (REJECTION, PARSE_FAILED)  # skipped files a newer parser judges again
_CHUNK = 8  # files per task sent to a worker
_IN_FLIGHT_PER_WORKER = 4  # chunks queued or finished but not yet written, per worker
_BATCHES_QUEUED = 2  # batches handed to the writer thread and not yet written
LOCK_FILE = "index.lock"
REDERIVE = "rederive"  # the progress stage of deriving stale reports again from their stored text


def versions() -> tuple[int, int]:
    """The (parser, normaliser) versions reports are derived with now; a report stored with
    others is stale and derived again by the next `index`."""
    return parse.PARSER_VERSION, normalize.NORMALIZER_VERSION


class IndexLockedError(RuntimeError):
    """Another `nianbao index` holds the write lock."""


@dataclass
class FileResult:
    path: str
    status: str  # added, updated, unchanged, duplicate (same text as another report), removed, skipped
    reason: str | None = None
    report_id: str | None = None


@dataclass
class IndexSummary:
    files: list[FileResult] = field(default_factory=list)
    reports: int = 0
    seconds: float = 0.0
    rederived: int = 0  # stale reports derived again from their stored text
    rederive_failed: list[str] = field(default_factory=list)  # "id: reason"; stale, and out of search

    def counts(self) -> dict[str, int]:
        counts = Counter(f.status for f in self.files)
        return {s: counts.get(s, 0) for s in ("added", "updated", "unchanged", "duplicate", "removed", "skipped")}

    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "skipped"]

    def nothing_readable(self) -> bool:
        """True when files were given but not one could be read (the CLI then exits 1)."""
        counts = self.counts()
        return counts["skipped"] > 0 and counts["added"] + counts["updated"] + counts["unchanged"] + counts["duplicate"] == 0


@dataclass
class PreparedReport:
    """A parsed report with everything the store and the indexes need, made in a worker."""

    path: str
    record: FileRecord
    report_id: str | None = None
    rows: ReportRows | None = None  # None: the file could not be read, or is unchanged
    docs: ReportDocs | None = None
    reason: str | None = None


class WriteLock:
    """One writer per index directory: an OS lock on `index.lock` (filelock: flock, or LockFileEx
    on Windows), with the holder's pid in the file for messages. The OS drops the lock when its
    holder dies (even kill -9), and filelock closes it in forked children, so an orphaned worker
    of a killed `index` never keeps the index locked."""

    def __init__(self, index_dir: Path, wait: float = 0.0) -> None:
        self.path = Path(index_dir) / LOCK_FILE
        self.wait = wait
        self._fd: int | None = None
        self._lock = FileLock(self.path, timeout=wait, mode=0o644, poll_interval=0.2,
                              preserve_lock_file=True, thread_local=False, on_acquired=self._write_pid)

    def _write_pid(self, fd: int) -> None:
        self._fd = fd
        with contextlib.suppress(OSError):  # the pid only names the holder in messages
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode())

    def __enter__(self) -> "WriteLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            try:
                holder = self.path.read_text(errors="replace").strip()[:32] or "?"
            except OSError:
                holder = "?"
            raise IndexLockedError(
                f"another `nianbao index` (pid {holder}) is writing to {self.path.parent}; "
                "wait for it to finish or use --wait SECONDS") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            self._fd = None
        self._lock.release()


def _json_or_null(value: list | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def report_rows(report_id: str, source: str, sha256: str, parsed: ParsedReport, norm_text: str,
                bounds: list[tuple[int, int]], indicators: list[Indicator], failures: list[CheckFailure],
                versions: tuple[int, int], pages: list[int] | None = None,
                ocr_pages: list[dict] | None = None) -> ReportRows:
    """The store's rows of a parsed report, its statistics and check failures (where parse meets the
    store, so that neither imports the other); `versions`: the parser's
    and the normaliser's that derived them; `pages` and `ocr_pages` as the reader gave them (see
    ingest.Extracted)."""
    meta = parsed.metadata
    sections, paragraphs = [], []
    for ord_, (section, (ns, ne)) in enumerate(zip(parsed.sections, bounds)):
        sections.append((report_id, ord_, section.kind, section.heading, section.number, section.start, section.end,
                         ns, ne))
        paragraphs.extend((report_id, ord_, i, p.kind, p.text, p.start, p.end) for i, p in enumerate(section.paragraphs))
    derived = {name: getattr(meta, name, None) for name in METADATA_COLUMNS}
    if derived["evidence"] is not None:
        derived["evidence"] = json.dumps(derived["evidence"], ensure_ascii=False)
    return ReportRows.of(
        {"id": report_id, "source": source, "sha256": sha256, **derived, "text": parsed.text, "norm_text": norm_text,
         "pages": _json_or_null(pages), "ocr_pages": _json_or_null(ocr_pages), "parser_version": versions[0],
         "normalizer_version": versions[1], "text_key": text_key(parsed.text)},
        sections, paragraphs,
        [(report_id, i.key, i.label, i.unit, i.value, i.note) for i in indicators],
        [(report_id, f.check, json.dumps(f.cells, ensure_ascii=False), f.message) for f in failures],
    )


def prepare_text(text: str, record: FileRecord, pages: list[int] | None = None,
                 ocr_pages: list[dict] | None = None, report_id: str | None = None,
                 normalized: normalize.Normalized | None = None) -> PreparedReport:
    """Parse a report's text into everything the store and indexes need; `pages` and
    `ocr_pages` as its reader gave them; `report_id`: a stored report's (ids are never
    recomputed), else a new one from the text; `normalized`: the text's, if already made."""
    parsed = parse_report(text)
    normalized = normalized if normalized is not None else normalize.normalize_with_map(text)
    norm_text = normalized.text
    bounds = normalized.spans_from_source((s.start, s.end) for s in parsed.sections)
    report_id = report_id or report_id_for(text)
    record.report_id = report_id
    stats = extract_stats(text)
    meta = parsed.metadata
    docs = ReportDocs(
        report_id=report_id,
        grams=gram_codes(norm_text),
        sections=[{"section": i, "kind": s.kind, "start": a, "end": b, "words": word_counts(norm_text[a:b])}
                  for i, (s, (a, b)) in enumerate(zip(parsed.sections, bounds))],
        meta={"year": meta.year, "province": meta.province, "city": meta.city, "county": meta.county,
              "agency": meta.agency, "template": meta.template},
        text=norm_text,
    )
    rows = report_rows(report_id, record.name, record.sha256, parsed, norm_text, bounds, stats.indicators,
                       run_checks(stats, text), versions(), pages, ocr_pages)
    return PreparedReport(path=record.path, record=record, report_id=report_id, rows=rows, docs=docs)


def rederive_text(report_id: str, source: str, sha256: str, text: str) -> PreparedReport:
    """Worker: a stored report derived again from its stored text, under its own id (its pages,
    which come from the file, are kept as stored)."""
    record = FileRecord("", source, 0, 0, sha256, report_id)
    try:
        return prepare_text(text, record, report_id=report_id)
    except Exception as exc:  # a parser bug leaves this report as it was, and the run goes on
        return PreparedReport("", record, report_id, reason=f"{type(exc).__name__}: {exc}")


def prepare_file(path: str, known_sha: str | None, max_bytes: int, force: bool = False, ocr: bool = True,
                 progress: PageProgress | None = None) -> PreparedReport:
    """Worker: read, hash and parse one file; a file that can't be read, or (unless `force`) does
    not look like an annual report, carries its reason. A file whose bytes are those already
    indexed is not read further (OCR would take minutes); `progress` follows OCR page by page."""
    file_path = Path(path)
    record = FileRecord(path, file_path.name, 0, 0, "", None)
    try:
        stat = file_path.stat()
        record.size, record.mtime_ns = stat.st_size, stat.st_mtime_ns
        data = read_file_bytes(file_path, max_bytes)
        record.sha256 = hashlib.sha256(data).hexdigest()
        if record.sha256 == known_sha:
            return PreparedReport(path, record)
        extracted = extract_report_bytes(file_path.name, data, ocr=ocr, progress=progress)
    except IngestError as exc:
        record.reason = str(exc)
        return PreparedReport(path, record, reason=str(exc))
    except FileNotFoundError:
        record.reason = "file disappeared before it could be read"
        return PreparedReport(path, record, reason=record.reason)
    normalized = normalize.normalize_with_map(extracted.text)  # read by the gate, then by the indexes
    if not force:
        gate = annual_report_score(extracted.text, normalized.text)
        if not gate.is_report:
            record.reason, record.parser_version = gate.rejection(), parse.PARSER_VERSION
            return PreparedReport(path, record, reason=record.reason)
    try:
        return prepare_text(extracted.text, record, extracted.page_starts, extracted.ocr_pages, normalized=normalized)
    except Exception as exc:  # a parser bug must cost one file, not the run
        record.reason, record.parser_version = f"{PARSE_FAILED} ({type(exc).__name__}: {exc})", parse.PARSER_VERSION
        return PreparedReport(path, record, reason=record.reason)


def _list_files(paths: Iterable[Path]) -> tuple[list[str], list[Path]]:
    roots = [Path(p).resolve() for p in paths]
    seen: dict[str, None] = {}
    for path in iter_report_files(roots):
        seen[str(path.resolve())] = None
    return list(seen), roots


def _under(path: str, roots: list[Path]) -> bool:
    p = Path(path)
    return any(p == root or root in p.parents for root in roots)


ProgressFn = Callable[[str, int, int], None]


def index_paths(paths: Iterable[Path], index_dir: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                workers: int | None = None, wait: float = 0.0, progress: ProgressFn | None = None,
                embed: bool = False, model: str | None = None, force: bool = False, ocr: bool = True,
                cluster: str | None = None) -> IndexSummary:
    """Index files and folders into `index_dir`; returns what happened to each file.

    `force` adds files that do not look like annual reports (parse.gate), and retries the ones
    an earlier run skipped. `ocr`: read PDF pages without a text layer by OCR (progress stage
    "ocr", in pages). `cluster` (a Dask scheduler's address) embeds on its workers.
    """
    started = time.monotonic()
    index_dir = Path(index_dir)
    with WriteLock(index_dir, wait), Store(index_dir) as store:
        fulltext = FulltextIndex(index_dir)
        summary = _run(store, fulltext, paths, max_bytes, workers, progress, force, ocr)
        if embed:
            from .semantic.vectors import update_vectors

            update_vectors(index_dir, store, model=model, progress=progress, cluster=cluster)
        summary.reports = store.count_reports()
    summary.seconds = time.monotonic() - started
    return summary


def repair(store: Store, fulltext: FulltextIndex) -> tuple[list[str], list[str]]:
    """Discard unpublished reports and bring the full-text index to the store's visible reports.

    Returns (ids removed from the index, ids the index lacks). Must hold the write lock.
    """
    from .semantic.vectors import remove_temp_folders

    fulltext.clean_temp_files()
    remove_temp_folders(fulltext.path.parent)
    store.discard_unpublished()
    visible = set(store.report_ids())
    indexed = fulltext.report_ids()
    extra = sorted(indexed - visible)
    fulltext.delete(extra)
    missing = sorted(visible - indexed)
    if missing:
        texts = store.texts(missing)
        docs = []
        for report_id in missing:
            try:
                docs.append(prepare_text(texts[report_id][0], FileRecord("", "", 0, 0, "", None),
                                         report_id=report_id).docs)
            except Exception:  # a parser bug on a stale report: see rederive_stale; a later run tries again
                continue
        fulltext.add(docs)
    return extra, missing


def rederive_stale(store: Store, fulltext: FulltextIndex, summary: IndexSummary, workers: int | None = None,
                   progress: ProgressFn | None = None) -> None:
    """Derive reports stored by an older parser or normaliser again from their stored text (no
    files needed), batch by batch. Must hold the write lock, before a run writes new reports.

    The full-text index keeps a report it already holds as it is (ids were content hashes), so
    the stale reports are first dropped from it for good. Then each batch goes to the full-text
    index and replaces the store's rows in one transaction that also clears the staleness. A
    kill at any point leaves reports still stale in the store, which the next run's `repair`
    puts back into the full-text index and this derives again. Until its batch is written, a
    stale report is missing from search results; one the parser fails on stays stale and missing
    (`summary.rederive_failed`), its stored rows as they were.
    """
    stale = store.stale_report_ids(versions())
    if not stale:
        return
    _purge(store, fulltext, stale)
    for start in range(0, len(stale), BATCH_REPORTS):
        ids = stale[start:start + BATCH_REPORTS]
        sources = store.report_sources(ids)
        prepared = _rederive_all([(i, *sources[i]) for i in ids], workers)
        done = [p for p in prepared if p.reason is None]
        summary.rederive_failed += [f"{p.report_id}: {p.reason}" for p in prepared if p.reason]
        fulltext.add(p.docs for p in done)
        store.replace_derived([p.rows for p in done])
        summary.rederived += len(done)
        if progress:
            progress(REDERIVE, start + len(ids), len(stale))


def _purge(store: Store, fulltext: FulltextIndex, report_ids: list[str]) -> None:
    """Remove reports from the full-text index so that adding them again writes new entries: the
    gram index's segments are rewritten without them (cheap when, as after an upgrade, most
    reports go)."""
    fulltext.delete(report_ids)
    rest = sorted(fulltext.report_ids())
    texts = store.texts(rest)
    fulltext.grams.optimize({i: texts[i][1] for i in rest}, store.section_bounds(rest))


def _run(store: Store, fulltext: FulltextIndex, paths: Iterable[Path], max_bytes: int,
         workers: int | None, progress: ProgressFn | None, force: bool = False, ocr: bool = True) -> IndexSummary:
    repair(store, fulltext)
    summary = IndexSummary()
    rederive_stale(store, fulltext, summary, workers, progress)
    files, roots = _list_files(paths)
    known = store.files()
    legacy = store.legacy_ids()
    todo: list[_Task] = []
    unchanged: list[FileRecord] = []
    for path in files:
        record = known.get(path)
        try:
            stat = os.stat(path)
        except OSError:
            stat = None
        same = record and stat and record.size == stat.st_size and record.mtime_ns == stat.st_mtime_ns
        # A file skipped for want of a text layer (OCR off, or an index from before OCR) is read again with OCR,
        # and one the parser turned away is judged again by a newer parser.
        awaits_ocr = ocr and record is not None and (record.reason or "").startswith(NO_TEXT_LAYER)
        rejudge = record is not None and record.report_id is None and (record.reason or "").startswith(_PARSER_SKIPS) \
            and record.parser_version != parse.PARSER_VERSION
        if same and not (force and record.report_id is None) and not awaits_ocr and not rejudge:
            unchanged.append(record)
            status = "skipped" if record.report_id is None else "unchanged"
            summary.files.append(FileResult(path, status, record.reason, record.report_id))
        else:
            todo.append((path, record.sha256 if record and record.report_id else None, max_bytes, force, ocr))

    gen = store.visible_gen() + 1
    records: list[FileRecord] = []
    batch: list[PreparedReport] = []
    # The store and Whoosh (pure Python) write in a thread while the main thread takes the
    # workers' reports; written in turn, the workers sat idle for every batch's writing.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
    writing: deque[Future] = deque()  # batches queued or being written, in order

    def write(prepared: list[PreparedReport]) -> None:
        store.add_reports([p.rows for p in prepared], gen)
        fulltext.add(p.docs for p in prepared)

    def flush() -> None:
        while len(writing) >= _BATCHES_QUEUED:
            writing.popleft().result()  # raises the writer's error here
        writing.append(writer.submit(write, batch.copy()))
        batch.clear()

    # A file whose text is already a report (visible, or read earlier in this run) joins that report:
    # called a duplicate, not added, so a journalist knows the corpus did not grow.
    held = {record.report_id: record.path for record in known.values() if record.report_id}
    with writer:
        pages = _OcrProgress(progress) if progress else None
        for done, prepared in enumerate(_prepare_all(todo, workers, pages), 1):
            records.append(prepared.record)
            previous = known.get(prepared.path)
            if prepared.reason:
                summary.files.append(FileResult(prepared.path, "skipped", prepared.reason))
            elif prepared.rows is None:
                summary.files.append(FileResult(prepared.path, "unchanged", None, previous.report_id))
                prepared.record.report_id = previous.report_id
            elif held.get(prepared.report_id, prepared.path) != prepared.path:
                other = Path(held[prepared.report_id]).name
                summary.files.append(FileResult(prepared.path, "duplicate", f"same text as {other} (report {prepared.report_id})",
                                                prepared.report_id))
            else:
                stored_id = legacy.get(prepared.rows.report["text_key"])
                if stored_id:  # the same text as a report stored under an older id rule: that report
                    _rename(prepared, stored_id)
                status = "updated" if previous and previous.report_id else "added"
                summary.files.append(FileResult(prepared.path, status, None, prepared.report_id))
                held[prepared.report_id] = prepared.path
                batch.append(prepared)
                if len(batch) >= BATCH_REPORTS:
                    flush()
            if progress:
                progress("read", done, len(todo))
        flush()
        while writing:
            writing.popleft().result()

    listed = set(files)
    gone = [p for p in known if p not in listed and _under(p, roots)]
    summary.files.extend(FileResult(p, "removed", None, known[p].report_id) for p in gone if known[p].report_id)
    removed_ids = store.publish(gen, records, gone)
    fulltext.delete(removed_ids)
    return summary


def _rename(prepared: PreparedReport, report_id: str) -> None:
    prepared.report_id = prepared.record.report_id = prepared.docs.report_id = report_id
    prepared.rows = prepared.rows.renamed(report_id)


class _OcrProgress:
    """OCR's page-by-page progress over every file being read, as one "ocr" stage."""

    def __init__(self, progress: ProgressFn) -> None:
        self.progress = progress
        self.files: dict[str, tuple[int, int]] = {}

    def __call__(self, path: str, done: int, total: int) -> None:
        self.files[path] = (done, total)
        self.progress("ocr", sum(d for d, _ in self.files.values()), sum(t for _, t in self.files.values()))


_Task = tuple[str, str | None, int, bool, bool]  # prepare_file's arguments: path, known sha256, max bytes, force, ocr
_page_events: "multiprocessing.Queue | None" = None  # in a worker: where OCR progress goes


def _start_worker(events: "multiprocessing.Queue | None", ocr_threads: int) -> None:
    """Worker initializer: exit with the parent, send OCR progress to `events`, and let OCR use
    this worker's share of the cores."""
    global _page_events
    _exit_with_parent()
    _page_events = events
    limit_threads(ocr_threads)


def _exit_with_parent() -> None:
    """A worker whose `index` was killed exits instead of idling forever."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _send_pages(path: str, done: int, total: int) -> None:
    _page_events.put((path, done, total))


def _prepare_chunk(chunk: list[_Task]) -> list[PreparedReport]:
    return [prepare_file(*args, progress=partial(_send_pages, args[0]) if _page_events else None) for args in chunk]


def _rederive_chunk(chunk: list[tuple[str, str, str, str]]) -> list[PreparedReport]:
    return [rederive_text(*args) for args in chunk]


def _rederive_all(todo: list[tuple[str, str, str, str]], workers: int | None) -> list[PreparedReport]:
    """`rederive_text` for each of (id, source, sha256, text), in order, in worker processes."""
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(todo) < 40:
        return _rederive_chunk(todo)
    chunks = [todo[i:i + _CHUNK] for i in range(0, len(todo), _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_exit_with_parent) as pool:
        return [p for done in pool.map(_rederive_chunk, chunks) for p in done]


def _prepare_all(todo: list[_Task], workers: int | None,
                 pages: Callable[[str, int, int], None] | None = None) -> Iterable[PreparedReport]:
    """Prepared reports in `todo`'s order, parsed by a pool of worker processes; `pages` gets
    (path, pages read by OCR, pages it needs), in this thread.

    Only a few chunks per worker are in flight: the single writer is the slower side, and
    `pool.map` would park every finished report in memory until the writer got to it
    (3.3 GB at 20,000 reports).
    """
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(todo) < 40:
        for args in todo:
            yield prepare_file(*args, progress=partial(pages, args[0]) if pages else None)
        return
    chunks = (todo[i:i + _CHUNK] for i in range(0, len(todo), _CHUNK))
    events = multiprocessing.Queue() if pages else None

    def drain() -> None:
        while events is not None:
            try:
                pages(*events.get_nowait())
            except queue.Empty:
                return

    def result(future: Future[list[PreparedReport]]) -> list[PreparedReport]:
        while True:  # OCR progress is passed on while a chunk is read
            try:
                return future.result(timeout=None if events is None else 0.2)
            except TimeoutError:
                drain()

    cores = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(events, cores)) as pool:
        pending: deque[Future[list[PreparedReport]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_prepare_chunk, chunk))
            if len(pending) >= _IN_FLIGHT_PER_WORKER * workers:
                yield from result(pending.popleft())
        while pending:
            yield from result(pending.popleft())
    drain()
