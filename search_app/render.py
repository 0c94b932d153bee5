"""Shared rendering: highlighted text, report labels, downloads, and the page guard.

Report text is untrusted (it comes from whatever files were indexed), so every piece of it
is HTML-escaped before it is wrapped in markup; matches are shown with `<mark>`.
"""

from __future__ import annotations

import difflib
import html
import io
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import streamlit as st

from indexer.core.kinds import SECTION_KINDS, TEMPLATE_LABELS
from indexer.indexing import IndexLockedError
from indexer.normalize import normalize_with_map
from indexer.query import QueryError, parse_query
from indexer.store import StoreError
from search_app import state

log = logging.getLogger("nianbao.app")

CSS = """
<style>
.nb-snippet { margin: 0.25rem 0 0.4rem 0; line-height: 1.7; }
.nb-kind { display: inline-block; font-size: 0.75rem; color: #555; background: #eef1f5;
           border-radius: 0.3rem; padding: 0 0.35rem; margin-right: 0.4rem; }
.nb-text mark, .nb-snippet mark { background: #ffe066; color: inherit; padding: 0 0.1rem; border-radius: 0.15rem; }
.nb-table { border-collapse: collapse; margin: 0.3rem 0 0.8rem 0; font-size: 0.85rem; }
.nb-table td { border: 1px solid #dee2e6; padding: 0.15rem 0.4rem; }
.nb-para { margin: 0 0 0.6rem 0; line-height: 1.75; font-size: 0.93rem; }
.nb-found { background: #e7f1ff; border-left: 3px solid #4c8bf5; padding: 0.2rem 0.5rem; }
.nb-para.nb-shared { border-left: 4px solid #f08c00; padding-left: 0.5rem; background: #fff8ec; }
.nb-para .nb-common { background: #ffd8a8; border-radius: 0.15rem; }
.nb-counterpart { font-size: 0.78rem; color: #8a5a00; margin-top: 0.15rem; }
.nb-meta { color: #555; font-size: 0.85rem; }
.nb-column-head { font-weight: 700; font-size: 1.05rem; margin-bottom: 0.1rem; }
.nb-pairs { margin-top: 0.2rem; }
.nb-pair { display: inline-block; margin: 0.15rem 1rem 0.15rem 0; white-space: nowrap; }
.nb-pair .nb-kind { margin: 0 0.25rem; }
/* Streamlit's file uploader speaks English; its button and hint in Chinese (the label gives the limits). */
[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p { font-size: 0; visibility: hidden; }
[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p::after { content: "选择文件"; font-size: 0.875rem; visibility: visible; }
[data-testid=stFileUploaderDropzoneInstructions] span { font-size: 0; visibility: hidden; }
[data-testid=stFileUploaderDropzoneInstructions] span::after { content: "或把文件拖到这里"; font-size: 0.8rem; visibility: visible; }
.nb-fail { color: #c92a2a; font-weight: 600; }
.nb-facet { font-weight: 600; font-size: 0.9rem; margin: 0.5rem 0 0.1rem 0; }
/* Streamlit's own texts that no option reaches, in Chinese: the English is hidden (from screen
   readers too) and the Chinese drawn in its place. The skip link, a text box's hint, the status
   shown while a page is computed. */
[data-testid=stSkipToContent], [data-testid=InputInstructions],
[data-testid=stStatusWidget] label, [data-testid=stStatusWidget] button { font-size: 0; visibility: hidden; }
[data-testid=stSkipToContent]::after { content: "跳到正文"; font-size: 1rem; visibility: visible; }
[data-testid=InputInstructions]::after { content: "按回车检索"; font-size: 0.75rem; visibility: visible; }
[data-testid=stStatusWidget] label::after { content: "正在计算……"; font-size: 0.85rem; visibility: visible; }
[data-testid=stStatusWidget] button::after { content: "停止"; font-size: 0.85rem; visibility: visible; }
/* A table's own toolbar (Download as CSV, Search, Fullscreen, Show/hide columns) speaks English and
   no option translates it; every page has its own exports, so the toolbar is not shown. */
[data-testid=stElementToolbar] { display: none; }
</style>
"""

SHARED_MIN_CHARS = 6
INDEX_HINT = "索引里还没有报告。请到「语料」页上传报告文件或指定文件夹。"


def style() -> None:
    st.html(CSS)


def uploader_errors(limit_mb: int) -> None:
    """Chinese for the file uploader's refusals, on the pages that have one.

    Streamlit refuses in the browser a file over its upload limit (set above the desk's own,
    `indexer.app_launch.UPLOAD_TRANSPORT_MB`) or of a type the uploader does not take, with an
    English message ("File must be 200.0MB or smaller.") in the file's tooltip and read out to
    screen readers. The page hides both and shows the Chinese beside the file's name instead.
    """
    text = f"未上传：文件超过 {limit_mb} MB，或不是 PDF、DOCX、DOC、HTML、TXT 文件"
    st.html(f"""<style>
[data-testid=stFileChip] [role=alert] {{ position: static; width: auto; height: auto; margin: 0; clip: auto;
  overflow: visible; white-space: normal; font-size: 0; visibility: hidden; }}
[data-testid=stFileChip] [role=alert]::after {{ content: "{text}"; font-size: 0.75rem; color: #c92a2a; visibility: visible; }}
[data-testid=stTooltipErrorContent] {{ display: none; }}
</style>""")


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$:~])")


def md(text: object) -> str:
    """Text from reports or users made inert inside Markdown (labels, messages)."""
    return _MARKDOWN.sub(r"\\\1", "" if text is None else str(text))


def kind_label(kind: str | None) -> str:
    return SECTION_KINDS.get(kind or "", kind or "其他")


def region_label(region: dict | None) -> str:
    parts = [v for v in (region or {}).values() if v]
    return " ".join(dict.fromkeys(parts)) or "地区不详"


def report_label(report: dict) -> str:
    """One line naming a report for people: agency, year, and where."""
    agency = report.get("agency") or report.get("source") or report.get("id") or report.get("report_id")
    year = report.get("year") or "年份不详"
    return f"{agency} · {year}"


def highlight(text: str, spans: Iterable[tuple[int, int]], css_class: str | None = None) -> str:
    """HTML of `text` with `spans` (offsets into `text`) in `<mark>` (or a classed span); all escaped."""
    open_tag, close_tag = (f'<span class="{css_class}">', "</span>") if css_class else ("<mark>", "</mark>")
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos or end <= start:
            continue
        out.append(esc(text[pos:start]))
        out.append(f"{open_tag}{esc(text[start:end])}{close_tag}")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def term_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Where normalised `terms` occur in `text`, as spans of the original text.

    The same rule as exact search (normalised substring), so a phrase broken across a PDF
    page break is marked in the original text too.
    """
    terms = [t for t in dict.fromkeys(terms) if t]
    if not terms or not text:
        return []
    mapping = normalize_with_map(text)
    norm = mapping.text.lower()
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = term.lower()
        pos = norm.find(needle)
        while pos >= 0:
            spans.append(mapping.span_to_source(pos, pos + len(needle)))
            pos = norm.find(needle, pos + len(needle))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def shared_spans(text: str, other: str, min_chars: int = SHARED_MIN_CHARS) -> list[tuple[int, int]]:
    """Runs of `text` that `other` repeats word for word: the wording two passages share."""
    matcher = difflib.SequenceMatcher(None, text, other, autojunk=False)
    return [(block.a, block.a + block.size) for block in matcher.get_matching_blocks() if block.size >= min_chars]


def highlight_terms(query: str, mode: str) -> list[str]:
    """What to mark for a full-text query: its terms; in keyword mode the jieba words it counts."""
    if not query:
        return []
    try:
        terms = parse_query(query).positive_terms()
    except QueryError:
        return []
    if mode == "keyword":
        from indexer.fulltext.analysis import words

        return list(dict.fromkeys(w for t in terms for w in words(t)))
    return terms


def snippets_html(snippets: list[dict], terms: list[str], mode: str = "exact") -> list[str]:
    """Each snippet with its match and every other occurrence of `terms` in it marked (in keyword
    mode whole words only, as it counts them). A snippet whose match the one before already shows
    (occurrences close together) is left out."""
    from indexer.fulltext.analysis import word_spans

    out: list[str] = []
    previous = ""
    for snippet in snippets:
        text, start, end = snippet["text"], snippet["match_start"], snippet["match_end"]
        if previous and text[max(0, start - 10):end + 10] in previous:
            continue
        others = word_spans(text, set(terms)) if mode == "keyword" else term_spans(text, terms)
        body = highlight(text, others + [(start, end)])
        page = f' · 第{snippet["page"]}页' if snippet.get("page") else ""
        out.append(f'<div class="nb-snippet"><span class="nb-kind">{esc(kind_label(snippet["section_kind"]))}{page}</span>'
                   f"…{body}…</div>")
        previous = text
    return out


def marked_text(snippet: dict) -> str:
    """Plain-text form of a snippet for exports: the match in 【】."""
    text, start, end = snippet["text"], snippet["match_start"], snippet["match_end"]
    page = f"（第{snippet['page']}页）" if snippet.get("page") else ""
    return f"{page}{text[:start]}【{text[start:end]}】{text[end:]}"


def result_rows(results: list[dict], mode: str) -> list[dict]:
    """Search results as table rows for export: one row per report (full text) or per passage;
    an unknown value is an empty cell."""
    def place(r: dict) -> dict:
        region = r.get("region") or {}
        return {"省份": region.get("province") or "", "城市": region.get("city") or "", "区县": region.get("county") or ""}

    if mode in ("exact", "keyword"):
        return [{"报告ID": r["report_id"], "机关": r["agency"] or "", "年份": r["year"] or "", **place(r),
                 "标题": r["title"] or "", "文件": r["source"], "出现次数": r["count"],
                 "章节": "、".join(kind_label(k) for k in r["sections"]),
                 "片段": "\n".join(marked_text(s) for s in r["snippets"])} for r in results]
    def rank(value: int | None) -> int | str:
        return value or ""

    def scored(r: dict) -> dict:
        # Semantic: the similarity, read against the relevance line; hybrid: where each ranking put
        # the passage (its fused score means nothing to a reader).
        if mode == "hybrid":
            return {"关键词排名": rank(r.get("keyword_rank")), "语义排名": rank(r.get("semantic_rank"))}
        return {"相似度": round(r["score"], 4)}

    return [{"报告ID": r["report_id"], "机关": r["agency"] or "", "年份": r["year"] or "", **place(r),
             "文件": r["source"], "章节": kind_label(r["section_kind"]), **scored(r),
             "相关": "是" if r.get("relevant", True) else "弱相关", "段落": r["text"]} for r in results]


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nianbao")
    except PackageNotFoundError:
        return "未安装"


_FILE_UNSAFE = re.compile(r"[^\w\-（）]+")


def file_part(text: str, limit: int = 30) -> str:
    """Text made fit for a file name: runs of anything but letters, digits and - become _."""
    return _FILE_UNSAFE.sub("_", text).strip("_")[:limit] or "全部"


# --- vectors ---------------------------------------------------------------------------

VECTORS_HINT = ("在命令行运行 `nianbao index 报告文件夹`（默认同时计算向量）"
                "，或点下面的按钮为已索引的报告计算（五份样本报告约一分钟，第一次还要准备模型）。")


def offer_vectors(what: str, key: str, problem: str | None = None) -> None:
    """Say that `what` needs paragraph vectors (or that the index's are unusable), and offer to compute them."""
    if problem:
        st.warning(f"这个索引的段落向量无法使用，需要重新计算（{md(problem)}）。")
    else:
        st.info(f"{what}需要段落向量，这个索引还没有计算。{VECTORS_HINT}")
    if not state.semantic_installed():
        st.caption("这个安装缺少语义模块（indexer.semantic），无法计算向量。")
        return
    if not st.button("重新计算向量" if problem else "计算向量", key=key, icon=":material/calculate:"):
        return
    progress, done = state.progress_bar()
    try:
        state.compute_vectors(progress)
    except IndexLockedError:
        st.warning("另一个 nianbao 进程正在写入索引，请稍后再试。")
        return
    finally:
        done()
    st.rerun()


# --- reasons ---------------------------------------------------------------------------

REASONS = (
    ("empty file", "文件是空的"),
    ("no text found", "没有读出文字"),
    ("binary", "不是文字文件"),
    ("undecodable", "文字编码无法识别"),
    ("invalid", "文字编码有误"),
    ("unsupported file type", "不支持这种文件类型（只收 PDF、DOCX、HTML、TXT）"),
    ("not a readable DOCX", "不是可读的 DOCX 文件"),
    ("not a PDF", "不是 PDF 文件"),
    ("encrypted PDF", "PDF 设了密码"),
    ("damaged or truncated PDF", "PDF 已损坏或不完整"),
    ("PDF text cannot be decoded", "PDF 里的文字无法解码"),
    ("PDF has no text layer", "PDF 没有文字层（可能是扫描件），而文字识别（OCR）已关闭"),
    ("PDF has no text: its pages are blank", "PDF 全是空白页"),
    ("scanned PDF: OCR found no text", "扫描件：文字识别没有读出文字"),
    ("file too large", "文件太大"),
    ("same text as", "与已收录的一份报告文字相同，未重复计入"),
)


# The query parser's messages (English, as the command line prints them), in Chinese.
QUERY_ERRORS = (
    (r"unbalanced quote: (.) at position (\d+) is never closed", "引号不成对：第 {2} 个字符的 {1} 没有配对的后引号"),
    (r"unbalanced parentheses: '\(' is never closed", "括号不成对：有「(」没有配对的「)」"),
    (r"unbalanced parentheses: '\)' without a matching '\('", "括号不成对：有「)」没有配对的「(」"),
    (r"OR needs a search term on both sides, not only a filter", "OR 两边都需要检索词，不能只有过滤条件"),
    (r"(\S+) needs a term on both sides", "{1} 两边都需要检索词"),
    (r"(\S+) needs a term after it", "{1} 后面需要一个检索词"),
    (r"(\S+) cannot negate a filter", "{1} 只能排除检索词，不能排除过滤条件"),
    (r"empty parentheses", "括号里是空的"),
    (r"parentheses nested more than (\d+) deep", "括号嵌套超过 {1} 层"),
    (r"unexpected '(.*)'", "无法理解「{1}」"),
    (r"the term (.*) is empty once spaces are removed", "检索词 {1} 去掉空格后是空的"),
    (r"(\w+): needs a value, e\.g\. (.*)", "{1}: 后面需要一个值，例如 {2}"),
    (r"year:?\s*'?([^' ]*)'? is not a year or a range like 2018-2020", "年份「{1}」无法识别（应为 2020 或 2018-2020）"),
    (r"template:(.*) is not a template: .*",
     "模板「{1}」不存在（可用 " + "，".join(f"{key}：{label}" for key, label in TEMPLATE_LABELS.items()) + "）"),
    (r"unknown section kind '(.*)' \(one of: .*\)", "没有「{1}」这种章节（可用章节见「章节」筛选）"),
    (r"query too long \((\d+) characters; the limit is (\d+)\)", "检索式太长（{1} 个字符，上限 {2}）"),
    (r"empty query: .*", "检索式是空的：请输入要找的词或短语"),
    (r"the query has only filters or exclusions: .*", "检索式只有过滤或排除条件：请加上要按意思查找的词"),
)


def query_error_label(message: object) -> str:
    """A query error in Chinese; one the table does not know stays as it is."""
    text = str(message)
    for pattern, label in QUERY_ERRORS:
        found = re.fullmatch(pattern, text)
        if found:
            return label.format(None, *found.groups())
    return text


def reason_label(reason: object) -> str:
    """A reader's reason (English, as the command line prints it) in Chinese; one with no Chinese
    wording yet is shown as it is rather than hidden."""
    text = "" if reason is None else str(reason)
    for prefix, label in REASONS:
        if text.startswith(prefix):
            return label
    return text


# --- downloads --------------------------------------------------------------------------


def csv_bytes(frame: pd.DataFrame, about: dict[str, str] | None = None) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese correctly.

    `about` (what the table answers: query, filters, time, version) comes first as rows of two
    cells, then an empty row, then the table: a CSV has no second sheet, a separate file gets
    separated from its data, and Excel would show `#` comment lines as data anyway. The first
    row says how many rows to skip (pandas: `skiprows`) to read the table alone.
    """
    table = frame.to_csv(index=False)
    if not about:
        return table.encode("utf-8-sig")
    rows = [["说明", f"前 {len(about) + 2} 行是检索条件，结果表从第 {len(about) + 3} 行起"], *about.items()]
    head = pd.DataFrame(rows).to_csv(index=False, header=False)
    return (head + "\n" + table).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "results", about: dict[str, str] | None = None) -> bytes:
    """The table on its sheet; `about` (what it answers) on a second sheet, 检索条件."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
        if about:
            pd.DataFrame(list(about.items()), columns=["项目", "内容"]).to_excel(writer, index=False, sheet_name="检索条件")
    return buffer.getvalue()


def download_buttons(make_frame: Callable[[], pd.DataFrame], basename: str, key: str,
                     about: Callable[[], dict[str, str]] | None = None) -> None:
    """CSV and XLSX buttons; the table (and `about`, its provenance) only built when a button is pressed."""
    def provenance() -> dict[str, str] | None:
        return about() if about else None

    row = st.container(horizontal=True)
    row.download_button("导出 CSV", data=lambda: csv_bytes(make_frame(), provenance()), file_name=f"{basename}.csv",
                        mime="text/csv", key=f"{key}-csv", on_click="ignore")
    row.download_button("导出 XLSX", data=lambda: xlsx_bytes(make_frame(), "结果", provenance()),
                        file_name=f"{basename}.xlsx",
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key=f"{key}-xlsx", on_click="ignore")


# --- the page guard ---------------------------------------------------------------------


def is_vectors_error(exc: Exception) -> bool:
    """Unusable vectors (an older format, another model): people can recompute them, so they are offered that."""
    try:
        from indexer.semantic.vectors import VectorsError
    except ImportError:
        return False
    return isinstance(exc, VectorsError)


def guard(page: Callable[[], Any]) -> None:
    """Run a page; any failure becomes a plain message in the page, never a traceback."""
    try:
        page()
    except QueryError as exc:
        st.error(f"检索式有误：{md(query_error_label(exc))}")
    except StoreError as exc:
        if "no index" in str(exc):
            st.info(INDEX_HINT)
        else:
            st.error(f"索引无法打开：{md(exc)}")
    except Exception as exc:
        if is_vectors_error(exc):
            log.warning("unusable vectors: %s", exc)
            offer_vectors("", key="guard_vectors", problem=str(exc))
            return
        log.error("page failed: %s", "".join(traceback.format_exception(exc)))
        st.error("这个页面出错了，详细信息已写入日志。请换个输入再试；如果问题持续，请告诉维护者。")
