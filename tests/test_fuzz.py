"""Query fuzzing: whatever a user types, search answers or says in one line what is wrong.

Hypothesis builds queries from random Unicode, slices of the reports' own text (so that
queries also hit), the operators (AND OR NOT - |), every quote and parenthesis the parser
knows, field filters with good and bad values, odd whitespace, and inputs around and far
beyond the length limit. They go through one open `indexer.query.Engine` (what the CLI's
`run_search` and the app use) in exact and keyword mode, and a sample through `nianbao
search` itself. The only exception allowed out is `QueryError`, with a one-line message.

Exact results are checked against the matching contract with an independent oracle: a
report matches a term iff the normalised term is a substring of its normalised text, and
counts are str.count's non-overlapping occurrences. Boolean queries without filters are
evaluated by the oracle too; filtered ones must be a subset of the unfiltered answer.

Semantic and hybrid modes run the same queries over vectors of the stand-in model
(tests/fake_model.py): their query handling, filters and fusion, not the model's meaning.

Derandomized, so CI runs the same examples every time; NIANBAO_FUZZ_SCALE multiplies the
example counts for a longer local run.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.cli import cli
from indexer.core.querylang import _QUOTES, MAX_NESTING, And, Not, Or, ParsedQuery, Term
from indexer.query import QueryError, parse_query
from indexer.normalize import normalize
from indexer.query import Engine
from indexer.store import Store
from tests import fake_model
from tests.conftest import CORPUS

SCALE = float(os.environ.get("NIANBAO_FUZZ_SCALE", "1"))


def _settings(examples: int) -> settings:
    return settings(max_examples=int(examples * SCALE), deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _texts(index_dir: Path) -> dict[str, str]:
    store = Store(index_dir, create=False)
    try:
        with store.snapshot():
            ids = store.report_ids()
            return {i: norm for i, (_, norm) in store.texts(ids).items()}
    finally:
        store.close()


_NORMS = {p.name: normalize(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))}
_SOURCES = sorted(_NORMS)

OPERATORS = ["AND", "OR", "NOT", "-", "|", "and", "or", "not", "--", "-(", "OR OR", "NOT NOT", "- ", "AND)"]
BRACKETS = ["(", ")", "（", "）", '"', "“", "”", "「", "」", "『", "』", "＂", "'", "''", '""', "()", "（）"]
FIELDS = ["year", "section", "province", "city", "county", "agency", "template", "Year", "SECTION", "foo", "http"]
FIELD_VALUES = ["2018", "2020", "2018-2020", "2020-2018", "201", "20189", "abc", "", "problems", "存在的主要问题",
                "问题", "overview", "bogus", "宁夏", "宁夏回族自治区", "灵武市", "商务局", "new", "old", "x:y", '"宁夏"',
                "2018-", "-2018", "０２０", "２０１８"]
_SYNTAX = set("()（）-:") | set(_QUOTES)
SPACES = [" ", " ", " ", "  ", "\t", "\u3000", "\n", "\r\n", "\u00a0", "\u200b", ""]


@st.composite
def corpus_slice(draw: st.DrawFn, max_len: int = 10) -> str:
    """A piece of a sample's normalised text: a query that matches something."""
    text = _NORMS[draw(st.sampled_from(_SOURCES))]
    start = draw(st.integers(0, len(text) - 1))
    return text[start:start + draw(st.integers(1, max_len))]


TOKENS = st.one_of(
    corpus_slice(),
    st.text(max_size=6),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Lo", "Nd", "P", "S", "Zs", "Mn", "Cf"]), max_size=4),
    st.sampled_from(OPERATORS),
    st.sampled_from(BRACKETS),
    st.builds(lambda f, v: f"{f}:{v}", st.sampled_from(FIELDS), st.one_of(st.sampled_from(FIELD_VALUES), st.text(max_size=4))),
    st.builds(lambda q, t: f"{q}{t}{q}", st.sampled_from(['"', "“", "「"]), corpus_slice()),
)
QUERIES = st.one_of(
    st.lists(st.tuples(TOKENS, st.sampled_from(SPACES)), min_size=1, max_size=10).map(
        lambda parts: "".join(t + s for t, s in parts)),
    st.text(max_size=40),
    st.builds(lambda piece, n: (piece * (n // max(len(piece), 1) + 1))[:n], st.one_of(corpus_slice(), TOKENS),
              st.sampled_from([999, 1000, 1001, 1500, 10_000, 100_000])),
)


def _one_line(exc: BaseException) -> None:
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message, repr(message)


def _terms(node: object) -> list[str]:
    if isinstance(node, Term):
        return [node.text]
    if isinstance(node, Not):
        return _terms(node.item)
    return [t for item in node.items for t in _terms(item)]


def _oracle(node: object, norm: str) -> bool:
    """The contract, written independently of the search code."""
    if isinstance(node, Term):
        return node.text in norm
    if isinstance(node, Not):
        return not _oracle(node.item, norm)
    if isinstance(node, And):
        return all(_oracle(i, norm) for i in node.items)
    assert isinstance(node, Or)
    return any(_oracle(i, norm) for i in node.items)


def _nots_hold(node: object, norm: str) -> bool:
    """Keyword mode's filter: the tree with every term outside a NOT taken as present."""
    if isinstance(node, Not):
        return not _oracle(node.item, norm)
    if isinstance(node, (And, Or)):
        return (all if isinstance(node, And) else any)(_nots_hold(i, norm) for i in node.items)
    return True


def _positive(node: object, negated: bool = False) -> list[str]:
    if isinstance(node, Term):
        return [] if negated else [node.text]
    if isinstance(node, Not):
        return _positive(node.item, not negated)
    return [t for item in node.items for t in _positive(item, negated)]


@pytest.fixture(scope="module")
def fuzz_index(indexed) -> tuple[Engine, dict[str, str], dict[str, int | None]]:
    engine = Engine(indexed)
    texts = _texts(indexed)
    store = Store(indexed, create=False)
    years = {r["id"]: r["year"] for r in store.reports()}
    store.close()
    yield engine, texts, years
    engine.close()


def _search(engine: Engine, query: str, mode: str, limit: int | None = 20) -> dict | None:
    """The answer, or None for a query the parser rejects (with a one-line message)."""
    SEEN[mode] += 1
    try:
        result = engine.search(query, mode=mode, limit=limit)
    except QueryError as exc:
        _one_line(exc)
        return None
    json.dumps(result, ensure_ascii=False)  # the --json output must serialise
    assert result["total_reports"] >= len(result["results"])
    return result


BATCH = 10  # queries per example: hypothesis's own cost per example is larger than a search's
SEEN: Counter = Counter()


@given(queries=st.lists(QUERIES, min_size=BATCH, max_size=BATCH))
@_settings(10_000 // BATCH)
def test_any_query_answers_or_says_why_in_one_line(fuzz_index, queries):
    """10,000 queries in exact and keyword mode; exact answers checked against the oracle."""
    for query in queries:
        _check_query(*fuzz_index, query)


def _check_query(engine: Engine, texts: dict[str, str], years: dict[str, int | None], query: str) -> None:
    exact = _search(engine, query, "exact", limit=None)
    keyword = _search(engine, query, "keyword")
    if exact is None:
        return
    parsed = parse_query(query)
    if keyword is not None and parsed.tree is not None and "section" not in parsed.filters:
        assert all(_nots_hold(parsed.tree, texts[r["report_id"]]) for r in keyword["results"]), query
    got = {r["report_id"]: r["count"] for r in exact["results"]}
    assert exact["total_reports"] == len(got)
    if parsed.tree is None:
        return
    if not parsed.filters:
        want = {i for i, norm in texts.items() if _oracle(parsed.tree, norm)}
        assert set(got) == want, query
        positive = list(dict.fromkeys(_positive(parsed.tree)))
        for report_id, count in got.items():
            assert count == sum(texts[report_id].count(t) for t in positive), (query, report_id)
        assert exact["total_occurrences"] == sum(got.values())
    else:
        unfiltered = engine.fulltext.run(ParsedQuery(parsed.tree), mode="exact", limit=None, snippets=False)
        assert set(got) <= {r["report_id"] for r in unfiltered["results"]}, query
        span = parsed.filters.get("year")
        if span:
            first, _, last = span[-1].partition("-")
            low, high = sorted((int(first), int(last or first)))  # a range written backwards is read forwards
            assert all(years[i] is not None and low <= years[i] <= high for i in got), query


# A passage of the corpus with a page break inside, quoted (unquoted, the break splits two terms).
PAGE_BROKEN = corpus_slice(6).map(lambda s: f'"{s[:3]}\n\n{s[3:]}"')
PLAIN = st.one_of(corpus_slice(12), st.text(min_size=1, max_size=8), PAGE_BROKEN)


@given(terms=st.lists(PLAIN, min_size=BATCH, max_size=BATCH))
@_settings(2_000 // BATCH)
def test_a_single_term_matches_exactly_the_reports_containing_it(fuzz_index, terms):
    """The contract itself, 2,000 terms: matched reports == reports whose normalised text holds
    normalize(term), and each count == the number of non-overlapping occurrences."""
    engine, texts, _ = fuzz_index
    for term in terms:
        _check_term(engine, texts, term)


def _check_term(engine: Engine, texts: dict[str, str], term: str) -> None:
    try:
        parsed = parse_query(term)
    except QueryError as exc:
        _one_line(exc)
        return
    if not isinstance(parsed.tree, Term) or parsed.filters:
        return  # the term read as an operator, a filter or several terms: covered above
    needle = parsed.tree.text
    if not any(c.isspace() or c in _SYNTAX for c in term):
        assert needle == normalize(term)  # a bare word is searched as its normalised self
    elif term.startswith('"') and term.count('"') == 2 and term.endswith('"'):
        assert needle == normalize(term[1:-1])  # a quoted string is searched as its normalised inside
    result = engine.search(term, mode="exact", limit=None)
    got = {r["report_id"]: r["count"] for r in result["results"]}
    want = {i: norm.count(needle) for i, norm in texts.items() if needle in norm}
    assert got == want, term
    assert result["total_occurrences"] == sum(want.values())


@given(query=QUERIES, mode=st.sampled_from(["exact", "keyword"]), as_json=st.booleans())
@_settings(200)
def test_nianbao_search_on_the_command_line(indexed, query, mode, as_json):
    """`nianbao search` through click: exit 0 with output, or a usage error, or a QueryError
    (which `main` prints as one line with exit 2; see tests/test_cli.py)."""
    if "\x00" in query:
        return  # a NUL cannot be passed in argv
    args = ["--index-dir", str(indexed), "search", query, "--mode", mode] + (["--json"] if as_json else [])
    result = CliRunner().invoke(cli, args)
    if isinstance(result.exception, QueryError):
        _one_line(result.exception)
        return
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 0 and as_json:
        assert json.loads(result.output)["query"] == query


# --- semantic and hybrid over the stand-in model's vectors -------------------------------------


@pytest.fixture(scope="module")
def semantic_engine(stand_in_engine) -> Engine:
    fake_model.install()  # again: a test between modules may have dropped it
    return stand_in_engine


@given(queries=st.lists(QUERIES, min_size=BATCH, max_size=BATCH))
@_settings(600 // BATCH)
def test_semantic_and_hybrid_queries_answer_or_say_why(semantic_engine, queries):
    """600 queries, each in both modes."""
    for query in queries:
        for mode in ("semantic", "hybrid"):
            try:
                result = semantic_engine.search(query, mode=mode, limit=10)
            except QueryError as exc:
                _one_line(exc)
                continue
            json.dumps(result, ensure_ascii=False)
            assert len(result["results"]) <= 10


def test_the_fuzzing_ran_ten_thousand_queries_per_mode():
    """The count the issue asks for, checked rather than assumed (hypothesis may stop early)."""
    if not SEEN:
        pytest.skip("the fuzz test was not run in this session")
    assert SEEN["exact"] >= 10_000 * SCALE and SEEN["keyword"] >= 10_000 * SCALE, SEEN


@pytest.mark.parametrize("query", ["-(" * 300 + "依申请公开", "(" * 450 + "公开" + ")" * 450, "(" * 50 + "公开" + ")" * 50])
def test_deep_nesting_is_refused_in_one_line_not_a_recursion_error(fuzz_index, query):
    """Found by the fuzzing: ~330 nested parentheses overflowed Python's stack in the parser."""
    engine = fuzz_index[0]
    try:
        result = engine.search(query, mode="exact", limit=None)
    except QueryError as exc:
        _one_line(exc)
        assert "nested" in str(exc) and query.count("(") > MAX_NESTING
    else:
        assert query.count("(") <= MAX_NESTING and result["total_reports"] > 0
