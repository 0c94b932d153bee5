"""A small government site on 127.0.0.1 for the collector's tests, built from real report text.

A listing page titled 政府信息公开年报 links report pages (one in GBK), PDF, DOC and DOCX
attachments, a redirect, a 404, a slow page, a page robots.txt forbids, and unrelated links.
Every request is logged with its start and end times, its path and its headers.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

REALWORLD = Path(__file__).parent / "data" / "realworld_shared"
FURNITURE = ["当前位置：首页 > 政务公开 > 政府信息公开年报", "字号：大 中 小", "语音阅读", "打印本页", "关闭窗口",
             "主办单位：示例市人民政府办公室", "网站标识码：1234000001"]
MENU = ["首页", "政务公开", "政务服务", "互动交流", "走进示例"]


def real_text(name: str) -> str:
    """A real report's text, without the broken last character the excerpt was cut at."""
    return (REALWORLD / name).read_text(encoding="utf-8", errors="ignore").rstrip("\ufffd").strip()


def report_lines(name: str) -> list[str]:
    return [line.strip() for line in real_text(name).splitlines() if line.strip()]


def _chrome(title: str, body: str, charset: str) -> str:
    menu = "".join(f'<li><a href="/m{i}.html">{m}</a></li>' for i, m in enumerate(MENU))
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{title}</title></head><body><div class=\"header\"><ul class=\"nav\">{menu}</ul></div>"
            f"<div class=\"crumb\">{FURNITURE[0]}</div>{body}"
            f"<div class=\"footer\"><p>{FURNITURE[5]}</p><p>{FURNITURE[6]}</p>"
            f'<a href="http://www.gov.cn/">中国政府网</a></div></body></html>')


def report_page(title: str, lines: list[str], published: str, *, charset: str = "utf-8",
                attachments: list[tuple[str, str]] = ()) -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in lines)
    files = "".join(f'<p>附件：<a href="{href}">{text}</a></p>' for href, text in attachments)
    tools = f'<div class="tools">{FURNITURE[1]} <a href="#">{FURNITURE[2]}</a> <a href="#">{FURNITURE[3]}</a>' \
            f' <a href="#">{FURNITURE[4]}</a></div>'
    body = (f'<div class="article"><h1>{title}</h1><div class="info">发布时间：{published} 来源：示例市</div>{tools}'
            f'<div class="content">{paragraphs}{files}</div></div>')
    return _chrome(title, body, charset)


def listing_page(title: str, links: list[tuple[str, str, str]]) -> str:
    items = "".join(f'<li><a href="{href}" title="{text}">{text}</a><span>{date}</span></li>' for href, text, date in links)
    return _chrome(title, f'<div class="list"><h2>{title}</h2><ul>{items}</ul></div>', "utf-8")


def pdf_bytes(lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in lines:
        for start in range(0, len(line), 38):
            if y < 60:
                c.showPage()
                y = 800
            c.setFont("STSong-Light", 12)
            c.drawString(40, y, line[start:start + 38])
            y -= 18
    c.save()
    return buf.getvalue()


def docx_bytes(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def doc_bytes(lines: list[str]) -> bytes | None:
    """An old Word .doc made by LibreOffice from a .docx; None where LibreOffice is not installed."""
    program = shutil.which("soffice")
    if program is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "r.docx"
        source.write_bytes(docx_bytes(lines))
        subprocess.run([program, f"-env:UserInstallation={Path(tmp, 'p').as_uri()}", "--headless",
                        "--convert-to", "doc", "--outdir", tmp, str(source)], capture_output=True, timeout=120)
        return (Path(tmp) / "r.doc").read_bytes()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0


@dataclass
class Request:
    path: str
    start: float
    end: float
    user_agent: str
    conditional: bool


class Site:
    """Routes by path; ETag and If-None-Match (304) like a real server; a log of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Request] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                start = time.monotonic()
                path = unquote(urlsplit(self.path).path)
                route = site.routes.get(path, Route(b"not found", 404, "text/plain"))
                time.sleep(route.sleep)
                etag = '"' + hashlib.sha1(route.body).hexdigest() + '"'
                conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
                try:
                    if route.status == 200 and self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.end_headers()
                    else:
                        self.send_response(route.status)
                        self.send_header("Content-Type", route.content_type)
                        if route.status == 200:
                            self.send_header("ETag", etag)
                        for name, value in route.headers.items():
                            self.send_header(name, value)
                        self.send_header("Content-Length", str(len(route.body)))
                        self.end_headers()
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass
                site.log.append(Request(path, start, time.monotonic(), self.headers.get("User-Agent", ""), conditional))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, html: str, charset: str = "utf-8", **kw) -> None:
        self.routes[path] = Route(html.encode(charset), content_type=f"text/html; charset={charset}"
                                  if charset == "utf-8" else "text/html", **kw)

    def requested(self, path: str) -> int:
        return sum(r.path == path for r in self.log)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
