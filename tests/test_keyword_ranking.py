"""Keyword ranking computed a posting block at a time equals Whoosh's own BM25F search.

The index is built from the samples' real sections, added in several commits (several
segments) with some reports deleted again, so segment offsets and deleted documents count.
"""

import pytest
from whoosh import query as wq

from indexer.fulltext.analysis import word_field, words
from indexer.fulltext.grams import gram_codes
from indexer.fulltext.index import WORDS, FulltextIndex, ReportDocs
from indexer.fulltext.ranking import Ranker
from indexer.store import Store

QUERIES = ["政府信息公开 申请", "政府开放日", "行政复议", "政策解读 回应关切", "保密审查 制度", "公开", "年",
           "不予公开 依申请公开 政府信息公开", "灵武防疫", "没有这个词语"]


@pytest.fixture(scope="module")
def words_searcher(indexed, tmp_path_factory):
    store = Store(indexed, create=False)
    reports = []
    with store.snapshot():
        bounds = store.section_bounds()
        for report_id, (_text, norm) in store.texts(store.report_ids()).items():
            sections = [{"section": i, "kind": kind, "words": word_field(norm[a:b])}
                        for i, (a, b, kind) in enumerate(bounds.get(report_id, []))]
            reports.append((report_id, norm, sections))
    store.close()
    index = FulltextIndex(tmp_path_factory.mktemp("ranking"))
    for copy in range(4):  # one commit, one segment each
        index.add(ReportDocs(f"{report_id}-{copy}", gram_codes(norm), sections, {"year": 2020 + copy})
                  for report_id, norm, sections in reports)
    index.delete([f"{reports[0][0]}-1", f"{reports[2][0]}-2", f"{reports[1][0]}-0"])
    searcher = index.open(WORDS).searcher()
    assert len(searcher.reader().leaf_readers()) > 1
    assert searcher.doc_count() < searcher.doc_count_all()  # deleted documents are still in the segments
    yield searcher
    searcher.close()


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
