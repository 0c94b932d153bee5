"""`nianbao collect` against a government site served on 127.0.0.1 (tests/gov_site.py).

The first run collects a listing page's reports (HTML in UTF-8 and GBK, PDF, DOC, DOCX, one
behind a redirect) and fails the 404, the slow page and the page robots.txt forbids, each with
its reason; the second run, after one report is edited and two are withdrawn, says so.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from indexer.cli import cli
from indexer.collect import PoliteClient, collect
from indexer.collect.fetch import USER_AGENT, decode_page
from indexer.collect.links import report_links
from indexer.collect.page import main_text, published, whole_page_text
from indexer.ingest import IngestError, read_report_bytes
from indexer.store import Store
from tests.gov_site import (FURNITURE, MENU, Route, Site, doc_bytes, docx_bytes, listing_page, pdf_bytes,
                            report_lines, report_page)

DELAY, TIMEOUT = 0.2, 0.5
LISTING = "/xxgk/nb/index.html"
HAS_SOFFICE = shutil.which("soffice") is not None
EDITED_FROM, EDITED_TO = report_lines("047_jingwei2022.txt")[2], "本年度新增一段说明：经纬街道全年主动公开政府信息318条。"

R2022, RGBK, RPDF, RDOCX, RDOC = "/xxgk/nb/2022.html", "/xxgk/nb/2018.html", "/files/2015nb.pdf", "/files/2012nb.docx", "/files/2023nb.doc"
REDIRECT, R404, SLOW, FORBIDDEN = "/old/2024.html", "/xxgk/nb/2019.html", "/xxgk/nb/2020.html", "/private/2021.html"
UNRELATED = ["/xxgk/tzgg/1.html", "/files/notice.pdf"]
# The listing's second page holds a page that only points at its attachment (详见附件), named 附件1.
PAGE2, STUB, STUB_PDF = "/xxgk/nb/index_1.html", "/xxgk/nb/2021.html", "/files/fj2021.pdf"


def client(**kw) -> PoliteClient:
    return PoliteClient(delay=DELAY, timeout=TIMEOUT, retries=1, backoff=0.05, **kw)


def build(site: Site, version: int) -> None:
    """Version 1 of the site; version 2 edits the 2022 report, 404s the PDF and unlinks the DOCX."""
    site.routes.clear()
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    links = [(R2022, "道里区经纬街道办事处2022年政府信息公开工作年度报告", "2023-01-20"),
             (RGBK, "贵阳市2018年政府信息公开工作年度报告", "2019-03-28"),
             (RPDF, "密云区2015年政府信息公开工作年度报告（PDF）", "2016-03-31"),
             (RDOCX, "山西省2012年政府信息公开工作年度报告.docx", "2013-03-30"),
             (RDOC, "龙游县2023年政府信息公开工作年度报告.doc", "2024-01-30"),
             (REDIRECT, "湖南省生态环境厅2024年政府信息公开工作年度报告", "2025-01-27"),
             (R404, "2019年政府信息公开工作年度报告", "2020-01-31"),
             (SLOW, "2020年政府信息公开工作年度报告", "2021-01-31"),
             (FORBIDDEN, "2021年政府信息公开年报", "2022-01-31"),
             (UNRELATED[0], "关于开展安全生产检查的通知", "2023-05-01"),
             (UNRELATED[1], "关于印发实施方案的通知", "2023-06-01"),
             (PAGE2, "下一页", "")]
    titles = {path: text for path, text, _ in links}
    jingwei = report_lines("047_jingwei2022.txt")
    if version == 2:
        links = [link for link in links if link[0] != RDOCX]
        jingwei = [EDITED_TO if line == EDITED_FROM else line for line in jingwei]
    site.page(LISTING, listing_page("政府信息公开年报", links))
    site.page(R2022, report_page(titles[R2022], jingwei, "2023-01-20 09:30"))
    site.page(RGBK, report_page(titles[RGBK], report_lines("027_guiyang2018.txt"), "2019-03-28", charset="gbk"),
              charset="gbk")
    site.routes[RPDF] = Route(pdf_bytes(report_lines("021_miyun2015.txt")), content_type="application/pdf") \
        if version == 1 else Route(b"gone", 404, "text/plain")
    site.routes[RDOCX] = Route(docx_bytes(report_lines("013_shanxi2012.txt")), content_type="application/octet-stream")
    site.routes[RDOC] = Route(DOC or b"\xd0\xcf\x11\xe0 not really a doc", content_type="application/msword")
    site.routes[REDIRECT] = Route(b"", 301, "text/plain", {"Location": "/xxgk/nb/2024.html"})
    site.page("/xxgk/nb/2024.html", report_page(titles[REDIRECT], report_lines("061_hunansthjt2024.txt"), "2025-01-27"))
    site.page(SLOW, report_page(titles[SLOW], report_lines("057_longyou2023.txt"), "2021-01-31"), sleep=TIMEOUT + 0.1)
    site.page(FORBIDDEN, report_page(titles[FORBIDDEN], report_lines("035_guihuaping2020.txt"), "2022-01-31"))
    site.page(UNRELATED[0], report_page(titles[UNRELATED[0]], ["请各单位开展安全生产检查。"], "2023-05-01"))
    site.routes[UNRELATED[1]] = Route(pdf_bytes(["关于印发实施方案的通知"]), content_type="application/pdf")
    site.page(PAGE2, listing_page("政府信息公开年报", [(STUB, "桃江县鲊埠回族乡2021年政府信息公开工作年度报告", "2022-01-18")]))
    site.page(STUB, report_page("桃江县鲊埠回族乡2021年政府信息公开工作年度报告", ["详见附件。"], "2022-01-18 10:00",
                                attachments=[(STUB_PDF, "附件1.pdf")]))
    site.routes[STUB_PDF] = Route(pdf_bytes(report_lines("045_zhabu2021.txt")), content_type="application/pdf")


DOC = doc_bytes(report_lines("057_longyou2023.txt"))


def run_cli(index_dir, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args])
    return result.exit_code, result.output


def collect_cli(site: Site, index_dir) -> dict:
    code, out = run_cli(index_dir, "collect", site.url(LISTING), "--json", "--no-embed", "--delay", str(DELAY),
                        "--timeout", str(TIMEOUT), "--retries", "1")
    assert code == 0, out
    return {r["url"].removeprefix(site.base): r for r in json.loads(out)["results"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The site collected twice through the CLI: version 1, then version 2."""
    site = Site()
    index_dir = tmp_path_factory.mktemp("collect") / "index"
    try:
        build(site, 1)
        first = collect_cli(site, index_dir)
        first_log = list(site.log)
        build(site, 2)
        site.log.clear()
        second = collect_cli(site, index_dir)
        yield {"site": site, "index": index_dir, "first": first, "first_log": first_log, "second": second,
               "second_log": list(site.log)}
    finally:
        site.stop()


def test_first_run_collects_every_report_and_fails_the_rest_with_a_reason(runs):
    first = runs["first"]
    expected_new = {R2022, RGBK, RPDF, RDOCX, REDIRECT, STUB_PDF} | ({RDOC} if HAS_SOFFICE else set())
    assert {u for u, r in first.items() if r["status"] == "new"} == expected_new
    assert all(first[u]["report_id"] for u in expected_new)
    assert first[R404]["status"] == "failed" and "404" in first[R404]["reason"]
    assert first[SLOW]["status"] == "failed" and "timed out" in first[SLOW]["reason"]
    assert first[FORBIDDEN]["status"] == "failed" and "robots.txt" in first[FORBIDDEN]["reason"]
    if HAS_SOFFICE:  # read through LibreOffice
        with Store(runs["index"]) as store:
            text = store.texts([first[RDOC]["report_id"]])[first[RDOC]["report_id"]][0]
        assert all(line in text for line in report_lines("057_longyou2023.txt"))
    else:
        assert first[RDOC]["status"] == "failed" and "LibreOffice" in first[RDOC]["reason"]
    # Listings, the page pointing at its attachment, and unrelated links are not reports.
    assert set(first) == expected_new | {R404, SLOW, FORBIDDEN, RDOC}


def test_unrelated_and_forbidden_pages_are_never_requested(runs):
    paths = {r.path for r in runs["first_log"]}
    assert not paths & {*UNRELATED, FORBIDDEN, "/m0.html"}
    assert sum(r.path == "/robots.txt" for r in runs["first_log"]) == 1


def test_politeness_from_the_server_log(runs):
    for log in (runs["first_log"], runs["second_log"]):
        ordered = sorted(log, key=lambda r: r.start)
        assert len(ordered) > 10
        for before, after in zip(ordered, ordered[1:]):
            assert after.start >= before.end, f"{after.path} overlapped {before.path}"
            # The slow page's handler sleeps on after the client gave up at TIMEOUT: the delay runs from then.
            # 0.05 s of slack: the server notes a request's end after writing it, late on a busy machine.
            released = min(before.end, before.start + TIMEOUT)
            assert after.start - released >= DELAY - 0.05, f"{after.path} came too soon after {before.path}"
        assert all(r.user_agent == USER_AGENT and r.user_agent.startswith("nianbao/") for r in log)


def test_provenance_in_reports_and_show(runs):
    code, out = run_cli(runs["index"], "reports", "--json")
    assert code == 0
    site, first = runs["site"], runs["first"]
    by_id = {r["id"]: r for r in json.loads(out)}
    page = by_id[first[R2022]["report_id"]]
    assert page["source_url"] == site.url(R2022)
    assert page["published"] == "2023-01-20"  # the page's own 发布时间
    assert page["retrieved"].endswith("+00:00")
    pdf = by_id[first[RPDF]["report_id"]]
    assert pdf["published"] == "2016-03-31"  # the date the listing prints beside the link
    attachment = by_id[first[STUB_PDF]["report_id"]]
    assert attachment["published"] == "2022-01-18"  # the date its page states
    assert "鲊埠回族乡" in (attachment["agency"] or "")
    code, out = run_cli(runs["index"], "show", first[REDIRECT]["report_id"], "--json")
    shown = json.loads(out)
    assert shown["source_url"] == site.url(REDIRECT) and shown["published"] == "2025-01-27"
    assert shown["versions"][0]["title"] == "湖南省生态环境厅2024年政府信息公开工作年度报告"


def test_report_text_is_the_article_without_furniture(runs):
    with Store(runs["index"]) as store:
        texts = store.texts([runs["first"][u]["report_id"] for u in (R2022, RGBK, REDIRECT)])
    for (text, _), name in zip((texts[runs["first"][u]["report_id"]] for u in (R2022, RGBK, REDIRECT)),
                               ("047_jingwei2022.txt", "027_guiyang2018.txt", "061_hunansthjt2024.txt")):
        for line in report_lines(name):
            assert line in text  # the GBK page too, read right
        assert not [f for f in FURNITURE[1:] if f in text]
        assert not set(MENU) & {line.strip() for line in text.splitlines()}


def test_second_run_marks_changed_removed_and_unchanged(runs):
    first, second = runs["first"], runs["second"]
    assert second[R2022]["status"] == "changed"
    assert second[R2022]["previous_report_id"] == first[R2022]["report_id"] != second[R2022]["report_id"]
    assert second[RPDF]["status"] == "removed" and "404" in second[RPDF]["reason"]
    assert second[RPDF]["report_id"] == first[RPDF]["report_id"]  # the copy is kept
    assert second[RDOCX]["status"] == "removed" and "no longer linked" in second[RDOCX]["reason"]
    assert second[RGBK]["status"] == second[REDIRECT]["status"] == "unchanged"
    # Unchanged pages are asked for conditionally (ETag) and answered 304.
    assert any(r.conditional for r in runs["second_log"] if r.path == RGBK)


def test_both_versions_kept_diff_and_withdrawn_marked(runs):
    index, site, first, second = runs["index"], runs["site"], runs["first"], runs["second"]
    code, out = run_cli(index, "reports", "--json")
    by_id = {r["id"]: r for r in json.loads(out)}
    assert first[R2022]["report_id"] in by_id and second[R2022]["report_id"] in by_id
    assert len(by_id[second[R2022]["report_id"]]["versions"]) == 2
    assert by_id[first[RPDF]["report_id"]]["source_status"] == "removed"
    code, out = run_cli(index, "diff", site.url(R2022))
    assert code == 0
    assert f"-{EDITED_FROM}" in out and f"+{EDITED_TO}" in out
    code, out = run_cli(index, "sources", "--status", "removed")
    assert out.count("已撤下") == 2 and site.url(RPDF) in out and site.url(RDOCX) in out


class Interrupting(PoliteClient):
    """A client whose run is interrupted (Ctrl-C) at its n-th page."""

    def __init__(self, stop_at: int, **kw) -> None:
        super().__init__(**kw)
        self.left = stop_at

    def get(self, url: str, **kw):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt
        return super().get(url, **kw)


def test_an_interrupted_run_resumes_without_fetching_again(tmp_path, monkeypatch):
    from indexer.ingest import doc

    monkeypatch.setattr(doc, "soffice", lambda: None)  # the .doc's 3 s conversion is tested above
    site = Site()
    try:
        build(site, 1)
        with pytest.raises(KeyboardInterrupt), Interrupting(4, delay=DELAY, timeout=TIMEOUT, retries=0) as stopped:
            collect([site.url(LISTING)], tmp_path, client=stopped)
        assert (tmp_path / "collect-journal.json").exists()
        with client() as resumed:
            summary = collect([site.url(LISTING)], tmp_path, client=resumed)
    finally:
        site.stop()
    new = {r.url.removeprefix(site.base) for r in summary.results if r.status == "new"}
    assert new == {R2022, RGBK, RPDF, RDOCX, REDIRECT, STUB_PDF}
    assert site.requested(LISTING) == site.requested(R2022) == site.requested(RGBK) == 1
    assert not (tmp_path / "collect-journal.json").exists()


def test_doc_without_libreoffice_gives_the_reason(monkeypatch):
    from indexer.ingest import doc

    monkeypatch.setattr(doc, "soffice", lambda: None)
    with pytest.raises(IngestError, match="LibreOffice, which is not installed"):
        read_report_bytes("2023nb.doc", b"\xd0\xcf\x11\xe0 an old Word file")


def test_links_followed_from_a_listing():
    html = listing_page("政府信息公开年报", [("/a/2022.html", "2022年政府信息公开工作年度报告", "2023-01-20"),
                                          ("/a/notice.pdf", "关于印发实施方案的通知", "2023-02-01"),
                                          ("list_2.html", "下一页", "")])
    links = report_links(html, "http://127.0.0.1:1/a/index.html", page_is_about_a_report=False)
    assert [(l.url, l.kind, l.date) for l in links] == [
        ("http://127.0.0.1:1/a/2022.html", "report", "2023-01-20"),
        ("http://127.0.0.1:1/a/list_2.html", "listing", None)]


def test_gbk_page_decoded_and_dated():
    lines = report_lines("027_guiyang2018.txt")
    data = report_page("贵阳市2018年政府信息公开工作年度报告", lines, "2019-03-28", charset="gbk").encode("gbk")
    html = decode_page(data, "text/html")
    assert lines[0] in main_text(html)
    assert published(whole_page_text(html)) == "2019-03-28"


def _source_panel_script() -> None:
    import os

    from search_app import provenance, state

    with state.store() as store:
        report = store.report(os.environ["NIANBAO_TEST_REPORT"])
    provenance.source_panel(report)
    kept = provenance.status_filter()
    import streamlit as st

    st.text(f"kept: {sorted(kept) if kept is not None else 'all'}")


def test_app_shows_source_dates_versions_and_withdrawal(runs, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("NIANBAO_HOME", str(runs["index"]))
    monkeypatch.setenv("NIANBAO_TEST_REPORT", runs["second"][R2022]["report_id"])
    at = AppTest.from_function(_source_panel_script, default_timeout=30).run()
    assert not at.exception
    caption = at.caption[0].value
    assert "2023-01-20" in caption and "收集于" in caption
    assert f"+{EDITED_TO}" in at.code[0].value  # the diff of the two versions
    at.segmented_control[0].set_value("已撤下").run()
    kept = at.text[0].value
    assert runs["first"][RPDF]["report_id"] in kept and runs["second"][R2022]["report_id"] not in kept
    monkeypatch.setenv("NIANBAO_TEST_REPORT", runs["first"][RPDF]["report_id"])
    at = AppTest.from_function(_source_panel_script, default_timeout=30).run()
    assert "已撤下" in at.error[0].value


def test_addresses_from_a_file_are_checked_before_anything_is_fetched(tmp_path):
    listed = tmp_path / "sites.txt"
    listed.write_text("# 年报栏目\nhttp://127.0.0.1:1/nb/index.html\nwww.example.gov.cn/nb/\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--index-dir", str(tmp_path / "index"), "collect", "--from", str(listed)])
    assert result.exit_code == 2 and "not a web address: www.example.gov.cn/nb/" in result.output
    result = CliRunner().invoke(cli, ["--index-dir", str(tmp_path / "index"), "collect"])
    assert result.exit_code == 2 and "give a URL or --from FILE" in result.output
    assert not (tmp_path / "index").exists()


def test_the_corpus_page_collects_from_an_address(tmp_path, monkeypatch):
    from tests.test_app import no_failure, open_page

    site = Site()
    try:
        name = "047_jingwei2022.txt"
        site.page("/ndbg/index.html", listing_page("政府信息公开年报", [("/ndbg/r1.html", "2022年政府信息公开工作年度报告", "2023-01-20")]))
        site.page("/ndbg/r1.html", report_page("2022年政府信息公开工作年度报告", report_lines(name), "2023-01-20"))
        monkeypatch.setenv("NIANBAO_HOME", str(tmp_path / "index"))
        at = open_page("corpus")
        at.text_area[0].input(site.url("/ndbg/index.html"))
        next(b for b in at.button if b.label == "收集并加入索引").click().run(timeout=120)
        no_failure(at)
        assert any(s.value.startswith("新增 1") for s in at.success)
        table = next(d.value for d in at.dataframe if "网址" in d.value.columns)
        assert table["网址"].tolist() == [site.url("/ndbg/r1.html")] and table["结果"].tolist() == ["新增"]
    finally:
        site.stop()
