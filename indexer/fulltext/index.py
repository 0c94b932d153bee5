"""The full-text indexes on disk: grams per report (candidates) and Whoosh words per section (BM25).

Both commit atomically (a new table of contents), and the store decides which report ids
are visible, so readers never see a half-written state. The words index commits before
the gram index, whose ids are what `repair` trusts: a run killed in between leaves a
report the gram index lacks, which repair adds again (replacing its words documents).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index as windex
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.query import Term, Or

from .grams import GramIndex

FULLTEXT_DIR = "fulltext"
WORDS = "words"
_LEGACY_GRAMS = ("_grams_*.toc", "grams_*.seg", "grams_WRITELOCK")  # the former Whoosh gram index


def _words_schema() -> Schema:
    return Schema(
        doc_id=ID(stored=True, unique=True),
        report_id=ID(stored=True),
        section=NUMERIC(stored=True),
        kind=ID(stored=True),
        year=ID,
        province=ID,
        city=ID,
        county=ID,
        agency=ID,
        template=ID,
        words=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
    )


@dataclass
class ReportDocs:
    """What one report contributes to the index, tokenised in a worker process."""

    report_id: str
    grams: np.ndarray  # grams.gram_codes of the normalised text
    sections: list[dict]  # {section, kind, words}
    meta: dict  # year, province, city, county, agency, template


class FulltextIndex:
    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / FULLTEXT_DIR
        self.path.mkdir(parents=True, exist_ok=True)
        self.grams = GramIndex(self.path)
        if not windex.exists_in(self.path, WORDS):
            windex.create_in(self.path, _words_schema(), indexname=WORDS)

    def open(self, name: str):
        return windex.open_dir(self.path, indexname=name)

    def clean_temp_files(self) -> None:
        """Remove what a killed writer left; only safe while holding the nianbao write lock."""
        for tmp in self.path.glob("*.tmp"):
            if tmp.is_dir():  # Whoosh builds segments in a `words.tmp` folder
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        for lock in self.path.glob("*_WRITELOCK"):
            lock.unlink(missing_ok=True)
        for pattern in _LEGACY_GRAMS:
            for legacy in self.path.glob(pattern):
                legacy.unlink(missing_ok=True)
        self.grams.clean()

    def report_ids(self) -> set[str]:
        """Ids of the live reports in the gram index (deleted ones excluded)."""
        return self.grams.report_ids()

    def add(self, docs: Iterable[ReportDocs]) -> int:
        """Add reports (replacing any with the same id); one atomic commit per index."""
        docs = list(docs)
        if not docs:
            return 0
        ww = self.open(WORDS).writer(limitmb=256)
        try:
            for doc in docs:
                ww.delete_by_term("report_id", doc.report_id)
                meta = {k: str(v) for k, v in doc.meta.items() if v is not None}
                for sec in doc.sections:
                    ww.add_document(doc_id=f"{doc.report_id}:{sec['section']}", report_id=doc.report_id,
                                    section=sec["section"], kind=sec["kind"], words=sec["words"], **meta)
        except BaseException:
            ww.cancel()
            raise
        ww.commit()
        self.grams.add((doc.report_id, doc.grams) for doc in docs)
        return len(docs)

    def delete(self, report_ids: Iterable[str]) -> None:
        ids = list(report_ids)
        if not ids:
            return
        writer = self.open(WORDS).writer()
        writer.delete_by_query(Or([Term("report_id", i) for i in ids]))
        writer.commit()
        self.grams.delete(ids)

    def optimize(self) -> None:
        self.open(WORDS).optimize()
        self.grams.optimize()

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
