"""Keyword ranking computed a posting block at a time equals Whoosh's own BM25F search.

The index is built from the samples' real sections, added in several commits (several
segments) with some reports deleted again, so segment offsets and deleted documents count.
"""

import math
import random
from dataclasses import replace

import numpy as np
import pytest
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import TEXT
from whoosh.reading import CorruptIndexError
from whoosh.scoring import BM25F, bm25
from whoosh.writing import SegmentWriter

from indexer.core import bm25 as core_bm25
from indexer.fulltext.analysis import CountedWords, word_counts, words
from indexer.fulltext.grams import gram_codes
from indexer.fulltext import index as fulltext_index
from indexer.fulltext.index import FULLTEXT_DIR, WORDS, CountedText, FulltextIndex, ReportDocs, _words_schema
from indexer.fulltext import ranking
from indexer.fulltext.ranking import Ranker
from indexer.store import Store

QUERIES = ["政府信息公开 申请", "政府开放日", "行政复议", "政策解读 回应关切", "保密审查 制度", "公开", "年",
           "不予公开 依申请公开 政府信息公开", "灵武防疫", "没有这个词语"]


def _sample_docs(indexed, suffix: str = "") -> list[ReportDocs]:
    with Store(indexed, create=False) as store, store.snapshot():
        bounds = store.section_bounds()
        texts = store.texts(store.report_ids())
    return [ReportDocs(rid + suffix, gram_codes(norm),
                       [{"section": i, "kind": kind, "start": a, "end": b, "words": word_counts(norm[a:b])}
                        for i, (a, b, kind) in enumerate(bounds.get(rid, []))], {}, norm)
            for rid, (_text, norm) in texts.items()]


@pytest.fixture(scope="module")
def words_searcher(indexed, tmp_path_factory):
    reports = _sample_docs(indexed)
    index = FulltextIndex(tmp_path_factory.mktemp("ranking"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fulltext_index, "SMALL_SEGMENT_DOCS", 0)  # keep the small segments apart
        for copy in range(4):  # one commit, one segment each, of six copies of the samples
            index.add(replace(doc, report_id=f"{doc.report_id}-{copy}-{k}", meta={"year": 2020 + copy})
                      for k in range(6) for doc in reports)
        index.delete([f"{reports[0].report_id}-1-0", f"{reports[2].report_id}-2-5", f"{reports[1].report_id}-0-3"])
    searcher = index.open(WORDS).searcher()
    assert len(searcher.reader().leaf_readers()) > 1
    assert searcher.doc_count() < searcher.doc_count_all()  # deleted documents are still in the segments
    assert _blocks(searcher.reader().leaf_readers()[0][0], "公开") > 1  # the blocks' ids restart at 0
    yield searcher
    searcher.close()


def _blocks(reader, term: str) -> int:
    """How many posting blocks (up to 128 postings each) a term has in one segment."""
    leaf = reader._terms.matcher("words", reader._text_to_bytes("words", term), reader.schema["words"].format)
    blocks = 1
    while not leaf._lastblock:
        leaf._next_block()
        blocks += 1
    return blocks


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("kinds", [None, ["problems"], ["overview", "requests"]])
@pytest.mark.parametrize("limit", [5, 500])
def test_ranker_equals_whoosh_bm25f(words_searcher, query, kinds, limit):
    terms = sorted({w for part in query.split() for w in words(part)})
    whoosh_filter = wq.Or([wq.Term("kind", k) for k in kinds]) if kinds else None
    expected = [(hit.score, hit.docnum) for hit in
                words_searcher.search(wq.Or([wq.Term("words", t) for t in terms]), limit=limit, filter=whoosh_filter)]
    got = Ranker(words_searcher, "words").top(terms, limit, ("kind", kinds) if kinds else None)
    assert [doc for _, doc in got] == [doc for _, doc in expected]
    assert [score for score, _ in got] == pytest.approx([score for score, _ in expected], rel=1e-12)
    if query in ("公开", "年") and not kinds:
        assert len(got) == limit or len(got) > 20  # the query really ranks many documents


def test_the_one_bm25_weight_is_whooshs():
    """Keyword, exact and hybrid ranking weigh a term with core.bm25.weight: Whoosh's BM25F
    defaults and, to the last bit, Whoosh's formula."""
    assert (core_bm25.K1, core_bm25.B) == (BM25F().K1, BM25F().B)
    rng = random.Random(2)
    for _ in range(2000):
        tf, idf, length, avg = rng.randint(0, 40), rng.uniform(0.01, 12), rng.randint(0, 5000), rng.uniform(1, 3000)
        got = core_bm25.weight(np.array([float(tf)]), idf, np.array([float(length)]), avg)[0]
        assert got == bm25(idf, tf, length, avg, BM25F().B, BM25F().K1)


def test_bm25_scores_add_each_terms_weight_with_its_document_frequency():
    """Exact and hybrid mode: a document's score is the sum over the query's terms, each term's
    idf counted from the rows (documents) holding it among all the documents."""
    rng = np.random.default_rng(4)
    tf = rng.integers(0, 4, size=(60, 3)) * (rng.random((60, 3)) < 0.4)
    lengths = rng.integers(50, 5000, size=60).astype(float)
    avg, n_docs = 1800.0, 400
    expected = []
    for row, length in zip(tf.tolist(), lengths.tolist()):
        score = 0.0
        for k, count in enumerate(row):
            df = sum(1 for other in tf[:, k] if other)
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            score += idf * count * 2.2 / (count + 1.2 * (0.25 + 0.75 * length / avg))
        expected.append(score)
    assert core_bm25.scores(tf, lengths, avg, n_docs).tolist() == pytest.approx(expected, rel=1e-12)
    assert core_bm25.scores(np.zeros((5, 0), np.int64), lengths[:5], avg, n_docs).tolist() == [0.0] * 5


def test_damaged_postings_say_so(words_searcher, monkeypatch):
    """A posting list read from damaged bytes is Whoosh's CorruptIndexError naming the term,
    not a pickle or zlib error from deep inside the reading."""
    reader = words_searcher.reader().leaf_readers()[0][0]
    docs, tf = ranking._postings(reader, "words", "公开")
    assert len(docs) > 128 and len(docs) == len(tf)
    postfile = reader._terms._postfile
    intact = postfile.get
    for damage in (lambda data: data[:len(data) // 2], lambda data: b"W3Bl" + bytes(len(data) - 4),
                   lambda data: b"XXXX" + data[4:]):
        monkeypatch.setattr(postfile, "get", lambda offset, length, damage=damage: damage(intact(offset, length)))
        with pytest.raises(CorruptIndexError, match="公开"):
            ranking._postings(reader, "words", "公开")
    monkeypatch.undo()
    assert ranking._postings(reader, "words", "没有这个词语")[0].size == 0


def _postings(index: FulltextIndex) -> tuple[list, list]:
    with index.open(WORDS).searcher() as searcher:
        reader = searcher.reader()
        terms = [(t, list(reader.postings("words", t).items_as("weight"))) for t in reader.lexicon("words")]
        lengths = [reader.doc_field_length(d, "words") for d in range(reader.doc_count_all())]
    return terms, lengths


def test_counted_words_index_like_text(indexed, tmp_path):
    """Terms counted in the workers give the postings, weights and lengths that Whoosh's own TEXT
    field gives the same words as a string; an index made before CountedText still takes them."""
    docs = _sample_docs(indexed)
    counted = FulltextIndex(tmp_path / "counted")
    counted.add(docs)
    old_schema = _words_schema()
    old_schema.remove("words")
    old_schema.add("words", TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False))
    (tmp_path / "old" / FULLTEXT_DIR).mkdir(parents=True)
    windex.create_in(tmp_path / "old" / FULLTEXT_DIR, old_schema, indexname=WORDS)
    old = FulltextIndex(tmp_path / "old")
    assert not isinstance(old.open(WORDS).schema["words"], CountedText)
    assert isinstance(counted.open(WORDS).schema["words"], CountedText)
    old.add(docs)
    terms, lengths = _postings(counted)
    assert len(terms) > 1000 and sum(lengths) > 5_000
    assert (terms, lengths) == _postings(old)


def _segment_docs(index: FulltextIndex) -> list[tuple[int, int]]:
    """(documents, deleted documents) per segment of the words index."""
    return [(seg.doc_count_all(), seg.deleted_count()) for seg in index.open(WORDS)._segments()]


def test_words_merge_small_segments_only(indexed, tmp_path, monkeypatch):
    """Each run's commit folds small segments into its own and compacts mostly deleted ones, but
    never rewrites the large segments a full build writes batch by batch."""
    index = FulltextIndex(tmp_path)
    for copy in range(3):  # an incremental run of five reports each time
        index.add(_sample_docs(indexed, f"-{copy}"))
    docs = sum(len(d.sections) for d in _sample_docs(indexed))
    assert _segment_docs(index) == [(3 * docs, 0)]  # the second commit merged, the third too

    monkeypatch.setattr(fulltext_index, "SMALL_SEGMENT_DOCS", docs)  # now a five-report batch is large
    index.add(_sample_docs(indexed, "-3"))
    index.add(_sample_docs(indexed, "-4"))
    assert _segment_docs(index) == [(3 * docs, 0), (docs, 0), (docs, 0)]

    ids = [d.report_id for d in _sample_docs(indexed, "-3")]
    index.delete(ids[:3])  # more than half of that segment's documents
    remaining = sum(len(d.sections) for d in _sample_docs(indexed, "-3")[3:])
    assert sorted(_segment_docs(index)) == sorted([(3 * docs, 0), (docs, 0), (remaining, 0)])


def _blocks_of_every_term(index: FulltextIndex) -> list:
    """Per term, each posting block's header (count, last id, max weight, min and max length),
    ids and weights, and the term's own statistics."""
    found = []
    with index.open(WORDS).searcher() as searcher:
        reader = searcher.reader()
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            leaf = reader._terms.matcher(fieldname, text, reader.schema[fieldname].format)
            blocks = []
            while leaf.is_active():
                leaf._read_data()
                blocks.append((leaf._blocklength, leaf._maxid, leaf._maxweight, leaf._minlength,
                               leaf._maxlength, leaf._data[:2]))
                leaf._next_block()
            found.append((fieldname, text, info.min_length(), info.max_length(), info.weight(), blocks))
        found.append(list(searcher.all_stored_fields()))
        found.append([reader.doc_field_length(d, "words") for d in range(reader.doc_count_all())])
    return found


class _WhooshOwnWriter(SegmentWriter):
    """Whoosh's own writer and codec: every counted term through its posting pool, one at a time."""

    def __init__(self, ix, field: str, **kwargs) -> None:
        super().__init__(ix, **kwargs)
        self.counted_field = field

    def add_counted(self, counts: CountedWords, **fields) -> None:
        self.add_document(**{self.counted_field: counts}, **fields)


def test_section_writer_writes_what_whoosh_writes(indexed, tmp_path, monkeypatch):
    """Postings of every field handed over a block at a time, with field lengths read in one
    piece, are the blocks, block headers and term statistics Whoosh's own writer makes of the
    same documents, with the same stored fields and lengths, in a fresh commit and in one that
    merges segments; the index records Whoosh's codec."""
    docs = [replace(doc, report_id=f"{doc.report_id}-{k}",
                    meta={"year": str(2018 + k % 3), "province": "宁夏回族自治区", "city": ["银川市", "吴忠市"][k % 2],
                          "agency": f"某局{k}", "template": "new"})
            for k in range(6) for doc in _sample_docs(indexed)]

    def build(name: str) -> tuple[list, list]:
        index = FulltextIndex(tmp_path / name)
        index.add(docs[:20])
        fresh = _blocks_of_every_term(index)
        # Re-adding a report deletes its documents in the first segment; the commit merges that
        # small segment, with its deletion, into its own.
        index.add(docs[20:] + docs[3:4])
        assert [s.doc_count_all() for s in index.open(WORDS)._segments()] == [sum(len(d.sections) for d in docs)]
        return fresh, _blocks_of_every_term(index)

    ours = build("ours")
    monkeypatch.setattr(fulltext_index, "SectionWriter", _WhooshOwnWriter)
    whoosh_own = build("whoosh")
    for written in ours:
        *terms, stored, lengths = written
        assert len(terms) > 1000 and any(len(blocks) > 1 for *_, blocks in terms)
        assert any(length for _, _, low, high, _, _ in terms for length in (low, high))
        assert {field for field, *_ in terms} == {"doc_id", "report_id", "section", "kind", "year", "province",
                                                  "city", "agency", "template", "words"}
        assert len(stored) == len(lengths) > 100 and all(stored) and sum(lengths) > 5000
    assert ours == whoosh_own
    for toc in (tmp_path / "ours" / FULLTEXT_DIR).glob("_words_*.toc"):
        assert b"WritingCodec" not in toc.read_bytes() and b"W3Codec" in toc.read_bytes()
