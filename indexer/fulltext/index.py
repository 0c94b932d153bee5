"""The Whoosh index on disk: one document per report (grams) and one per section (words).

Whoosh commits are atomic (a new table of contents), and the store decides which report
ids are visible, so readers never see a half-written state. Two indexes share the folder:
`grams` for candidates, `words` for BM25.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as windex
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.query import Term, Or

FULLTEXT_DIR = "fulltext"
GRAMS = "grams"
WORDS = "words"


def _grams_schema() -> Schema:
    return Schema(
        report_id=ID(stored=True, unique=True),
        grams=KEYWORD(lowercase=False, commas=False, scorable=False),
    )


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
    grams: str
    sections: list[dict]  # {section, kind, words}
    meta: dict  # year, province, city, county, agency, template


class FulltextIndex:
    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / FULLTEXT_DIR
        self.path.mkdir(parents=True, exist_ok=True)
        if not windex.exists_in(self.path, GRAMS):
            windex.create_in(self.path, _grams_schema(), indexname=GRAMS)
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

    def report_ids(self) -> set[str]:
        """Ids of the live documents (the lexicon would still list deleted ones until a merge)."""
        with self.open(GRAMS).searcher() as s:
            return {fields["report_id"] for fields in s.reader().all_stored_fields()}

    def add(self, docs: Iterable[ReportDocs]) -> int:
        """Add reports (replacing any with the same id); one atomic commit per index."""
        docs = list(docs)
        if not docs:
            return 0
        grams_ix, words_ix = self.open(GRAMS), self.open(WORDS)
        gw = grams_ix.writer(limitmb=256)
        ww = words_ix.writer(limitmb=256)
        try:
            for doc in docs:
                gw.update_document(report_id=doc.report_id, grams=doc.grams)
                ww.delete_by_term("report_id", doc.report_id)
                meta = {k: str(v) for k, v in doc.meta.items() if v is not None}
                for sec in doc.sections:
                    ww.add_document(doc_id=f"{doc.report_id}:{sec['section']}", report_id=doc.report_id,
                                    section=sec["section"], kind=sec["kind"], words=sec["words"], **meta)
        except BaseException:
            gw.cancel()
            ww.cancel()
            raise
        gw.commit()
        ww.commit()
        return len(docs)

    def delete(self, report_ids: Iterable[str]) -> None:
        ids = list(report_ids)
        if not ids:
            return
        for name in (GRAMS, WORDS):
            writer = self.open(name).writer()
            writer.delete_by_query(Or([Term("report_id", i) for i in ids]))
            writer.commit()

    def optimize(self) -> None:
        for name in (GRAMS, WORDS):
            self.open(name).optimize()

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
