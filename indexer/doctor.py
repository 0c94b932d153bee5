"""`nianbao doctor`: check that the store, the full-text index and the vectors agree, and repair.

The store is the source of truth; everything else is derived from it. A killed `index`
leaves reports it never published, index entries for them, temp files and gram segments no
commit refers to; a damaged disk can leave an unreadable full-text index. `check` names each of these as a
`Problem`; `repair` re-derives what it can from the store, under the write lock, with the
same `indexing.repair` every `index` run starts with.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex

from .fulltext.grams import SEGMENT_PREFIX, GramIndex
from .fulltext.index import FULLTEXT_DIR, WORDS, FulltextIndex
from .indexing import LOCK_FILE, IndexSummary, WriteLock, rederive_stale, versions
from .indexing import repair as repair_fulltext
from .store import STORE_FILE, Store, StoreError


@dataclass
class Problem:
    """One disagreement or defect; `repairable` when `repair` can re-derive the fix from the store."""

    part: str  # store, fulltext, vectors
    kind: str
    message: str
    repairable: bool
    ids: list[str] = field(default_factory=list)


@dataclass
class _Fulltext:
    grams: set[str]
    sections: Counter  # report id -> documents in the words index


def check(index_dir: Path, wait: float = 0.0) -> list[Problem]:
    """Every problem found in `index_dir`; an empty list means store and indexes agree."""
    index_dir = Path(index_dir)
    _require_index(index_dir)
    with WriteLock(index_dir, wait):  # a killed writer's pid in the lock file is harmless and overwritten here
        return _check_locked(index_dir)


def repair(index_dir: Path, wait: float = 0.0) -> list[str]:
    """Fix what can be re-derived from the store; returns one line per action taken."""
    index_dir = Path(index_dir)
    _require_index(index_dir)
    actions: list[str] = []
    stale = _stale_lock_pid(index_dir)
    with WriteLock(index_dir, wait):
        if stale:
            actions.append(f"cleared the stale {LOCK_FILE} of killed pid {stale}")
        problems = _check_locked(index_dir)
        by_kind = {p.kind: p for p in problems}
        if any(p.part == "store" and not p.repairable for p in problems):
            return actions  # a damaged store is not ours to rewrite: rebuilding from it would lose data
        with Store(index_dir, create=False) as store:
            actions += _repair_store(store, by_kind)
            fulltext_dir = index_dir / FULLTEXT_DIR
            if "fulltext_unreadable" in by_kind:
                shutil.rmtree(fulltext_dir, ignore_errors=True)
                actions.append("removed the unreadable full-text index to rebuild it from the store")
            temp_files = len(_leftovers(fulltext_dir))
            fulltext = FulltextIndex(index_dir)
            outdated = by_kind.get("fulltext_outdated")
            if outdated:
                fulltext.delete(outdated.ids)
            extra, missing = repair_fulltext(store, fulltext)
            if temp_files:
                actions.append(f"removed {temp_files} temporary full-text files left by an interrupted run")
            if "vectors_temp_files" in by_kind:  # removed by repair_fulltext, like every index run
                actions.append(f"removed {len(by_kind['vectors_temp_files'].ids)} temporary vector folders "
                               "left by an interrupted run")
            if extra:
                actions.append(f"removed {len(extra)} reports from the full-text index that the store does not hold")
            if missing:
                actions.append(f"added {len(missing)} reports to the full-text index from the store")
            if "stale_reports" in by_kind:
                summary = IndexSummary()
                rederive_stale(store, fulltext, summary)
                actions.append(f"derived {summary.rederived} reports again with this version's parser and normaliser")
                actions += [f"could not derive again (stored as before, left out of search): {f}"
                            for f in summary.rederive_failed]
            actions += _repair_vectors(index_dir, store)
    return actions


def _require_index(index_dir: Path) -> None:
    if not (index_dir / STORE_FILE).exists():
        raise StoreError(f"no index at {index_dir} (run `nianbao index PATH` first)")


def _stale_lock_pid(index_dir: Path) -> str | None:
    """The pid a writer wrote into the lock file; read before taking the lock, it is stale once we hold it."""
    try:
        return (index_dir / LOCK_FILE).read_text(errors="replace").strip() or None
    except OSError:
        return None


def _repair_store(store: Store, by_kind: dict[str, Problem]) -> list[str]:
    actions = []
    if "unpublished" in by_kind:
        actions.append(f"discarded {len(by_kind['unpublished'].ids)} unpublished reports of an interrupted run")
    dangling = by_kind.get("dangling_files")
    orphans = by_kind.get("orphan_reports")
    store.forget(dangling.ids if dangling else (), orphans.ids if orphans else ())
    if dangling:
        actions.append(f"forgot {len(dangling.ids)} file records whose reports are missing; "
                       "the next `nianbao index` reads those files again")
    if orphans:
        actions.append(f"removed {len(orphans.ids)} reports that no file refers to")
    return actions


def _check_locked(index_dir: Path) -> list[Problem]:
    try:
        store = Store(index_dir, create=False)
    except StoreError as exc:
        return [Problem("store", "store_unreadable", f"{exc}; restore {STORE_FILE} from a backup or delete "
                        f"{index_dir} and index again", False)]
    with store:
        problems = _store_problems(store)
        if any(not p.repairable for p in problems):
            return problems
        with store.snapshot():
            visible = set(store.report_ids())
            sections = Counter(store.section_counts())
        problems += _fulltext_problems(index_dir, visible, sections)
        problems += _vector_problems(index_dir, store)
        return problems


def _store_problems(store: Store) -> list[Problem]:
    verdict = store.integrity_check()
    if verdict != ["ok"]:
        return [Problem("store", "store_corrupt", f"the store is damaged ({verdict[0]}); restore {STORE_FILE} "
                        "from a backup or delete the index directory and index again", False)]
    problems = []
    unpublished = store.unpublished_ids()
    if unpublished:
        problems.append(Problem("store", "unpublished", f"{len(unpublished)} reports were written by an interrupted "
                                "`index` run and never published", True, unpublished))
    dangling = store.dangling_file_paths()
    if dangling:
        problems.append(Problem("store", "dangling_files", f"{len(dangling)} file records point at reports the store "
                                "does not hold", True, dangling))
    orphans = store.orphan_report_ids()
    if orphans:
        problems.append(Problem("store", "orphan_reports", f"{len(orphans)} reports have no source file", True, orphans))
    with store.snapshot():
        stale = store.stale_report_ids(versions())
    if stale:
        problems.append(Problem("store", "stale_reports", f"{len(stale)} reports were derived by an older parser or "
                                "normaliser; `nianbao index` derives them again from the stored text", True, stale))
    return problems


def _read_fulltext(index_dir: Path) -> _Fulltext:
    path = index_dir / FULLTEXT_DIR
    if not path.is_dir() or not windex.exists_in(path, WORDS):
        raise FileNotFoundError(f"{path} holds no full-text index")
    fulltext = FulltextIndex(index_dir)
    with fulltext.open(WORDS).searcher() as s:
        sections = Counter(fields["report_id"] for fields in s.reader().all_stored_fields())
    return _Fulltext(fulltext.report_ids(), sections)


def _leftovers(path: Path) -> list[str]:
    """What a killed writer leaves in the full-text folder: temp files and gram segments no
    table of contents names (written before the commit that never came). Whoosh keeps its
    WRITELOCK file between writers, so that is no leftover."""
    if not path.is_dir():
        return []
    try:
        live = {s["name"] for s in GramIndex(path).snapshot().toc["segments"]}
    except Exception:  # an unreadable gram index is reported as such; its segments are not leftovers
        live = None
    names = [p.name for p in path.glob("*.tmp")]
    if live is not None:
        names += [p.name for p in path.glob(f"{SEGMENT_PREFIX}*") if p.suffix != ".tmp" and p.name not in live]
    return sorted(names)


def _fulltext_problems(index_dir: Path, visible: set[str], sections: Counter) -> list[Problem]:
    path = index_dir / FULLTEXT_DIR
    try:
        found = _read_fulltext(index_dir)
    except Exception as exc:  # Whoosh raises many types for missing or damaged files
        return [Problem("fulltext", "fulltext_unreadable", f"the full-text index cannot be read "
                        f"({type(exc).__name__}: {str(exc)[:200]})", True)]
    problems = []
    temp = _leftovers(path)
    if temp:
        problems.append(Problem("fulltext", "temp_files", f"{len(temp)} temporary files left by an interrupted run",
                                True, temp))
    missing = sorted(visible - found.grams)
    if missing:
        problems.append(Problem("fulltext", "fulltext_missing", f"{len(missing)} reports are in the store but not in "
                                "the full-text index (exact search would miss them)", True, missing))
    extra = sorted((found.grams | set(found.sections)) - visible)
    if extra:
        problems.append(Problem("fulltext", "fulltext_extra", f"{len(extra)} reports are in the full-text index but "
                                "not among the store's published reports", True, extra))
    outdated = sorted(i for i in visible & found.grams if found.sections.get(i, 0) != sections.get(i, 0))
    if outdated:
        problems.append(Problem("fulltext", "fulltext_outdated", f"{len(outdated)} reports have a different set of "
                                "sections in the full-text index than in the store", True, outdated))
    return problems


def _vectors_module():
    """The semantic layer's vectors module, or None where it is not installed (vectors are optional)."""
    try:
        from .semantic import vectors
    except ImportError:
        return None
    return vectors if hasattr(vectors, "vectors_status") else None


def _vector_leftovers(vectors, index_dir: Path) -> list[str]:
    """Folders and pointer files of a vectors write that a kill interrupted (never renamed into place)."""
    return [p.name for p in vectors.temp_files(index_dir)]


def _vector_problems(index_dir: Path, store: Store) -> list[Problem]:
    """Vectors agree when they cover exactly the store's published reports; absent vectors
    (indexing with --no-embed) are no problem. Report ids are content hashes, so the same id
    is the same version of a report."""
    vectors = _vectors_module()
    if vectors is None:
        return []
    problems = []
    leftovers = _vector_leftovers(vectors, index_dir)
    if leftovers:
        problems.append(Problem("vectors", "vectors_temp_files", f"{len(leftovers)} temporary vector folders left "
                                "by an interrupted run", True, leftovers))
    status = vectors.vectors_status(index_dir, store)
    if not status["present"]:
        return problems
    if status["error"]:
        return problems + [Problem("vectors", "vectors_unreadable", f"the vectors cannot be read ({status['error']})",
                                   True)]
    if status["missing"]:
        problems.append(Problem("vectors", "vectors_missing", f"{len(status['missing'])} reports have no vectors "
                                "(meaning and hybrid search miss them)", True, status["missing"]))
    if status["extra"]:
        problems.append(Problem("vectors", "vectors_extra", f"{len(status['extra'])} reports have vectors but are "
                                "not among the store's published reports", True, status["extra"]))
    return problems


def _built_with(vectors, index_dir: Path) -> str | None:
    """The model the current vectors were made with, from their meta.json even when the rest of
    the generation is unreadable, so a rebuild takes what it can from the cache; None (the
    configured model) when even that is lost."""
    try:
        return vectors.load_vectors(index_dir).model_name
    except vectors.VectorsError:
        pass
    try:
        root = index_dir / vectors.VECTORS_DIR
        current = (root / vectors.CURRENT).read_text(encoding="utf-8").strip()
        return json.loads((root / current / "meta.json").read_text(encoding="utf-8"))["model_name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _repair_vectors(index_dir: Path, store: Store) -> list[str]:
    """Bring existing vectors in step with the (repaired) store: unchanged reports keep their
    rows, the rest come from the embedding cache or the model they were built with."""
    vectors = _vectors_module()
    if vectors is None:
        return []
    actions = []
    status = vectors.vectors_status(index_dir, store)
    if not status["present"] or not (status["error"] or status["missing"] or status["extra"]):
        return actions
    update = vectors.update_vectors(index_dir, store, model=_built_with(vectors, index_dir))
    actions.append(f"rebuilt the vectors from the store: {update.passages} passages, {update.reused} kept, "
                   f"{update.cached} from the cache, {update.embedded} embedded")
    return actions
