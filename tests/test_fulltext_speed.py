"""The fast paths of full-text search give exactly what the reference code gives.

The gram index (numpy) and jieba-next replace slower code for speed only; these tests pin
them to the reference behaviour (the normaliser's map is held to its oracle in test_normalize.py).
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from indexer.fulltext.grams import _ARRAYS, SEGMENT_SUFFIX, GramIndex, TextView, countable, gram_codes, term_codes
from indexer.normalize import normalize
from tests.conftest import CORPUS


def _check(index: GramIndex, texts: dict[str, str], live: set[str], rng: random.Random, alphabet: str) -> None:
    assert index.report_ids() == live
    assert index.doc_count() == len(live)
    for _ in range(200):
        term = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
        truth = {k for k in live if term in texts[k]}
        found = index.holding(term_codes(term))
        assert truth <= found, term
        if len(term) <= 2:
            assert found == truth, term
        for code, freq in zip(term_codes(term), index.frequencies(term_codes(term))):
            assert freq >= sum(code in set(gram_codes(texts[k]).tolist()) for k in live)


def test_gram_index_candidates_hold_every_match(tmp_path, monkeypatch):
    monkeypatch.setattr("indexer.fulltext.grams.SEGMENT_DOCS", 40)
    rng = random.Random(1)
    alphabet = "政府信息公开依申请不予开放日ab 12"
    texts = {f"r{i:03d}": "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for i in range(150)}
    items = list(texts.items())
    index = GramIndex(tmp_path)
    index.add((k, gram_codes(v), v) for k, v in items[:90])
    index.add((k, gram_codes(v), v) for k, v in items[70:])  # overlap: kept once
    index.delete(["r003", "r120", "missing"])
    live = set(texts) - {"r003", "r120"}
    _check(index, texts, live, rng, alphabet)
    _check(GramIndex(tmp_path), texts, live, rng, alphabet)  # what a second process reads
    index.add([("r003", gram_codes(texts["r003"]), texts["r003"])])
    _check(GramIndex(tmp_path), texts, live | {"r003"}, rng, alphabet)
    index.optimize(texts)
    _check(GramIndex(tmp_path), texts, live | {"r003"}, rng, alphabet)


def _counts_check(index: GramIndex, texts: dict[str, str], seen: set[str], terms: list[str]) -> int:
    """`count` equals str.count on every report the view sees; returns how many terms were checked."""
    rows = {k: row for row, k in enumerate(sorted(seen))}
    view = TextView(rows, lambda ids: [texts[i] for i in ids])
    checked = 0
    for term in terms:
        if countable(term):
            assert index.count(term, view).tolist() == [texts[k].count(term) for k in rows], term
            checked += 1
    return checked


@pytest.mark.parametrize("fraction,piece", [(0.0, 5), (0.0, 1 << 15), (0.3, 3), (0.5, 1 << 15), (2.0, 1 << 15)])
def test_gram_index_counts_from_positions_like_str_count(tmp_path, monkeypatch, fraction, piece):
    """Positions kept for every bigram, for the default share, for a few, and for none; in
    pieces of a few gaps (a bigram's positions across several) and of the default size."""
    monkeypatch.setattr("indexer.fulltext.grams.SEGMENT_DOCS", 40)
    monkeypatch.setattr("indexer.fulltext.grams.POSITION_FRACTION", fraction)
    monkeypatch.setattr("indexer.fulltext.grams.GAP_PIECE", piece)
    rng = random.Random(7)
    alphabet = "政府开放日信息公ab"
    texts = {f"r{i:03d}": "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for i in range(120)}
    texts["wide"] = "政府" + "𝐀政" * 3 + "府开放日"  # beyond U+FFFF
    texts["far"] = "开放日" + "x" * 70_000 + "开放日政府" + "y" * 66_000 + "开放日"  # gaps stored in full
    index = GramIndex(tmp_path)
    index.add((k, gram_codes(v), v) for k, v in texts.items())
    index.delete(["r005", "r077"])
    terms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))) for _ in range(300)]
    terms += ["开放日", "日政府", "𝐀政", "政𝐀", "府开放日", "放日x", "开放日政府"]
    live = set(texts) - {"r005", "r077"}
    assert _counts_check(index, texts, live, terms) > 200
    assert _counts_check(GramIndex(tmp_path), texts, live - {"r010", "far"}, terms) > 200  # a view that lacks two
    assert index.count("开放日", TextView({"far": 0}, lambda ids: [texts[i] for i in ids])).tolist() == [3]
    deleted = TextView({"r005": 0}, lambda ids: [texts[i] for i in ids])
    assert texts["r005"].count("信开") and index.count("信开", deleted).tolist() == [0]
    with pytest.raises(ValueError):
        index.count("公公", TextView({}, list))


def test_gram_index_counts_with_one_plan_for_segments_that_differ(tmp_path, monkeypatch):
    """The bigrams a count checks are chosen once, from their positions in all segments: in a
    segment where another bigram is the rarest, the count is still str.count's."""
    monkeypatch.setattr("indexer.fulltext.grams.SEGMENT_DOCS", 10)
    monkeypatch.setattr("indexer.fulltext.grams.POSITION_FRACTION", 0.0)
    rng = random.Random(3)
    texts = {}
    for i in range(30):
        common, rare = ("政府", "公开") if i < 10 else ("公开", "政府")  # the first segment the other way round
        texts[f"r{i:02d}"] = "".join(rng.choice([common * 3, rare, "信息", "息公", "x"]) for _ in range(40))
    index = GramIndex(tmp_path)
    index.add((k, gram_codes(v), v) for k, v in texts.items())
    assert len(index.snapshot().segments) == 3
    terms = ["政府信息公开", "政府信息", "信息公开", "府信息公", "公开x政府", "开政府信息公"]
    assert sum(texts[k].count("政府信息公开") for k in list(texts)[:10]) > 0
    assert _counts_check(index, texts, set(texts), terms) == len(terms)


def test_gram_index_counts_no_phrase_across_two_reports(tmp_path, monkeypatch):
    """A phrase checked from bigrams side by side (政府 and 信息 of 政府信息, the frequent 府信
    left out) is not counted where one report ends in 政府 and the next begins with 信息."""
    monkeypatch.setattr("indexer.fulltext.grams.POSITION_FRACTION", 0.0)
    texts = {"a": "府信" * 50 + "政府", "b": "信息公开" + "府信" * 50, "c": "政府信息", "d": "", "e": "政府", "f": "信息"}
    index = GramIndex(tmp_path)
    index.add((k, gram_codes(v), v) for k, v in texts.items())
    view = TextView({k: row for row, k in enumerate(texts)}, lambda ids: [texts[i] for i in ids])
    assert index.count("政府信息", view).tolist() == [0, 0, 1, 0, 0, 0]
    assert index.count("府信息", view).tolist() == [0, 0, 1, 0, 0, 0]


def test_gram_index_counts_no_phrase_across_two_reports_in_later_segments(tmp_path, monkeypatch):
    """The same in the segments after the first, where occurrences are tallied for all segments at
    once: the starts left are the occurrences, in each segment's own text."""
    monkeypatch.setattr("indexer.fulltext.grams.POSITION_FRACTION", 0.0)
    monkeypatch.setattr("indexer.fulltext.grams.SEGMENT_DOCS", 3)
    texts = {"a": "政府信息" * 3, "b": "府信" * 20, "c": "x",  # first segment: no report ends in 政府
             "d": "府信" * 30 + "政府", "e": "信息公开", "f": "政府信息公开",  # d's 政府 and e's 信息 apart
             "g": "府信政府", "h": "信息" + "府信" * 9 + "政府信息", "i": ""}
    index = GramIndex(tmp_path)
    index.add((k, gram_codes(v), v) for k, v in texts.items())
    assert len(index.snapshot().segments) == 3
    view = TextView({k: row for row, k in enumerate(texts)}, lambda ids: [texts[i] for i in ids])
    starts: dict = {}
    assert index.count("政府信息", view, starts).tolist() == [texts[k].count("政府信息") for k in texts] == \
        [3, 0, 0, 0, 0, 1, 0, 1, 0]
    wanted = []
    for segment in ("abc", "def", "ghi"):  # each report's occurrences, where its text begins in the segment's
        at = [sum(len(texts[k]) for k in segment[:n]) for n in range(3)]
        wanted.append([a + i for k, a in zip(segment, at) for i in range(len(texts[k]))
                       if texts[k].startswith("政府信息", i)])
    assert wanted == [[0, 4, 8], [66], [24]]
    assert [s.tolist() for s in starts.values()] == wanted
    seen = TextView({"h": 0, "d": 1}, lambda ids: [texts[i] for i in ids])  # a view of two reports
    assert index.count("政府信息", seen).tolist() == [1, 0]


@pytest.mark.parametrize("fraction", [0.0, 0.3, 2.0])
def test_gram_index_counts_inside_sections_like_str_count(tmp_path, monkeypatch, fraction):
    """Counts limited to sections of some kinds, from the cells a segment keeps, equal
    `str.count` over those sections' spans; a gap between sections is no "other" section."""
    monkeypatch.setattr("indexer.fulltext.grams.SEGMENT_DOCS", 30)
    monkeypatch.setattr("indexer.fulltext.grams.POSITION_FRACTION", fraction)
    rng = random.Random(11)
    alphabet = "政府开放日信息公ab"
    texts, bounds = {}, {}
    for i in range(80):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(0, 6))))
        spans = list(zip(cuts[::2], cuts[1::2]))  # sections with gaps between them
        texts[f"r{i:02d}"] = text
        bounds[f"r{i:02d}"] = [(a, b, rng.choice(["overview", "problems", "other"])) for a, b in spans]
    index = GramIndex(tmp_path)
    index.add(((k, gram_codes(v), v) for k, v in texts.items()), bounds)
    rows = {k: row for row, k in enumerate(sorted(texts))}
    view = TextView(rows, lambda ids: [texts[i] for i in ids])
    terms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 4))) for _ in range(150)]
    checked = 0
    for kinds in (["problems"], ["other"], ["overview", "problems"]):
        limited = view.limited(kinds, lambda ids, found: [[(a, b) for a, b, k in bounds[i] if k in kinds] for i in ids])
        truth = {k: [(a, b) for a, b, kind in bounds[k] if kind in kinds] for k in rows}
        assert index.having(kinds, view).tolist() == [bool(truth[k]) for k in rows]
        for term in filter(countable, terms):
            assert index.count(term, limited).tolist() == \
                [sum(texts[k].count(term, a, b) for a, b in truth[k]) for k in rows], (term, kinds)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize("positions", [False, True])
def test_gram_segments_written_as_npz_still_count(tmp_path, positions):
    """Segment files from earlier versions, one numpy .npz each: from before positions were
    kept (its first seven arrays, uncompressed), and with positions, the gaps in one array."""
    rng = random.Random(5)
    texts = {f"r{i:02d}": "".join(rng.choice("政府开放日信息公") for _ in range(60)) for i in range(30)}
    index = GramIndex(tmp_path)
    index.add((k, gram_codes(v), v) for k, v in texts.items())
    segment = index.snapshot().segments[0]
    assert len(segment.pterms) and len(segment.pieces) == 2  # this format keeps positions, here in one piece
    arrays = {k: getattr(segment, k) for k in _ARRAYS}
    if positions:
        arrays.update({k: getattr(segment, k) for k in ("lengths", "pterms", "pstarts", "big_at", "big_gap")},
                      gaps=segment.arrays["gaps0"])
    np.savez(tmp_path / "grams-old.npz", **arrays)
    toc = json.loads((tmp_path / "grams.json").read_text())
    toc["segments"] = [{"name": "grams-old.npz", "docs": 30}]
    (tmp_path / "grams.json").write_text(json.dumps(toc))
    (tmp_path / segment.name).unlink()
    old = GramIndex(tmp_path).snapshot().segments[0]
    assert old.name == "grams-old.npz" and bool(len(old.pterms)) == positions and old.holding(term_codes("开放")).size
    assert _counts_check(GramIndex(tmp_path), texts, set(texts), ["开放日", "政府", "信息公开", "日政"]) == 4


def test_gram_segment_damage_is_found_when_it_is_opened(tmp_path):
    """A truncated segment fails as the index opens (doctor finds it), not in a later query."""
    index = GramIndex(tmp_path)
    index.add([("a", gram_codes("政府开放日" * 50), "政府开放日" * 50)])
    (segment,) = tmp_path.glob(f"grams-*{SEGMENT_SUFFIX}")
    data = segment.read_bytes()
    for damaged in (data[:-1], data[:10], b"PK" + data[2:]):
        segment.write_bytes(damaged)
        with pytest.raises(ValueError, match=segment.name):
            GramIndex(tmp_path).snapshot()
    segment.write_bytes(data)
    assert GramIndex(tmp_path).holding(term_codes("开放")) == {"a"}


def test_gram_index_clean_removes_what_a_killed_writer_left(tmp_path):
    index = GramIndex(tmp_path)
    index.add([("a", gram_codes("政府开放日"), "政府开放日")])
    (tmp_path / "grams-orphan.npz").write_bytes(b"x")
    (tmp_path / "grams-half.npz.tmp").write_bytes(b"x")
    (tmp_path / "grams.json.0123.tmp").write_text("{")
    index.clean()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "grams.json") == \
        [s["name"] for s in index.snapshot().toc["segments"]]
    assert GramIndex(tmp_path).holding(term_codes("开放")) == {"a"}


def test_gram_codes_cover_single_characters_and_spaces():
    codes = set(gram_codes("a b政").tolist())
    assert {ord("a"), ord(" "), ord("政")} <= codes
    assert set(term_codes(" b").tolist()) <= codes
    assert term_codes("政").tolist() == [ord("政")]
    assert len(term_codes("x" * 100)) == 1  # only the first PREFIX_CHARS, unique
    assert isinstance(gram_codes(""), np.ndarray) and gram_codes("").size == 0


def test_jieba_next_segments_like_jieba(tmp_path):
    jieba_next = pytest.importorskip("jieba_next", reason="jieba-next has wheels for Linux x86-64 only")
    import logging
    import warnings
    from importlib import resources

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba_next.set_log_level(logging.WARNING)
    with resources.as_file(resources.files("indexer") / "data" / "userdict.txt") as userdict:
        reference, fast = jieba.Tokenizer(), jieba_next.Tokenizer(cache_dir=tmp_path)
        reference.tmp_dir = str(tmp_path)  # jieba's default is a fixed name in /tmp
        for tk in (reference, fast):
            tk.load_userdict(str(userdict))
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for piece in (normalize(text), text):
            assert fast.lcut(piece, HMM=True) == reference.lcut(piece, HMM=True)


def test_tokenizer_read_from_its_cache_segments_like_a_fresh_one(tmp_path, monkeypatch):
    """nianbao reads jieba-next's dictionary cache itself (`analysis._read_cache`): a second
    process gets the same words from the cache, and a damaged cache is rebuilt, not trusted."""
    pytest.importorskip("jieba_next", reason="jieba-next has wheels for Linux x86-64 only")
    from indexer.fulltext import analysis

    monkeypatch.setenv("NIANBAO_CACHE", str(tmp_path))
    texts = [normalize(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))]

    def fresh_process() -> None:  # a new tokenizer, and none of the runs an earlier one segmented
        analysis.tokenizer.cache_clear()
        analysis._run_words.cache_clear()

    fresh_process()
    built = [analysis.words(t) for t in texts]  # no cache yet: jieba-next builds and writes it
    cache = tmp_path / "jieba" / "jieba_next.cache"
    assert cache.stat().st_size > 1_000_000
    for damage in (None, b"not marshal"):
        if damage:
            cache.write_bytes(damage)
        fresh_process()
        assert [analysis.words(t) for t in texts] == built
    assert cache.stat().st_size > 1_000_000  # rewritten
    fresh_process()
