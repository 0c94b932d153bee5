"""Scanned reports (图片版): pages without a text layer are read by OCR, offline, page by page.

The scans are made here: a real report's text drawn with the Noto CJK font into images, wrapped
as an image-only PDF, so the test knows every phrase on every page.
"""

from __future__ import annotations

import io
import json
import re
import subprocess

import pytest

from indexer.indexing import index_paths
from indexer.ingest import NO_TEXT_LAYER
from indexer.store import Store
from tests.conftest import sample_text
from tests.test_cli import run


def _cjk_font() -> str:
    found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout.split()
    fonts = sorted(f.rstrip(":") for f in found if "NotoSansCJK-Regular" in f or "NotoSerifCJK-Regular" in f)
    if not fonts:
        pytest.skip("no Noto CJK font (apt install fonts-noto-cjk)")
    return fonts[0]


def _scan(pages: list[list[str]]) -> bytes:
    """An image-only PDF: each page's lines drawn on an A4 page at 150 dpi, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(_cjk_font(), 30, index=2)  # the .ttc's SC face: 30 px at 150 dpi is 14 pt
    images = []
    for lines in pages:
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((120, 150 + 48 * i), line, font=font, fill=0)
        images.append(image)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buf.getvalue()


def _prose(key: str, width: int = 30) -> list[str]:
    lines = []
    for line in sample_text(key).splitlines():
        line = line.strip()
        if "\t" not in line:
            lines += [line[i:i + width] for i in range(0, len(line), width)]
    return [line for line in lines if line]


def test_a_scanned_report_is_read_by_ocr_with_pages_and_confidence(tmp_path, capsys):
    """Page 1 holds the title, page 2 a passage; 39 short text reports beside it make the run
    use the worker pool, so OCR runs in a worker and its progress comes back page by page."""
    lines = _prose("lingwu_gov_2020")
    pages = [lines[:1], lines[3:7]]
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(_scan(pages))
    text = sample_text("huaibei_2018")[:600]
    for i in range(39):
        (folder / f"r{i:02}.txt").write_text(text + f"\n附记：第{i}号。\n", encoding="utf-8")
    events = []
    summary = index_paths([folder], tmp_path / "index", embed=False, workers=2,
                          progress=lambda stage, done, total: events.append((stage, done, total)))
    assert summary.counts()["added"] == 40, summary.skipped()
    assert ("ocr", 2, 2) in events and ("ocr", 0, 2) in events

    # Phrases of eight Chinese characters from each page, as drawn.
    for number, page in enumerate(pages, 1):
        phrases = [p for line in page for p in re.findall(r"[\u4e00-\u9fff]{8}", line)][:3]
        assert phrases
        for phrase in phrases:
            _, out, _ = run(capsys, "--index-dir", str(tmp_path / "index"), "search", f'"{phrase}"', "--json")
            found = [r for r in json.loads(out)["results"] if r["source"] == "scan.pdf"]
            assert found, f"{phrase} (page {number}) not found"
            assert number in [s["page"] for s in found[0]["snippets"]]

    with Store(tmp_path / "index") as store:
        (report,) = [r for r in store.reports() if r["source"] == "scan.pdf"]
        shown = store.report(report["id"])
    assert shown["pages"] == 2
    assert [p["page"] for p in shown["ocr_pages"]] == [1, 2]
    assert all(0.8 < p["confidence"] <= 1 for p in shown["ocr_pages"])


def test_no_ocr_skips_a_scan_and_the_next_run_reads_it(tmp_path, capsys):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(_scan([_prose("lingwu_gov_2020")[:2]]))  # enough to pass parse.gate
    index_dir = str(tmp_path / "index")
    code, out, err = run(capsys, "--index-dir", index_dir, "index", "--no-embed", "--no-ocr", str(folder))
    assert code == 1 and "0 added" in out
    assert f"scan.pdf: {NO_TEXT_LAYER}; OCR is off (--no-ocr)" in err
    code, out, _ = run(capsys, "--index-dir", index_dir, "index", "--no-embed", str(folder))
    assert code == 0 and out.startswith("1 added")
    _, out, _ = run(capsys, "--index-dir", index_dir, "search", "政府信息公开工作年度报告", "--json")
    (result,) = json.loads(out)["results"]
    assert result["snippets"][0]["page"] == 1


def test_blank_pages_are_not_sent_to_ocr(monkeypatch):
    """A page with neither text nor anything drawn is blank, not a scan."""
    from reportlab.pdfgen import canvas

    from indexer.ingest import IngestError, extract_report_bytes
    from indexer.ingest import pdf as pdf_reader
    from tests.test_pages import _pdf

    def no_ocr(*args, **kwargs):
        raise AssertionError("OCR was run")

    monkeypatch.setattr(pdf_reader, "read_pages", no_ocr)
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.showPage()
    c.save()
    with pytest.raises(IngestError, match="^PDF has no text: its pages are blank$"):
        extract_report_bytes("blank.pdf", buf.getvalue())
    lines = _prose("lingwu_gov_2020")
    extracted = extract_report_bytes("r.pdf", _pdf([lines[:20], [], lines[20:40]]))
    assert len(extracted.page_starts) == 3 and extracted.ocr_pages is None
