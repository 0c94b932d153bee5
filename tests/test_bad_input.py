"""A scraped folder with every kind of bad file: each is indexed or skipped with its reason.

The folder mixes the five samples with re-encoded, damaged, locked, empty, huge, duplicated,
oddly named and vanishing files. Every file must end up `added` or `skipped` with a one-line
reason, and the good ones must be searchable exactly as their text says.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from pathlib import Path

import pytest

from indexer import indexing
from indexer.fulltext.search import Searcher
from indexer.indexing import index_paths, report_id_for
from indexer.ingest import IngestError, read_report_bytes
from indexer.ingest import pdf as pdf_reader
from indexer.normalize import normalize
from indexer.store import Store
from tests.conftest import CORPUS, SAMPLES, sample_text
from tests.test_cli import run

LONG_DIR = "很长的目录名称" * 6
LONG_NAME = "某某县人民政府办公室关于政府信息公开工作年度报告的说明" * 3 + ".txt"
SPACED_NAME = "灵武市 2020 年 政府信息公开 年度报告 (终稿).txt"
VANISHING = "vanishing.txt"

# relative path -> (status, the reason's wording, or None for an added file)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "encodings/gbk.txt": ("added", None),
    "encodings/gb18030.txt": ("added", None),
    "encodings/utf16-bom.txt": ("added", None),
    "encodings/utf16le-no-bom.txt": ("added", None),
    "encodings/utf8-bom.txt": ("added", None),
    "empty.txt": ("skipped", "empty file"),
    "blank.txt": ("skipped", "empty file"),
    "random-bytes.txt": ("skipped", "binary file (contains NUL bytes)"),
    "random-high-bytes.txt": ("skipped", "undecodable text (not UTF-8, UTF-16, GB18030 or another known encoding)"),
    "truncated.pdf": ("skipped", "damaged or truncated PDF"),
    "encrypted.pdf": ("skipped", "encrypted PDF (password required)"),
    "owner-password.pdf": ("added", None),
    "scanned.pdf": ("skipped", "scanned PDF: OCR found no text on its 1 page(s)"),
    "text-layer.pdf": ("added", None),
    "renamed-text.pdf": ("skipped", "not a PDF file (no %PDF header)"),
    "broken.docx": ("skipped", "not a readable DOCX file (BadZipFile)"),
    "huge.txt": ("skipped", "file too large (50.0 MB > 20 MB limit; see --max-size)"),
    "dup/报告.txt": ("added", None),
    "dup/报告 副本 (1).txt": ("added", None),
    f"{LONG_DIR}/{LONG_DIR}/{LONG_DIR}/{LONG_NAME}": ("added", None),
    SPACED_NAME: ("added", None),
    "no-heading.txt": ("skipped", "不像政府信息公开工作年度报告：未称信息公开年度报告，未引用《条例》"),
    VANISHING: ("skipped", "file disappeared before it could be read"),
}


def _variant(key: str, note: str) -> str:
    """A sample made distinct by a note, so each file is its own report."""
    return sample_text(key) + f"\n附记：{note}。\n"


def _pdf(lines: list[str], *, encrypt=None, rectangle: bool = False) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    if rectangle:
        c.rect(100, 200, 300, 400, fill=1)
    y = 800
    for i, line in enumerate(lines):
        if i and i % 35 == 0:
            c.showPage()
            y = 800
        c.setFont("STSong-Light", 11)
        c.drawString(40, y, line)
        y -= 20
    c.save()
    return buf.getvalue()


def _pdf_lines(text: str) -> list[str]:
    return [line.strip()[:40] for line in text.splitlines() if line.strip()][:80]


def _encrypted(user: str, owner: str):
    from reportlab.lib.pdfencrypt import StandardEncryption

    return StandardEncryption(user, ownerPassword=owner)


def _build(folder: Path) -> dict[str, str]:
    """Write the bad corpus; returns the text each added file must yield."""
    rng = random.Random(7)
    texts: dict[str, str] = {}
    for name in SAMPLES.values():
        shutil.copy(CORPUS / name, folder / name)
        texts[name] = (CORPUS / name).read_text(encoding="utf-8")

    def put(rel: str, data: bytes, text: str | None = None) -> None:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if text is not None:
            texts[rel] = text

    gbk = _variant("lingwu_commerce_2018", "GBK 编码").encode("gbk", errors="ignore")
    put("encodings/gbk.txt", gbk, gbk.decode("gbk"))
    gb18030 = _variant("guyuan_2019", "GB18030 编码 𠀀㈠")
    put("encodings/gb18030.txt", gb18030.encode("gb18030"), gb18030)
    utf16 = _variant("huaibei_2018", "UTF-16 编码")
    put("encodings/utf16-bom.txt", utf16.encode("utf-16"), utf16)
    utf16le = _variant("lingwu_gov_2020", "UTF-16LE 编码")
    put("encodings/utf16le-no-bom.txt", utf16le.encode("utf-16-le"), utf16le)
    bom = _variant("shapotou_2018", "UTF-8 BOM 编码")
    put("encodings/utf8-bom.txt", bom.encode("utf-8-sig"), bom)

    put("empty.txt", b"")
    put("blank.txt", b" \r\n\t\n  \n")
    put("random-bytes.txt", bytes(rng.randrange(256) for _ in range(20000)))
    put("random-high-bytes.txt", bytes(rng.randrange(128, 256) for _ in range(20000)))

    report = sample_text("lingwu_gov_2020")
    good_pdf = _pdf(_pdf_lines(report))
    put("truncated.pdf", good_pdf[: len(good_pdf) * 2 // 3])
    put("encrypted.pdf", _pdf(_pdf_lines(report), encrypt=_encrypted("secret", "owner")))
    owner_lines = _pdf_lines(_variant("guyuan_2019", "只设所有者密码"))
    owner_pdf = _pdf(owner_lines, encrypt=_encrypted("", "owner"))
    put("owner-password.pdf", owner_pdf, read_report_bytes("x.pdf", owner_pdf))
    put("scanned.pdf", _pdf([], rectangle=True))
    text_pdf = _pdf(_pdf_lines(_variant("shapotou_2018", "PDF 文本层")))
    put("text-layer.pdf", text_pdf, read_report_bytes("x.pdf", text_pdf))
    put("renamed-text.pdf", report.encode())
    put("broken.docx", bytes(rng.randrange(256) for _ in range(3000)))
    line = "政府信息公开工作年度报告正文，用于测试超大文件。\n".encode()
    put("huge.txt", line * (50 * 1024 * 1024 // len(line)) + b"x" * (50 * 1024 * 1024 % len(line)))

    duplicate = _variant("lingwu_gov_2020", "同一报告的两个副本")
    put("dup/报告.txt", duplicate.encode(), duplicate)
    put("dup/报告 副本 (1).txt", duplicate.encode("gb18030"), duplicate)
    long_text = _variant("huaibei_2018", "路径很长的文件")
    put(f"{LONG_DIR}/{LONG_DIR}/{LONG_DIR}/{LONG_NAME}", long_text.encode(), long_text)
    spaced = _variant("lingwu_commerce_2018", "文件名有空格和中文")
    put(SPACED_NAME, spaced.encode(), spaced)
    no_heading = "".join(f"本单位第{i}季度共收到信息公开申请{i + 3}件，均已按期答复，无行政复议。\n" for i in range(1, 5))
    put("no-heading.txt", no_heading.encode())  # a fragment of report-like sentences, not a report
    put(VANISHING, _variant("shapotou_2018", "会消失的文件").encode())
    return texts


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("scraped")
    texts = _build(folder)
    assert len(str(Path(LONG_DIR, LONG_DIR, LONG_DIR, LONG_NAME))) >= 200
    return folder, texts


@pytest.fixture
def vanishing(monkeypatch):
    """Delete VANISHING right after `index` lists the folder, before any file is read."""
    listed = indexing._list_files

    def list_then_delete(paths):
        files, roots = listed(paths)
        for path in files:
            if Path(path).name == VANISHING:
                Path(path).unlink()
        return files, roots

    monkeypatch.setattr(indexing, "_list_files", list_then_delete)


def _fresh_copy(bad_corpus, tmp_path) -> tuple[Path, dict[str, str]]:
    folder, texts = bad_corpus
    target = tmp_path / "scraped"
    shutil.copytree(folder, target)
    return target, texts


@pytest.mark.slow
def test_every_file_is_indexed_or_skipped_with_its_reason(bad_corpus, tmp_path, vanishing):
    folder, texts = _fresh_copy(bad_corpus, tmp_path)
    assert "只设所有者密码" in normalize(texts["owner-password.pdf"])  # not "(cid:2610)(cid:3827)…"
    summary = index_paths([folder], tmp_path / "index", embed=False)
    got = {str(Path(f.path).relative_to(folder.resolve())): (f.status, f.reason) for f in summary.files}
    # The same text under two names: whichever is read second is its duplicate, naming the first.
    pair = sorted([got.pop("dup/报告.txt"), got.pop("dup/报告 副本 (1).txt")])
    assert pair[0] == ("added", None) and pair[1][0] == "duplicate" and pair[1][1].startswith("same text as 报告")
    expected = {**{name: ("added", None) for name in SAMPLES.values()}, **EXPECTED}
    del expected["dup/报告.txt"], expected["dup/报告 副本 (1).txt"]
    assert set(got) == set(expected)
    for rel, (status, reason) in expected.items():
        assert got[rel][0] == status, (rel, got[rel])
        if reason is None:
            assert got[rel][1] is None
        else:
            assert got[rel][1].startswith(reason), (rel, got[rel])
            assert "\n" not in got[rel][1]

    store = Store(tmp_path / "index", create=False)
    try:
        ids = {}
        for rel, text in texts.items():
            report_id = report_id_for(text)
            ids[rel] = report_id
            stored = store.report(report_id)
            assert stored is not None, rel
            assert str(folder.resolve() / rel) in stored["sources"]
        assert ids["dup/报告.txt"] == ids["dup/报告 副本 (1).txt"]
        assert len(store.report(ids["dup/报告.txt"])["sources"]) == 2
        assert store.count_reports() == len(set(ids.values())) == len(texts) - 1
    finally:
        store.close()

    searcher = Searcher(tmp_path / "index")
    try:
        for term in ["政府信息公开", "GBK编码", "UTF-16LE 编码", "𠀀㈠", "只设所有者密码", "文件名有空格和中文",
                     "无行政复议", "同一报告的两个副本", "会消失的文件", "超大文件", "年度报告", "(一)"]:
            result = searcher.run(f'"{term}"', limit=None, snippets=False)
            truth = {}
            for rel, text in texts.items():
                count = normalize(text).count(normalize(term))
                if count:
                    truth[ids[rel]] = count
            assert {r["report_id"]: r["count"] for r in result["results"]} == truth, term
    finally:
        searcher.close()


@pytest.mark.slow
def test_the_cli_names_each_skipped_file_once(bad_corpus, tmp_path, capsys, vanishing):
    folder, _ = _fresh_copy(bad_corpus, tmp_path)
    index_dir = str(tmp_path / "index")
    code, out, err = run(capsys, "--index-dir", index_dir, "index", "--no-embed", str(folder))
    skipped = {rel: reason for rel, (status, reason) in EXPECTED.items() if status == "skipped"}
    added = len(EXPECTED) + len(SAMPLES) - len(skipped)
    assert code == 0
    assert out.startswith(f"{added - 1} added, 0 updated, 0 unchanged, 1 duplicate, 0 removed, {len(skipped)} skipped; {added - 1} reports")
    lines = [line for line in err.splitlines() if not line.startswith("duplicate ")]
    assert len(lines) == len(skipped) and len(err.splitlines()) == len(skipped) + 1
    for rel, reason in skipped.items():
        assert sum(line.startswith(f"skipped {folder.resolve() / rel}: {reason}") for line in lines) == 1, rel

    code, out, err = run(capsys, "--index-dir", index_dir, "index", "--no-embed", str(folder))
    assert code == 0
    assert out.startswith(f"0 added, 0 updated, {added} unchanged, 0 duplicate, 0 removed, {len(skipped) - 1} skipped")
    assert len(err.splitlines()) == len(skipped) - 1 and "huge.txt: file too large" in err

    code, out, _ = run(capsys, "--index-dir", index_dir, "search", "同一报告的两个副本", "--json")
    (result,) = json.loads(out)["results"]
    code, out, _ = run(capsys, "--index-dir", index_dir, "show", result["report_id"], "--json")
    assert sorted(Path(p).name for p in json.loads(out)["sources"]) == ["报告 副本 (1).txt", "报告.txt"]


def test_the_size_limit_speaks_the_unit_of_max_size(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(_variant("lingwu_gov_2020", "放宽大小限制") * 50, encoding="utf-8")
    size_mb = big.stat().st_size / 1024 / 1024
    assert 0.5 < size_mb < 2
    (skipped,) = index_paths([big], tmp_path / "a", max_bytes=512 * 1024, embed=False).files
    assert skipped.status == "skipped"
    assert skipped.reason == f"file too large ({size_mb:.1f} MB > 0.5 MB limit; see --max-size)"
    (added,) = index_paths([big], tmp_path / "b", embed=False).files
    assert added.status == "added"


def test_a_pdf_whose_glyphs_cannot_be_mapped_is_skipped(monkeypatch):
    """pdfminer leaves (cid:N) for glyphs it cannot map; when PDFium cannot read them either,
    the file is skipped with that reason instead of indexing the codes as text."""
    data = _pdf(_pdf_lines(sample_text("guyuan_2019")), encrypt=_encrypted("", "owner"))
    assert "固原市" in read_report_bytes("r.pdf", data)
    monkeypatch.setattr(pdf_reader, "_pdfium_pages", lambda data: None)
    with pytest.raises(IngestError, match=r"^PDF text cannot be decoded \(\d+ of \d+ characters have no Unicode"):
        read_report_bytes("r.pdf", data)
