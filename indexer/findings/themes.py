"""Themes of one section kind across the corpus: the paragraphs of every problems section
(存在的主要问题及改进情况) sorted into themes a reader recognises.

**Anchored themes** (problems sections). theme_anchors.py lists the problems the genre names
(队伍建设不足, 公开内容不够全面, 解读质量不高, 平台建设滞后 …), each with anchor sentences and key
words. A paragraph goes to the theme whose key words it holds; among several such themes, or
when it holds none, the one whose anchor sentences its vector is nearest. A paragraph holding no
theme's key word and not near any theme's anchors (centred cosine under ANCHOR_MIN) matches
none: those are clustered among themselves (below), so a problem the list lacks still shows up
as a theme, and what forms no theme is counted in a visible 其他 theme. Nothing is dropped.
On the 191 hand-labelled items of bench/themes.py purity is 0.82 (clustering alone: 0.65), but
0.78 on the 18 labelled before the anchors were written, short of the issue's 0.8;
docs/performance.md has the numbers.

**Clustering** (what matches no anchor, and section kinds without anchors). The paragraph
vectors are those the index already holds. Every problems passage is embedded with the section
heading in front, so all of them sit close together (cosine ≥ 0.90); the mean of the clustered
paragraphs is subtracted first and the rest renormalised. Beside it go the paragraph's words
(jieba, TF-IDF, genre words dropped). The clusters are cut from a graph: each paragraph is linked
to its nearest neighbours (about log₂ n) and the graph is split spectrally, so a theme may be a
long thin chain of paragraphs that say nearly the same thing. k grows with the square root of
the paragraph count (at most 20); a cluster smaller than `min_size` is no theme.

Deterministic: fixed anchors, a fixed seed for the eigenvectors and a label assignment without
random restarts (cluster_qr), over paragraphs in a fixed order (report id, section, paragraph).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.filters import SearchFilters
from .theme_anchors import ANCHORS, OTHER_LABEL

if TYPE_CHECKING:
    from scipy import sparse

MAX_THEMES = 20
ANCHOR_MIN = 0.3  # centred cosine to a theme's anchors that matches it without a key word
PROBLEMS_HEADING = "存在的主要问题及改进情况"
WORDS_PER_THEME = 8
EXAMPLES_PER_THEME = 5
_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
# Words every problems section uses whatever its problem: they name the genre, not a theme.
STOPWORDS = frozenset("""政府信息公开 政务公开 信息公开 工作 进一步 加强 存在 问题 主要 改进 情况 我们 我局 我县 我市 我区
我镇 一是 二是 三是 四是 五是 部分 一些 个别 方面 有待 需要 不断 提高 提升 推进 做好 开展 继续 全面 切实 以及 相关
公开 政府 信息 年度 今年 明年 下一步 针对 工作人员 单位 部门 政府信息 条例 或者 其他 按照 公民 法人""".split())


def theme_count(n: int) -> int:
    """How many clusters for `n` paragraphs: √n, at least 2, at most MAX_THEMES."""
    return max(2, min(MAX_THEMES, round(math.sqrt(n))))


def neighbour_count(n: int) -> int:
    """How many nearest neighbours each paragraph is linked to: log₂ n, at least 5, fewer than n."""
    return max(1, min(n - 1, max(5, round(math.log2(max(n, 2))))))


def centred(matrix: np.ndarray) -> np.ndarray:
    """Rows minus their mean, renormalised: what sets each paragraph apart from the genre."""
    rows = matrix.astype(np.float32) - matrix.astype(np.float32).mean(axis=0, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _words(text: str) -> str:
    from ..fulltext.analysis import tokenizer

    return " ".join(w for w in tokenizer().lcut(text) if _WORD.match(w) and w not in STOPWORDS)


def word_vectors(texts: Sequence[str]) -> sparse.csr_matrix:
    """Unit TF-IDF rows over the texts' words (sublinear tf), sparse: one row per text."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [_words(t) for t in texts]
    if not any(docs):
        return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
    return TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, dtype=np.float32).fit_transform(docs)


def features(matrix: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
    """The rows clustered: the paragraphs' vectors centred, beside their words (equal weight)."""
    from scipy import sparse

    return sparse.hstack([sparse.csr_matrix(centred(matrix)), word_vectors(texts)], format="csr")


def cluster(matrix: np.ndarray, texts: Sequence[str], k: int | None = None, min_size: int | None = None,
            neighbours: int | None = None) -> np.ndarray:
    """A theme number per row (0 = largest theme), or -1 for a row in no theme. Deterministic.

    Spectral clustering of the nearest-neighbour graph over `features` (see the module doc)."""
    import warnings

    from sklearn.cluster import SpectralClustering

    n = len(matrix)
    if n < 4:
        return np.full(n, -1)
    k = min(k or theme_count(n), n)
    min_size = min_size or max(3, n // 100)
    model = SpectralClustering(n_clusters=k, affinity="nearest_neighbors", n_neighbors=neighbours or neighbour_count(n),
                               assign_labels="cluster_qr", random_state=0)
    with warnings.catch_warnings():  # a graph in several pieces is fine: each piece is a theme or part of one
        warnings.simplefilter("ignore", UserWarning)
        found = model.fit_predict(features(matrix, texts))
    sizes = Counter(found.tolist())
    kept = [c for c, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])) if size >= min_size]
    renumber = {c: i for i, c in enumerate(kept)}
    return np.array([renumber.get(c, -1) for c in found.tolist()])


def anchor_vectors(embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Each anchored theme's sentences embedded by `embed` as the index embeds a problems passage
    (heading in front, normalised), averaged: one unit row per theme, in ANCHORS order."""
    from ..normalize import normalize
    from ..semantic.passages import heading_context

    context = heading_context(PROBLEMS_HEADING)
    texts = [context + normalize(s) for anchor in ANCHORS for s in anchor.sentences]
    vectors = np.asarray(embed(texts), dtype=np.float32)
    owner = np.repeat(np.arange(len(ANCHORS)), [len(anchor.sentences) for anchor in ANCHORS])
    rows = np.stack([vectors[owner == t].mean(axis=0) for t in range(len(ANCHORS))])
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def key_word_hits(texts: Sequence[str]) -> np.ndarray:
    """(paragraphs × anchored themes): whether the paragraph holds one of the theme's key words."""
    from ..normalize import normalize

    norms = [normalize(t) for t in texts]
    return np.array([[any(w in text for w in anchor.words) for anchor in ANCHORS] for text in norms], dtype=bool)


def anchored(matrix: np.ndarray, texts: Sequence[str], anchors: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """A theme number per row, every row in one, and each theme's anchor key (None: a cluster of
    what matched no anchor; OTHER_LABEL: what formed no cluster). See the module doc."""
    n, count = len(matrix), len(ANCHORS)
    if n == 0:
        return np.zeros(0, dtype=int), []
    mean = matrix.astype(np.float32).mean(axis=0, keepdims=True)
    rows = centred(matrix)
    centres = anchors - mean
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    near = rows @ centres.T
    hits = key_word_hits(texts)
    best = np.argmax(near + 2.0 * hits, axis=1)  # a key word first; the nearest anchors among equals
    matched = hits.any(axis=1) | (near.max(axis=1) >= ANCHOR_MIN)
    labels = np.where(matched, best, -1)
    keys: list[str | None] = [a.key for a in ANCHORS]
    rest = np.flatnonzero(~matched)
    if len(rest):
        found = cluster(matrix[rest], [texts[i] for i in rest])
        clusters = sorted(set(found.tolist()) - {-1})
        for c in clusters:
            labels[rest[found == c]] = count + c
        keys += [None] * len(clusters)
        if (found == -1).any():
            labels[rest[found == -1]] = len(keys)
            keys.append(OTHER_LABEL)
    return labels, keys


def distinctive_words(texts_by_theme: Sequence[Sequence[str]], top: int = WORDS_PER_THEME) -> list[list[str]]:
    """Each theme's words by class-based TF-IDF (BERTopic's c-TF-IDF): a word's frequency in
    the theme × log(1 + average words per theme / its frequency over all themes)."""
    from ..fulltext.analysis import tokenizer

    tk = tokenizer()
    counts = [Counter(w for t in texts for w in tk.lcut(t) if _WORD.match(w) and w not in STOPWORDS)
              for texts in texts_by_theme]
    overall: Counter = Counter()
    for c in counts:
        overall.update(c)
    average = sum(overall.values()) / max(len(counts), 1)
    out = []
    for c in counts:
        total = sum(c.values()) or 1
        scored = {w: (n / total) * math.log(1 + average / overall[w]) for w, n in c.items() if n >= 2 or len(c) < 20}
        out.append([w for w, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:top]])
    return out


def central(matrix: np.ndarray, members: np.ndarray) -> list[int]:
    """Member rows ordered by closeness to their theme's centre (the first is the label)."""
    rows = centred(matrix)[members]
    centre = rows.mean(axis=0)
    order = np.argsort(-(rows @ centre), kind="stable")
    return [int(members[i]) for i in order]


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def themes(matrix: np.ndarray, items: Sequence[dict], anchors: np.ndarray | None = None) -> tuple[list[dict], np.ndarray]:
    """The themes of `items` ({report_id, text, year, province, level}), one row of `matrix` each,
    and the theme number of each item (-1: none). With `anchors` (anchor_vectors) the anchored
    themes, every item in one; without, clustering alone."""
    texts = [i["text"] for i in items]
    if anchors is None:
        labels = cluster(matrix, texts)
        keys: list[str | None] = [None] * (int(labels.max()) + 1 if len(labels) else 0)
    else:
        labels, keys = anchored(matrix, texts, anchors)
    # Largest first, 其他 last; empty anchored themes are no theme.
    sizes = Counter(labels.tolist())
    order = sorted((t for t in sizes if t != -1), key=lambda t: (keys[t] == OTHER_LABEL, -sizes[t], t))
    renumber = {t: i for i, t in enumerate(order)}
    labels = np.array([renumber.get(t, -1) for t in labels.tolist()], dtype=int)
    keys = [keys[t] for t in order]
    ids = list(range(len(order)))
    members = {t: np.flatnonzero(labels == t) for t in ids}
    words = distinctive_words([[texts[i] for i in members[t]] for t in ids])
    by_key = {a.key: a for a in ANCHORS}
    out = []
    for t, theme_words in zip(ids, words):
        order_t = central(matrix, members[t])
        rows = [items[i] for i in order_t]

        def counts(field: str) -> dict:
            found = Counter("（未知）" if r.get(field) in (None, "") else str(r[field]) for r in rows)
            return dict(sorted(found.items()))

        key = keys[t]
        label = by_key[key].label if key in by_key else OTHER_LABEL if key == OTHER_LABEL else _short(rows[0]["text"])
        out.append({
            "id": t, "key": key, "label": label, "words": theme_words, "size": len(rows),
            "central": {"report_id": rows[0]["report_id"], "text": rows[0]["text"]},
            "reports": sorted({r["report_id"] for r in rows}),
            "by_year": counts("year"), "by_province": counts("province"), "by_level": counts("level"),
            "examples": [{"report_id": r["report_id"], "section_ord": r.get("section_ord"), "ord": r.get("ord"),
                          "text": r["text"]} for r in rows[:EXAMPLES_PER_THEME]],
        })
    return out, labels


def purity_coverage(truth: Sequence[str], labels: Sequence[int]) -> tuple[float, float]:
    """Purity: of the items in a theme, the share whose hand label is their theme's most common
    one. Coverage: the share of items in any theme."""
    assigned = [(t, l) for t, l in zip(truth, labels) if l != -1]
    if not assigned:
        return 0.0, 0.0
    by_theme: dict[int, Counter] = {}
    for t, l in assigned:
        by_theme.setdefault(l, Counter())[t] += 1
    agree = sum(c.most_common(1)[0][1] for c in by_theme.values())
    return agree / len(assigned), len(assigned) / len(truth)


def corpus_themes(store, kind: str = "problems", filters=None) -> dict:
    """The `themes --json` object for one section kind over the reports passing `filters`.

    The units are the index's passages of that kind (sentences packed up to 160 characters):
    a problems paragraph that lists 一是…二是…三是… is several problems, and its passages come
    closer to one problem each than the paragraph does."""
    from ..semantic.search import passage_texts
    from ..semantic.vectors import KINDS, embed_with_cache, load_vectors

    filters = filters or SearchFilters()
    vs = load_vectors(store.index_dir)
    with store.snapshot():
        reports = {r["id"]: r for r in store.reports() if filters.accepts(r)}
        wanted = np.array([vs.report_index().get(rid, -1) for rid in reports])
        rows = np.flatnonzero((vs.passages["kind"] == KINDS.index(kind)) & np.isin(vs.passages["report"], wanted))
        texts = passage_texts(store, vs, rows)
    items = []
    for row, text in zip(rows.tolist(), texts):
        p = vs.passages[row]
        report = reports[vs.report_ids[p["report"]]]
        items.append({"report_id": report["id"], "section_ord": int(p["section"]), "ord": int(p["para"]), "text": text,
                      "year": report["year"], "province": report["region"]["province"], "level": report.get("level")})
    if not items:
        return {"section": kind, "paragraphs": 0, "unassigned": 0, "themes": []}
    anchors = anchor_vectors(lambda texts: embed_with_cache(store.index_dir, vs, texts)) if kind == "problems" else None
    found_themes, labels = themes(vs.rows(rows), items, anchors)
    return {"section": kind, "paragraphs": len(items), "unassigned": int((labels == -1).sum()), "themes": found_themes}
