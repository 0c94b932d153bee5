"""Which reader gets an HTML report page's text right: the project's HTML reader on the whole page,
trafilatura's plain text, trafilatura's article laid out by the project's reader, or the densest
block laid out by the project's reader (what `nianbao collect` uses).

Each of the 30 real reports in tests/data/realworld_shared (or --dir) is put into four common government
page layouts (a div site, an old table-layout site, an xxgk page with its metadata table, and
paragraphs pasted from Word, each its own <div>). A page
is read right when every line of the report is in the output and no line of furniture is.
A real 2021-template page with its statistics tables (tests/data/lingwu_gov_2020.html) checks that
table rows keep their cells apart (tab-separated), which the statistics reader needs.

    python bench/collect_reader.py [--dir tests/data/realworld_shared]
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

import trafilatura

from indexer.collect.page import main_text, whole_page_text

MENU = ["首页", "政务公开", "政务服务", "互动交流", "走进本市", "专题专栏"]
FURNITURE = ["当前位置：首页 > 政务公开 > 政府信息公开年报", "字号：大 中 小", "语音阅读", "打印本页", "关闭窗口",
             "主办单位：本市人民政府办公室", "网站标识码：1234000001", "相关链接", "扫一扫在手机打开当前页"]
_NOT_BODY = re.compile(r"字号|字体|语音|发布时间|发布日期|发文日期|当前位置|首页|浏览次数|索引号|发布机构|来源|打印|关闭")


def _menu() -> str:
    return "".join(f'<li><a href="/m{i}.html">{m}</a></li>' for i, m in enumerate(MENU))


def div_site(title: str, lines: list[str]) -> str:
    body = "".join(f"<p>{line}</p>" for line in lines)
    return (f"<html><head><title>{title}</title></head><body><ul class=nav>{_menu()}</ul>"
            f"<div class=crumb>{FURNITURE[0]}</div><div class=article><h1>{title}</h1>"
            f"<div class=tools>{FURNITURE[1]} <a>{FURNITURE[2]}</a> <a>{FURNITURE[3]}</a> <a>{FURNITURE[4]}</a></div>"
            f"<div class=content>{body}</div></div><div class=footer><p>{FURNITURE[5]}</p><p>{FURNITURE[6]}</p>"
            f"</div></body></html>")


def table_site(title: str, lines: list[str]) -> str:
    body = "<br>".join(f"&nbsp;&nbsp;{line}" for line in lines)
    return (f"<html><head><title>{title}</title></head><body><table width=1000><tr><td colspan=2>{_menu()}</td></tr>"
            f"<tr><td width=200><table><tr><td><a href=/a>{MENU[1]}</a></td></tr><tr><td><a href=/b>{MENU[2]}</a>"
            f"</td></tr></table></td><td><table><tr><td>{FURNITURE[0]}</td></tr><tr><td align=center><b>{title}</b>"
            f"</td></tr><tr><td>{FURNITURE[1]} {FURNITURE[3]} {FURNITURE[4]}</td></tr><tr><td class=zw>{body}</td></tr>"
            f"</table></td></tr><tr><td colspan=2>{FURNITURE[5]} {FURNITURE[6]}</td></tr></table></body></html>")


def xxgk_site(title: str, lines: list[str]) -> str:
    body = "".join(f"<p>{line}</p>" for line in lines)
    meta = ("<table class=meta><tr><td>索引号</td><td>000000/2025-01</td><td>发布机构</td><td>本市人民政府</td></tr>"
            f"<tr><td>名称</td><td colspan=3>{title}</td></tr></table>")
    related = "".join(f'<li><a href="/r{i}.html">其他文件{i}</a></li>' for i in range(6))
    return (f"<html><head><title>{title}</title></head><body><div class=top>{_menu()}</div>"
            f"<div class=crumb>{FURNITURE[0]}</div>{meta}<div class=zoom>{FURNITURE[1]}</div>"
            f"<div id=zoom>{body}</div><div class=share>{FURNITURE[8]}</div><div class=rel><h3>{FURNITURE[7]}</h3>"
            f"<ul>{related}</ul></div><div class=foot>{FURNITURE[5]} {FURNITURE[6]}</div></body></html>")


def word_site(title: str, lines: list[str]) -> str:
    """A page pasted from Word: every paragraph its own <div>, the title in a <div> too."""
    body = "".join(f'<div style="text-indent:2em"><span>{line}</span></div>' for line in lines)
    return div_site(title, []).replace("<div class=content></div>", f"<div class=content>{body}</div>")


READERS = {
    "whole page (ingest/html.py)": whole_page_text,
    "trafilatura text": lambda page: trafilatura.extract(page, include_tables=True, favor_recall=True) or "",
    "trafilatura article + ingest/html.py": lambda page: whole_page_text(
        trafilatura.extract(page, output_format="html", include_tables=True, favor_recall=True) or ""),
    "densest block + ingest/html.py (collect)": main_text,
}


def _squash(text: str) -> str:
    return "".join(text.split())


def read_right(output: str, lines: list[str]) -> bool:
    out = _squash(output)
    body = [line for line in lines if len(line) >= 8 and not _NOT_BODY.search(line)]
    source = _squash("".join(lines))  # furniture a saved page already holds is the report's text here
    return all(_squash(line) in out for line in body) and not any(
        _squash(f) in out for f in FURNITURE + MENU[2:] if _squash(f) not in source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parents[1] / "tests" / "data" / "realworld_shared")
    args = parser.parse_args()
    files = sorted(args.dir.glob("*.txt"))
    layouts = {"div": div_site, "table": table_site, "xxgk": xxgk_site, "word": word_site}
    print(f"{len(files)} real reports × {len(layouts)} layouts")
    for name, reader in READERS.items():
        right = {layout: 0 for layout in layouts}
        for path in files:
            lines = [line.strip() for line in path.read_text(errors="ignore").rstrip("\ufffd").splitlines() if line.strip()]
            escaped = [html.escape(line) for line in lines]
            for layout, build in layouts.items():
                title = escaped[0] if len(lines[0]) <= 40 else "政府信息公开工作年度报告"
                right[layout] += read_right(reader(build(title, escaped)), lines)
        total = sum(right.values())
        print(f"{name:40} {total:3}/{len(files) * len(layouts)} read right  "
              + "  ".join(f"{k} {v}/{len(files)}" for k, v in right.items()))
    tables = Path(__file__).resolve().parents[1] / "tests" / "data" / "lingwu_gov_2020.html"
    page = tables.read_text()
    wrapped = div_site("灵武市2020年政府信息公开工作年度报告", []).replace("<div class=content></div>",
                                                                  "<div class=content>" + page.split("<body>")[1].split("</body>")[0] + "</div>")
    print("\ntable rows with their cells tab-separated, lingwu_gov_2020.html in a div site:")
    for name, reader in READERS.items():
        out = reader(wrapped)
        print(f"{name:40} {sum(chr(9) in line for line in out.splitlines()):3} rows")


if __name__ == "__main__":
    main()
