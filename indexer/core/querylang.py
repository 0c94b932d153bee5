"""The query language: terms (ANDed), OR, NOT / -term, parentheses, "quoted strings", field:value.

    政府开放日 依申请公开          both, anywhere in the report
    "政府 开放日" OR 开放日活动     quoted strings are one term (spaces inside are normalised away)
    坚持“以公开为常态”原则          Chinese quotes inside a term are text, so a pasted sentence is one term
    不予公开 -行政复议 year:2018-2020 section:problems province:宁夏

Errors are `QueryError` with a one-line explanation naming what is wrong.

A query is parsed once (`indexer.query.parse_query`, which supplies the text rule: core imports
nothing else of nianbao) and the `ParsedQuery` is handed to the engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .kinds import NEW, OLD, SECTION_KINDS, wants_unknown

MODES = ("exact", "keyword", "semantic", "hybrid")
SORTS = ("relevance", "year", "count")
MAX_QUERY_CHARS = 1000
MAX_NESTING = 50  # parentheses; the parser and the tree walks recurse once per level
QUERY_FIELDS = ("year", "section", "province", "city", "county", "agency", "template")
"""The fields a query may filter on (`year:2020`): the metadata filters and `section`."""
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "＂": "＂"}
_QUERY_QUOTES = ('"', "＂")
"""Always the query's quotes; the Chinese ones only where they wrap a whole term."""


class QueryError(ValueError):
    """A query that cannot be run; the message says why in one line."""


@dataclass(frozen=True)
class Term:
    text: str  # normalised


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass
class ParsedQuery:
    """The boolean tree (None when the query is only filters), the field filters, and the query
    as typed (what semantic mode embeds and results echo)."""

    tree: object | None
    filters: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""

    def positive_terms(self) -> list[str]:
        """Terms whose occurrences are counted and highlighted (not under NOT)."""
        return list(dict.fromkeys(text for text, nots in self._terms() if nots % 2 == 0))

    def negated_terms(self) -> list[str]:
        """Every term inside a NOT: what modes that rank by words or meaning check exactly, to
        exclude reports as exact mode does."""
        return list(dict.fromkeys(text for text, nots in self._terms() if nots))

    def _terms(self) -> list[tuple[str, int]]:
        """Each term in query order, with how many NOTs enclose it."""
        out: list[tuple[str, int]] = []

        def walk(node: object, nots: int) -> None:
            if isinstance(node, Term):
                out.append((node.text, nots))
            elif isinstance(node, (And, Or)):
                for item in node.items:
                    walk(item, nots)
            elif isinstance(node, Not):
                walk(node.item, nots + 1)

        if self.tree is not None:
            walk(self.tree, 0)
        return out


def _word_end(query: str, i: int) -> int:
    """Where a plain word starting at `i` ends: at whitespace, a parenthesis or an ASCII quote.

    Chinese quotation marks inside a word are text, as in a pasted sentence
    (坚持“以公开为常态、不公开为例外”原则): the span up to the closing mark is taken whole.
    """
    n = len(query)
    while i < n and not query[i].isspace() and query[i] not in "()（）" and query[i] not in _QUERY_QUOTES:
        if query[i] in _QUOTES:
            close = query.find(_QUOTES[query[i]], i + 1)
            if close > 0:
                i = close
        i += 1
    return i


def _tokens(query: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: 'term', 'quoted', 'field', '(', ')', 'OR', 'AND', 'NOT', '-'."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()（）":
            tokens.append(("(" if c in "(（" else ")", c))
            i += 1
        elif c in _QUOTES:
            close = query.find(_QUOTES[c], i + 1)
            if close < 0:
                raise QueryError(f"unbalanced quote: {c} at position {i + 1} is never closed")
            end = close + 1 if c in _QUERY_QUOTES else _word_end(query, close + 1)
            if end == close + 1:
                tokens.append(("quoted", query[i + 1:close]))
            else:  # “放管服”改革: Chinese quotes glued to text are part of the term
                tokens.append(("term", query[i:end]))
            i = end
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and (i == 0 or query[i - 1].isspace() or query[i - 1] in "(（"):
            tokens.append(("-", c))
            i += 1
        else:
            j = _word_end(query, i)
            word = query[i:j]
            i = j
            if word.strip("-") == "":
                raise QueryError(f"{word} needs a term after it")
            if word in ("OR", "AND", "NOT", "|"):
                tokens.append(("OR" if word == "|" else word, word))
            elif ":" in word and word.split(":", 1)[0].lower() in QUERY_FIELDS:
                name, value = word.split(":", 1)
                if not value and i < n and query[i] in _QUOTES:
                    close = query.find(_QUOTES[query[i]], i + 1)
                    if close < 0:
                        raise QueryError(f"unbalanced quote: {query[i]} at position {i + 1} is never closed")
                    value, i = query[i + 1:close], close + 1
                tokens.append(("field", f"{name.lower()}:{value}"))
            else:
                tokens.append(("term", word))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], normalize: Callable[[str], str]) -> None:
        self.tokens = tokens
        self.normalize = normalize
        self.pos = 0
        self.depth = 0
        self.filters: dict[str, list[str]] = {}

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> object | None:
        tree = self.or_expr()
        if self.peek() == ")":
            raise QueryError("unbalanced parentheses: ')' without a matching '('")
        if self.peek() is not None:
            raise QueryError(f"unexpected '{self.tokens[self.pos][1]}'")
        return tree

    def or_expr(self) -> object | None:
        items = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("OR needs a term on both sides")
            items.append(self.and_expr())
        if len(items) > 1 and any(i is None for i in items):
            raise QueryError("OR needs a search term on both sides, not only a filter")
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> object | None:
        if self.peek() in ("OR", "AND"):
            raise QueryError(f"{self.tokens[self.pos][1]} needs a term on both sides")
        items = []
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                if self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND needs a term on both sides")
                continue
            item = self.unary()
            if item is not None:
                items.append(item)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> object | None:
        kind, value = self.take()
        if kind in ("NOT", "-"):
            if self.peek() in (None, ")", "OR", "AND", "NOT", "-"):
                raise QueryError(f"{value} needs a term after it")
            item = self.unary()
            if item is None:
                raise QueryError(f"{value} cannot negate a filter")
            return Not(item)
        if kind == "(":
            if self.peek() == ")":
                raise QueryError("empty parentheses")
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise QueryError(f"parentheses nested more than {MAX_NESTING} deep")
            inner = self.or_expr()
            if self.peek() != ")":
                raise QueryError("unbalanced parentheses: '(' is never closed")
            self.take()
            self.depth -= 1
            return inner
        if kind == ")":
            raise QueryError("unbalanced parentheses: ')' without a matching '('")
        if kind == "field":
            name, raw = value.split(":", 1)
            self.filters.setdefault(name, []).append(_check_filter(name, raw))
            return None
        text = self.normalize(value)
        if not text:
            raise QueryError(f"the term {value!r} is empty once spaces are removed")
        return Term(text)


def _check_filter(name: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise QueryError(f"{name}: needs a value, e.g. {name}:{'2020' if name == 'year' else '…'}")
    if wants_unknown(value) and name != "section":
        return value
    if name == "year" and not re.fullmatch(r"\d{4}(-\d{4})?", value):
        raise QueryError(f"year:{value} is not a year or a range like 2018-2020")
    if name == "section":
        return section_kind(value)
    if name == "template" and value not in (NEW, OLD):
        raise QueryError(f"template:{value} is not a template: {NEW} (the 2019 revision's tables) or {OLD}")
    return value


def section_kind(value: str) -> str:
    """A section kind key from its key or its Chinese label (section:problems, section:存在的主要问题)."""
    if value in SECTION_KINDS:
        return value
    for key, label in SECTION_KINDS.items():
        if value and (value in label or label in value):
            return key
    raise QueryError(f"unknown section kind '{value}' (one of: {', '.join(SECTION_KINDS)})")


def parse_query(query: str, normalize: Callable[[str], str]) -> ParsedQuery:
    """Parse a query, its terms made comparable by `normalize` (the one text rule, which every
    index applies too); `QueryError` with a one-line message when it is malformed."""
    if not isinstance(query, str):
        raise QueryError("empty query: type a word or phrase to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(query)} characters; the limit is {MAX_QUERY_CHARS})")
    if not query.strip():
        raise QueryError("empty query: type a word or phrase to search for")
    parser = _Parser(_tokens(query), normalize)
    tree = parser.parse()
    return ParsedQuery(tree, parser.filters, query)
