"""Page numbers: every occurrence in a PDF (or a DOCX paged by explicit breaks) knows its page,
through the store, `search --json`, the CLI's text output and `show --json`."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from indexer.ingest import extract_report_bytes
from indexer.query import run_search
from indexer.normalize import normalize, normalize_with_map
from indexer.pages import PageImageError, page_at, page_image
from indexer.store import SCHEMA_VERSION, Store, StoreError
from tests.conftest import sample_text
from tests.test_cli import run

DATA = Path(__file__).parent / "data"


def _report_lines(key: str) -> list[str]:
    """A real report's prose (its tables left out), wrapped at 36 characters as a PDF page would hold it."""
    lines = []
    for line in sample_text(key).splitlines():
        line = line.strip()
        if "\t" not in line:
            lines += [line[i:i + 36] for i in range(0, len(line), 36)]
    return [line for line in lines if line]


def _pdf(pages: list[list[str]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for number, lines in enumerate(pages, 1):
        c.setFont("STSong-Light", 11)
        for i, line in enumerate(lines):
            c.drawString(40, 800 - 20 * i, line)
        c.drawString(290, 30, f"- {number} -")  # a footer the reader drops
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def three_pages() -> list[list[str]]:
    lines = _report_lines("lingwu_gov_2020")
    assert len(lines) >= 90
    return [lines[0:30], lines[30:60], lines[60:90]]


@pytest.fixture(scope="module")
def paged_index(tmp_path_factory, three_pages) -> Path:
    folder = tmp_path_factory.mktemp("pdf")
    (folder / "lingwu.pdf").write_bytes(_pdf(three_pages))
    (folder / "huaibei.txt").write_text("\n".join(_report_lines("huaibei_2018")), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    from indexer.indexing import index_paths

    summary = index_paths([folder], index_dir, embed=False)
    assert summary.counts()["added"] == 2
    return index_dir


def _unique_phrase(lines: list[str], document: str) -> str:
    """Eight Chinese characters of one of `lines` found nowhere else in the document."""
    for line in lines:
        for phrase in re.findall(r"[\u4e00-\u9fff]{8}", line):
            if normalize(document).count(phrase) == 1:
                return phrase
    raise AssertionError(f"no unique phrase in {lines!r}")


def test_the_pdf_reader_knows_where_each_page_starts(three_pages):
    extracted = extract_report_bytes("r.pdf", _pdf(three_pages))
    assert len(extracted.page_starts) == 3 and extracted.ocr_pages is None
    norm = normalize_with_map(extracted.text)
    for number, lines in enumerate(three_pages, 1):
        start = extracted.page_starts[number - 1]
        assert normalize(extracted.text[start:]).startswith(normalize(lines[0]))
        for line in lines:
            assert page_at(extracted.page_starts, norm.source[norm.text.index(normalize(line))]) == number
    assert "- 2 -" not in extracted.text


def test_every_occurrence_in_search_json_has_its_page(capsys, paged_index, three_pages):
    document = "\n".join(line for page in three_pages for line in page)
    for number, lines in enumerate(three_pages, 1):
        phrase = _unique_phrase(lines[10:], document)
        _, out, _ = run(capsys, "--index-dir", str(paged_index), "search", f'"{phrase}"', "--json")
        (result,) = json.loads(out)["results"]
        assert [s["page"] for s in result["snippets"]] == [number]
    # A common term: each occurrence counted on the page that holds it.
    per_page = {n: normalize("".join(lines)).count("政府信息") for n, lines in enumerate(three_pages, 1)}
    assert sum(per_page.values()) == normalize(document).count("政府信息") and len(set(per_page.values())) > 1
    _, out, _ = run(capsys, "--index-dir", str(paged_index), "search", "政府信息", "--json", "--limit", "5")
    (pdf_result,) = [r for r in json.loads(out)["results"] if r["source"] == "lingwu.pdf"]
    assert Counter(s["page"] for s in pdf_result["snippets"]) == Counter({n: c for n, c in per_page.items() if c})


def test_the_cli_shows_the_page_beside_each_snippet(capsys, paged_index, three_pages):
    document = "\n".join(line for page in three_pages for line in page)
    phrase = _unique_phrase(three_pages[1][5:], document)
    _, out, _ = run(capsys, "--index-dir", str(paged_index), "search", f'"{phrase}"')
    (snippet,) = [line for line in out.splitlines() if "【" in line]
    assert re.search(r"\] 第2页 …", snippet) and phrase in snippet.replace("【", "").replace("】", "")


def test_text_without_pages_gives_null(capsys, paged_index):
    _, out, _ = run(capsys, "--index-dir", str(paged_index), "search", "淮北市", "--json")
    (result,) = [r for r in json.loads(out)["results"] if r["source"] == "huaibei.txt"]
    assert result["snippets"] and all(s["page"] is None for s in result["snippets"])
    _, out, _ = run(capsys, "--index-dir", str(paged_index), "show", result["report_id"], "--json")
    shown = json.loads(out)
    assert shown["pages"] is None and shown["ocr_pages"] == []


def test_show_json_gives_the_page_count(capsys, paged_index):
    _, out, _ = run(capsys, "--index-dir", str(paged_index), "reports", "--json")
    (pdf_report,) = [r for r in json.loads(out) if r["source"] == "lingwu.pdf"]
    _, out, _ = run(capsys, "--index-dir", str(paged_index), "show", pdf_report["id"], "--json")
    shown = json.loads(out)
    assert shown["pages"] == 3 and shown["ocr_pages"] == []


def test_page_image_renders_the_original_page(paged_index, tmp_path):
    from PIL import Image

    with Store(paged_index) as store:
        (pdf_report,) = [r for r in store.reports() if r["source"] == "lingwu.pdf"]
        (source,) = store.source_files(pdf_report["id"])
    png = page_image(paged_index, pdf_report["id"][:8], 2, scale=1.0)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (596, 842)  # A4 (595.3 x 841.9 points), one pixel a point
    with pytest.raises(PageImageError, match="pages 1 to 3, not 4"):
        page_image(paged_index, pdf_report["id"], 4)
    moved = Path(source.path).rename(tmp_path / "moved.pdf")
    try:
        with pytest.raises(PageImageError, match="no longer at .*lingwu.pdf"):
            page_image(paged_index, pdf_report["id"], 1)
    finally:
        moved.rename(source.path)


def _docx(saved_pages: int) -> bytes:
    """Two paragraphs of a real report, a page break, two more; docProps/app.xml says `saved_pages`."""
    import docx

    paragraphs = [p.strip() for p in sample_text("lingwu_gov_2020").splitlines() if len(p.strip()) > 40]
    document = docx.Document()
    for text in paragraphs[:2]:
        document.add_paragraph(text)
    document.add_page_break()
    for text in paragraphs[2:4]:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/app.xml":
                data = re.sub(rb"<Pages>\d+</Pages>", f"<Pages>{saved_pages}</Pages>".encode(), data)
            dst.writestr(item, data)
    return out.getvalue()


def test_docx_pages_come_from_explicit_breaks():
    paragraphs = [p.strip() for p in sample_text("lingwu_gov_2020").splitlines() if len(p.strip()) > 40]
    extracted = extract_report_bytes("r.docx", _docx(saved_pages=2))
    assert len(extracted.page_starts) == 2
    assert page_at(extracted.page_starts, extracted.text.index(paragraphs[1])) == 1
    assert page_at(extracted.page_starts, extracted.text.index(paragraphs[2])) == 2
    assert "\f" not in extracted.text


def test_docx_pages_are_unknown_when_text_flowed_onto_pages_without_a_break():
    """Word counted more pages than the explicit breaks make: where they begin is not in the file."""
    extracted = extract_report_bytes("r.docx", _docx(saved_pages=3))
    assert extracted.page_starts is None
    assert extracted.text == extract_report_bytes("r.docx", _docx(saved_pages=2)).text


def test_form_feeds_in_text_are_pages():
    text = "第一页的内容\n- 1 -\f第二页的内容\n- 2 -\f第三页"
    extracted = extract_report_bytes("r.txt", text.encode())
    assert [page_at(extracted.page_starts, extracted.text.index(s)) for s in ("第一", "第二", "第三")] == [1, 2, 3]


def test_a_version_1_store_opens_and_upgrades(tmp_path, capsys):
    """A store written by nianbao before page numbers (tests/data/store_v1.sql, the version-1
    schema with one report) opens, gains the columns, shows the old report without pages and
    takes new reports."""
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with sqlite3.connect(index_dir / "store.sqlite") as db:
        db.executescript((DATA / "store_v1.sql").read_text(encoding="utf-8"))
    with Store(index_dir) as store:
        version = store.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        assert int(version) == SCHEMA_VERSION >= 2
        (old,) = store.reports()
        shown = store.report(old["id"])
        assert shown["pages"] is None and shown["ocr_pages"] == [] and shown["sections"]
    # Indexing into it works and a new report gets its pages; the old report stays.
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "r.pdf").write_bytes(_pdf([_report_lines("guyuan_2019")[:30], _report_lines("guyuan_2019")[30:60]]))
    code, out, _ = run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(folder))
    assert code == 0 and "1 added" in out and "2 reports" in out
    _, out, _ = run(capsys, "--index-dir", str(index_dir), "search", "固原市", "--json")
    pages = {r["source"]: {s["page"] for s in r["snippets"]} for r in json.loads(out)["results"]}
    assert pages["r.pdf"] <= {1, 2} and None not in pages["r.pdf"]


def test_a_store_from_a_newer_nianbao_is_refused(tmp_path):
    with Store(tmp_path) as store:
        store.db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this nianbao's"):
        Store(tmp_path)


def test_the_report_page_shows_the_original_page_and_says_which_pages_were_read_by_ocr(paged_index, monkeypatch):
    from indexer.store import Store
    from tests.test_app import no_failure, open_page

    monkeypatch.setenv("NIANBAO_HOME", str(paged_index))
    with Store(paged_index) as store:
        pdf_id = next(r["id"] for r in store.reports() if r["source"] == "lingwu.pdf")
        store.db.execute("UPDATE reports SET ocr_pages=? WHERE id=?", ('[{"page": 2, "confidence": 0.91}]', pdf_id))
    at = open_page("report", id=pdf_id)
    no_failure(at)
    assert any(e.label == "原件页面（共 3 页）" for e in at.expander)
    assert [w.value for w in at.warning if "OCR" in w.value] == ["第2页（置信度 0.91）为OCR识别，可能有误：引用前请对照原件页面。"]
    at.number_input(key="report_page").set_value(3).run()
    no_failure(at)
    viewer = next(e for e in at.expander if e.label.startswith("原件页面"))
    images = [c for c in viewer.children.values() if type(c).__name__ == "Image"]
    assert [i.proto.imgs[0].caption for i in images] == ["第3页"]


def test_search_snippets_in_the_desk_and_its_export_name_their_page(paged_index, three_pages, monkeypatch):
    from search_app import render
    from tests.test_app import html_text, no_failure, open_page

    monkeypatch.setenv("NIANBAO_HOME", str(paged_index))
    document = "\n".join(line for page in three_pages for line in page)
    phrase = _unique_phrase(three_pages[2], document)
    at = open_page(None, q=phrase)
    no_failure(at)
    assert "第3页" in html_text(at)
    found = run_search(paged_index, phrase)["results"][0]
    assert render.marked_text(found["snippets"][0]).startswith("（第3页）")
