"""Themes of one section kind across the corpus: the paragraphs of every problems section
(存在的主要问题及改进情况) clustered by their embeddings into themes a reader recognises.

The paragraph vectors are those the index already holds (the mean of a paragraph's passages).
Every problems passage is embedded with the section heading in front, so all of them sit close
together (cosine ≥ 0.90, semantic/compare.py); clustering them as they are would sort by length
and style. The mean of the clustered paragraphs is subtracted first and the rest renormalised:
what is left is what a paragraph says beyond "this is a problems paragraph". Beside it go the
paragraph's words (jieba, TF-IDF, genre words dropped): the themes are named by their words
(人员、兼职、培训; 解读; 更新、及时), and the small model alone mixes them.

The clusters are cut from a graph, not around centres: each paragraph is linked to its
nearest neighbours (about log₂ n of them, the order that keeps such a graph connected) and the
graph is split spectrally. A theme is a chain of paragraphs that say nearly the same thing, so
it may be long and thin, which k-means (round clusters) cuts badly. On the 173 hand-labelled
items of bench/themes.py, at the same k: purity 0.56 with k-means (median of 10 seeds), 0.66
spectral (median over 5–12 neighbours), most of the gain on the half the method was chosen on
(0.53 → 0.56 on the held-out half); docs/performance.md has the numbers.

Deterministic: a fixed seed for the eigenvectors and a label assignment without random restarts
(cluster_qr), over paragraphs in a fixed order (report id, section, paragraph). k grows with the
square root of the paragraph count (13 themes for 173 paragraphs, at most 20); a cluster
smaller than `min_size` is no theme and its paragraphs are counted as unassigned rather than
forced into one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.filters import SearchFilters

if TYPE_CHECKING:
    from scipy import sparse

MAX_THEMES = 20
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


def themes(matrix: np.ndarray, items: Sequence[dict]) -> tuple[list[dict], np.ndarray]:
    """The themes of `items` ({report_id, text, year, province, level}), one row of `matrix` each,
    and the theme number of each item (-1: none)."""
    labels = cluster(matrix, [i["text"] for i in items])
    ids = sorted(set(labels.tolist()) - {-1})
    members = {t: np.flatnonzero(labels == t) for t in ids}
    words = distinctive_words([[items[i]["text"] for i in members[t]] for t in ids])
    out = []
    for t, theme_words in zip(ids, words):
        order = central(matrix, members[t])
        rows = [items[i] for i in order]

        def counts(field: str) -> dict:
            found = Counter("（未知）" if r.get(field) in (None, "") else str(r[field]) for r in rows)
            return dict(sorted(found.items()))

        out.append({
            "id": t, "label": _short(items[order[0]]["text"]), "words": theme_words, "size": len(rows),
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
    from ..semantic.vectors import KINDS, load_vectors

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
    found_themes, labels = themes(vs.rows(rows), items)
    return {"section": kind, "paragraphs": len(items), "unassigned": int((labels == -1).sum()), "themes": found_themes}
