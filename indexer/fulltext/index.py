"""The full-text indexes on disk: grams per report (candidates) and Whoosh words per section (BM25).

Both commit atomically (a new table of contents), and the store decides which report ids
are visible, so readers never see a half-written state. The words index commits before
the gram index, whose ids are what `repair` trusts: a run killed in between leaves a
report the gram index lacks, which repair adds again (replacing its words documents).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index as windex
from whoosh.index import TOC
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.query import Term, Or
from whoosh.reading import SegmentReader
from whoosh.system import pack_uint

from .analysis import CountedWords
from .grams import GramIndex
from .writer import SectionWriter

FULLTEXT_DIR = "fulltext"
WORDS = "words"
_LEGACY_GRAMS = ("_grams_*.toc", "grams_*.seg", "grams_WRITELOCK")  # the former Whoosh gram index
SMALL_SEGMENT_DOCS = 1000  # section documents (~120 reports): what an incremental run typically adds


class CountedText(TEXT):
    """A TEXT field that takes a section's terms already counted (analysis.CountedWords).

    The counting that Whoosh's analyzer and Frequency format do word by word then happens in
    the parsing workers instead of the single writer, which is a build's bottleneck. The
    postings, weights and field lengths are those TEXT gives the same words as a
    space-separated string (tests/test_keyword_ranking.py). Whoosh pickles the schema into
    the index: this class must stay importable under this name.
    """

    def index(self, value: CountedWords | str, **kwargs) -> Iterator[tuple[bytes, int, float, bytes]]:
        if isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for term, count in value.items():
            yield term.encode("utf-8"), count, count * boost, pack_uint(count)


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
        words=CountedText(analyzer=SpaceSeparatedTokenizer(), phrase=False),
    )


def merge_small(writer, segments: list) -> list:
    """Whoosh merge policy: fold small segments, and those mostly deleted, into the new one.

    Whoosh's tiered MERGE_SMALL re-pools every posting of the merged segments one Python call
    at a time: a quarter of a 20,000-report build went to it. A full build's batches are
    written once and left as they are; the few reports an incremental run adds, and
    segments emptied by updates, are what merging is for.
    """
    merge = [s for s in segments
             if s.doc_count() < SMALL_SEGMENT_DOCS or s.deleted_count() * 2 > s.doc_count_all()]
    if len(merge) < 2 and not any(s.deleted_count() for s in merge):
        return segments
    for segment in merge:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in merge]


@dataclass
class ReportDocs:
    """What one report contributes to the index, tokenised in a worker process."""

    report_id: str
    grams: np.ndarray  # grams.gram_codes of the normalised text
    sections: list[dict]  # {section, kind, start, end (in the normalised text), words: analysis.word_counts of its text}
    meta: dict  # year, province, city, county, agency, template
    text: str  # the normalised text, for the gram index's positions


class FulltextIndex:
    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / FULLTEXT_DIR
        self.path.mkdir(parents=True, exist_ok=True)
        self.grams = GramIndex(self.path)
        # Whoosh's exists_in opens the newest table of contents, which a commit in another process
        # may delete between listing and reading it (FileNotFoundError); a listing is enough.
        if not any(self.path.glob(TOC._filename(WORDS, "*"))):
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
        """Add reports (replacing any with the same id); one atomic commit per index.

        The gram index is written first and `delete` empties the words index first, so a kill
        between the two commits leaves a report in the gram index alone, where `report_ids` (what
        `indexing.repair` reconciles) sees it; the other way round it stayed in the words index
        for good (`doctor`'s fulltext_extra after a finished run)."""
        docs = list(docs)
        if not docs:
            return 0
        self.grams.add(((doc.report_id, doc.grams, doc.text) for doc in docs),
                       {doc.report_id: [(s["start"], s["end"], s["kind"]) for s in doc.sections] for doc in docs})
        ww = SectionWriter(self.open(WORDS), WORDS, limitmb=256)
        counted = isinstance(ww.schema[WORDS], CountedText)  # False in an index made before it
        try:
            # One pass over the segments' report ids (the writer's own searcher, which deletions use
            # too): a deletion looks its id up in every segment, ~0.9 ms a report at 20,000
            # reports, and in a build most reports are new.
            segments = ww.searcher().reader().leaf_readers()
            indexed = {term.decode() for reader, _ in segments for term in reader.lexicon("report_id")}
            for doc in docs:
                if doc.report_id in indexed:
                    ww.delete_by_term("report_id", doc.report_id)
                meta = {k: str(v) for k, v in doc.meta.items() if v is not None}
                for sec in doc.sections:
                    fields = dict(doc_id=f"{doc.report_id}:{sec['section']}", report_id=doc.report_id,
                                  section=sec["section"], kind=sec["kind"], **meta)
                    if counted:
                        ww.add_counted(sec["words"], **fields)
                    else:
                        ww.add_document(words=" ".join(" ".join([t] * n) for t, n in sec["words"].items()), **fields)
        except BaseException:
            ww.cancel()
            raise
        ww.commit(mergetype=merge_small)
        return len(docs)

    def delete(self, report_ids: Iterable[str]) -> None:
        ids = list(report_ids)
        if not ids:
            return
        writer = self.open(WORDS).writer()
        writer.delete_by_query(Or([Term("report_id", i) for i in ids]))
        writer.commit(mergetype=merge_small)
        self.grams.delete(ids)

    def optimize(self, texts: Mapping[str, str], bounds: Mapping[str, list[tuple[int, int, str]]]) -> None:
        """Merge every segment into one; `texts`: the normalised text of each live report, `bounds`
        its sections' (Store.section_bounds)."""
        self.open(WORDS).optimize()
        self.grams.optimize(texts, bounds)

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
