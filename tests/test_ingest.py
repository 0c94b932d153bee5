"""Readers: every listed encoding detected, PDF/DOCX/HTML built here, each kind of bad file."""

import io
import zipfile

import pytest

from indexer.ingest import IngestError, read_report_bytes, read_report_file
from tests.conftest import sample_text

TEXT = sample_text("lingwu_gov_2020")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_text_encodings_are_detected(encoding):
    text = TEXT.replace("\u2022", "")  # GBK lacks a few symbols; the report must survive the round trip
    data = text.encode(encoding, errors="ignore")
    assert read_report_bytes("r.txt", data).lstrip("\ufeff") == text.encode(encoding, errors="ignore").decode(encoding).lstrip("\ufeff")


def test_gb18030_only_characters():
    text = "灵武市政府信息公开工作年度报告 𠀀 ㈠ 说明" * 20
    assert read_report_bytes("r.txt", text.encode("gb18030")) == text


def test_big5_traditional_text():
    """Big5 bytes decode as GB18030 without error, into private-use characters; they must not stop there."""
    text = ("某某市人民政府2020年政府資訊公開工作年度報告\n"
            "本報告根據《中華人民共和國政府資訊公開條例》要求編製，包括總體情況、主動公開政府資訊情況、"
            "收到和處理政府資訊公開申請情況、存在的主要問題及改進情況。\n"
            "一、總體情況\n2020年，本機關全年主動公開政府資訊1520條，舉辦政府開放日活動3次。\n") * 3
    data = text.encode("big5")
    data.decode("gb18030")  # no error: the first guess really is wrong without a check
    assert read_report_bytes("r.txt", data) == text


def _pdf(text_lines: list[str], footer: str | None = None) -> bytes:
    """A PDF of these lines, `<page>` breaking the page; `footer` (with {n}) at each page's foot."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y, page = 800, 1

    def foot() -> None:
        if footer:
            c.setFont("STSong-Light", 10)
            c.drawCentredString(A4[0] / 2, 40, footer.format(n=page))

    for line in text_lines:
        if line == "<page>":
            foot()
            c.showPage()
            y, page = 800, page + 1
            continue
        c.setFont("STSong-Light", 12)
        c.drawString(50, y, line)
        y -= 20
    foot()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("footer", ["- {n} -", "第 {n} 页 共 2 页", "{n}", "— {n} —"])
def test_pdf_page_numbers_do_not_split_a_phrase(footer):
    """积极参 / - 1 - / 加上级: the footer between the halves of a sentence hid the phrase."""
    from indexer.normalize import normalize

    data = _pdf(["二、主动公开情况", "本年度积极参", "<page>", "加上级部门组织的培训 7 次。", "3"], footer=footer)
    text = normalize(read_report_bytes("r.pdf", data))
    assert "积极参加上级部门" in text
    assert "培训7次。3" in text  # a number that is not on a page's edge line stays


def test_text_from_pdftotext_loses_its_page_numbers():
    """Form feeds mark pdftotext's pages; a page number beside one goes, a number elsewhere stays."""
    from indexer.normalize import normalize

    data = "本年度积极参\n\n- 1 -\n\f加上级部门组织的培训\n7\n次。\n\n- 2 -\n\f".encode("utf-8")
    assert "积极参加上级部门组织的培训7次。" in normalize(read_report_bytes("r.txt", data))


def test_pdf_ruled_table_keeps_empty_cells_and_wrapped_labels():
    """Rows of a ruled table: five columns stay five when the middle ones are empty, and a label
    wrapped inside its narrow cell reads whole (exact search must find 不予公开 there)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    wrapped = Paragraph("三、本年度办理结果（三）不予公开", ParagraphStyle("cell", fontName="STSong-Light", fontSize=9,
                                                               wordWrap="CJK"))
    rows = [["信息内容", "复议", "", "", "诉讼"], ["结果维持", "", "", "3", "4"], [wrapped, "1", "2", "3", "4"]]
    table = Table(rows, colWidths=[60, 40, 40, 40, 40],
                  style=[("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONT", (0, 0), (-1, -1), "STSong-Light", 9)])
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build([table])
    lines = read_report_bytes("r.pdf", buf.getvalue()).splitlines()
    assert lines == ["信息内容\t复议\t\t\t诉讼", "结果维持\t\t\t3\t4", "三、本年度办理结果（三）不予公开\t1\t2\t3\t4"]


def test_pdf_text_layer_including_a_page_break():
    data = _pdf(["灵武市2020年政府信息公开工作年度报告", "一、总体情况", "积极开展政府开", "<page>", "放日活动。"])
    text = read_report_bytes("r.pdf", data)
    assert "灵武市2020年政府信息公开工作年度报告" in text
    from indexer.normalize import normalize

    assert "政府开放日" in normalize(text)


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("淮北市商务局2018年度政府信息公开工作报告")
    document.add_paragraph("一、主动公开政府信息情况")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "信息类型", "数量"
    table.cell(1, 0).text, table.cell(1, 1).text = "政策法规", "22"
    document.add_paragraph("二、存在的主要问题及改进情况")
    path = tmp_path / "r.docx"
    document.save(path)
    _, text = read_report_file(path)
    lines = [l for l in text.splitlines() if l]
    assert lines == ["淮北市商务局2018年度政府信息公开工作报告", "一、主动公开政府信息情况", "信息类型\t数量",
                     "政策法规\t22", "二、存在的主要问题及改进情况"]


def _numbered_docx(text: str, path, *, by_style: bool = False) -> None:
    """A DOCX of `text` whose 一、 headings and （一） items are Word's automatic numbering (not
    typed): chineseCounting `%1、` at level 0 and `（%2）` at level 1, indented with a tab."""
    import re

    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    heading_style = document.styles.add_style("编号标题", 1)  # 1: a paragraph style
    heading_style.element.get_or_add_pPr().get_or_add_numPr().get_or_add_numId().val = 90
    for line in text.splitlines():
        top, item = re.match(r"^[一二三四五六七八九十]+、(.*)$", line), re.match(r"^（[一二三四五六七八九十]+）(.*)$", line)
        if top and by_style:
            document.add_paragraph(top.group(1), style=heading_style)
            continue
        paragraph = document.add_paragraph(("\t" if item else "") + (top or item or re.match("(.*)", line)).group(1))
        if top or item:
            num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_numId().val = 90
            num_pr.get_or_add_ilvl().val = 1 if item else 0
    document.save(path)


@pytest.mark.parametrize("by_style", [False, True])
def test_docx_automatic_numbering_is_read_as_typed(tmp_path, by_style):
    """Headings numbered by Word, not typed, give the sections the typed text gives."""
    from indexer.parse import parse_report

    text = sample_text("lingwu_gov_2020")
    typed = [line for line in text.splitlines() if "\t" not in line]  # prose and headings, as paragraphs
    _numbered_docx("\n".join(typed), tmp_path / "r.docx", by_style=by_style)
    _, read = read_report_file(tmp_path / "r.docx")
    assert [l for l in read.splitlines() if l.strip()] == [l for l in typed if l.strip()]
    expected = [(s.kind, s.heading) for s in parse_report("\n".join(typed)).sections]
    assert [(s.kind, s.heading) for s in parse_report(read).sections] == expected
    assert ("problems", "五、存在的主要问题及改进情况") in expected


def test_docx_text_is_what_word_shows(tmp_path):
    """Tracked insertions, content controls (block and inline) and text boxes are read; deleted
    text and a text box's fallback copy are not. python-docx's own text lost the first three."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    ns = (f'{nsdecls("w")} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
          'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml"')
    document = docx.Document()
    document.add_paragraph("一、总体情况")
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(
        f'<w:sdt {ns}><w:sdtPr><w:alias w:val="正文"/></w:sdtPr><w:sdtContent>'
        '<w:p><w:r><w:t>全年举办政府开放日活动</w:t></w:r><w:ins w:id="1" w:author="审核"><w:r><w:t>12次</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="审核"><w:r><w:delText>10次</w:delText></w:r></w:del><w:r><w:t>。</w:t></w:r></w:p>'
        '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>政策法规</w:t></w:r></w:p></w:tc>'
        '<w:tc><w:p><w:sdt><w:sdtContent><w:r><w:t>22</w:t></w:r></w:sdtContent></w:sdt></w:p></w:tc></w:tr></w:tbl>'
        '</w:sdtContent></w:sdt>'))
    box = document.add_paragraph("附：")
    box._p.append(parse_xml(
        f'<w:r {ns}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
        '<w:p><w:r><w:t>联系电话：0951-1234567</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>联系电话：0951-1234567</w:t></w:r></w:p>'
        '</w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>'))
    document.save(tmp_path / "r.docx")
    _, text = read_report_file(tmp_path / "r.docx")
    assert [l for l in text.splitlines() if l] == ["一、总体情况", "全年举办政府开放日活动12次。", "政策法规\t22", "附：",
                                                   "联系电话：0951-1234567"]


def test_docx_with_malformed_numbering_is_read_without_numbers(tmp_path):
    import re

    _numbered_docx("一、总体情况\n（一）主动公开\n二、存在的主要问题及改进情况", tmp_path / "good.docx")
    with zipfile.ZipFile(tmp_path / "good.docx") as good, zipfile.ZipFile(tmp_path / "bad.docx", "w") as bad:
        for entry in good.infolist():
            data = good.read(entry)
            if entry.filename == "word/numbering.xml":
                data = data.replace(b'<w:start w:val="1"/>', b'<w:start w:val="one"/>')
            if entry.filename == "word/document.xml":
                data = re.sub(rb'<w:ilvl w:val="1"/>', b'<w:ilvl w:val="x"/>', data)
            bad.writestr(entry, data)
    _, text = read_report_file(tmp_path / "bad.docx")
    assert [l for l in text.splitlines() if l] == ["总体情况", "主动公开", "存在的主要问题及改进情况"]


def test_a_reader_failing_on_a_file_is_that_files_reason(monkeypatch):
    """A reader's unexpected error on one malformed file is an IngestError naming it, which skips
    the file; it does not escape into the indexing run."""
    from indexer import ingest

    def broken(data):
        raise KeyError("rId7")

    monkeypatch.setitem(ingest.READERS, ".docx", broken)
    with pytest.raises(IngestError, match=r"^could not read this \.docx file \(KeyError: 'rId7'\)$"):
        read_report_bytes("r.docx", b"PK\x03\x04 something")


def test_html_visible_text_only():
    html = ("<html><head><title>x</title><style>p{}</style></head><body><h1>灵武市2020年政府信息公开工作年度报告</h1>"
            "<p>积极开展<b>政府开放日</b>活动</p><script>var a='不予公开';</script>"
            "<table><tr><td>一、本年新收</td><td>7</td></tr></table></body></html>").encode("gbk")
    html = html.replace(b"<head>", b'<head><meta charset="gbk">')
    text = read_report_bytes("r.html", html)
    assert "政府开放日" in text.replace("\n", "")
    assert "不予公开" not in text
    assert "一、本年新收\t7" in text


def test_html_hidden_elements_are_not_read():
    """What a browser hides is not indexed: a search must not report a match nobody can see."""
    html = ("<html><body><p>积极开展政府开放日活动</p><p style='display:none'>不予公开的隐藏文字</p>"
            "<div hidden>隐藏属性</div><p style='color:red; Display: None'>二号</p>"
            "<span style='mso-hide:all;display:none'>三号</span><p style='visibility:hidden'>看不见</p>"
            "<p style='display:block'>显示的块</p></body></html>").encode()
    lines = [l.strip() for l in read_report_bytes("r.html", html).splitlines() if l.strip()]
    assert lines == ["积极开展政府开放日活动", "显示的块"]


@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n ", "empty file"),
    ("random.txt", bytes(range(256)) * 40, "binary"),
    ("fake.pdf", b"this is not a pdf", "not a PDF"),
    ("truncated.pdf", None, "damaged or truncated PDF"),
    ("broken.docx", b"PK\x03\x04garbage", "not a readable DOCX"),
    ("report.xls", b"abc", "unsupported file type"),
])
def test_bad_files_get_a_one_line_reason(name, data, reason):
    if data is None:
        data = _pdf(["灵武市2020年政府信息公开工作年度报告"])[:400]
    with pytest.raises(IngestError) as err:
        read_report_bytes(name, data)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_pdf_without_text_layer():
    """A page without text is read by OCR; when that finds nothing either, or OCR is off, the
    file's reason says so."""
    from reportlab.pdfgen import canvas

    from indexer.ingest import extract_report_bytes

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 200, 200, fill=1)
    c.save()
    with pytest.raises(IngestError, match=r"^scanned PDF: OCR found no text on its 1 page\(s\)$"):
        read_report_bytes("scan.pdf", buf.getvalue())
    with pytest.raises(IngestError, match=r"^PDF has no text layer \(scanned image\?\); OCR is off"):
        extract_report_bytes("scan.pdf", buf.getvalue(), ocr=False)


def test_encrypted_pdf():
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    enc = pdfencrypt.StandardEncryption("secret", ownerPassword="owner", canPrint=0)
    c = canvas.Canvas(buf, encrypt=enc)
    c.setFont("STSong-Light", 12)
    c.drawString(50, 800, "政府信息公开工作年度报告")
    c.save()
    with pytest.raises(IngestError, match="encrypted"):
        read_report_bytes("locked.pdf", buf.getvalue())


def test_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes("政务公开".encode() * 1000)
    with pytest.raises(IngestError, match="too large"):
        read_report_file(path, max_bytes=1000)


def test_pdf_table_cells_come_out_tab_separated_and_are_read_as_statistics():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    from indexer.stats import extract_stats

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 11)
    c.drawString(50, 800, "某局2018年政府信息公开工作年度报告 open data")
    rows = [("统计指标", "单位", "统计数"), ("一、主动公开情况", "", ""), ("（一）主动公开政府信息数", "条", "22"),
            ("三、依申请公开情况", "", ""), ("（一）收到申请数", "件", "3")]
    for i, row in enumerate(rows):
        for x, cell in zip((50, 330, 420), row):
            c.drawString(x, 760 - 20 * i, cell)
    c.save()
    text = read_report_bytes("t.pdf", buf.getvalue())
    assert "某局2018年政府信息公开工作年度报告 open data" in text
    assert "（一）主动公开政府信息数\t条\t22" in text
    values = {i.key: i.value for i in extract_stats(text).indicators}
    assert values["old.proactive.total"] == 22 and values["old.requests.received"] == 3
