"""End to end: `nianbao app` on a free port with an empty index, driven by Debian's Chromium.

The app indexes the bundled corpus on first start (and computes its vectors); the test then
searches, opens the report, compares the problem sections and visits the similar, statistics
and corpus pages, saving a screenshot of each step to `$NIANBAO_ARTIFACTS` (default
`test-artifacts/`) and the measured search latency, with the machine load, to
`search-latency.txt` there: a number to read (README, Performance), not a pass/fail timing,
which a busy CI machine would turn into a flaky test.
Without Chromium or Playwright it is skipped, with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("NIANBAO_ARTIFACTS") or ROOT / "test-artifacts").resolve()
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT_S = 120
FIRST_START_TIMEOUT_S = 300  # indexing the samples and, the first time on a machine, converting the model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nianbao_command() -> list[str]:
    script = Path(sys.executable).parent / "nianbao"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from indexer.cli import main; main()"]


def wait_healthy(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nianbao app exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"nianbao app did not answer within {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")


@pytest.fixture
def app_url(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NIANBAO_HOME"}
    log = tmp_path / "app.log"
    try:
        yield from served_app(nianbao_command(), tmp_path / "index", log, env)
    finally:
        if ARTIFACTS.is_dir():
            shutil.copy(log, ARTIFACTS / "app.log")


def served_app(command: list[str], index_dir: Path, log: Path, env: dict[str, str]):
    """`nianbao app` (`command` runs nianbao) on a free port of 127.0.0.1, its output in `log`;
    yields its address once it answers, and stops it after."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([*command, "--index-dir", str(index_dir), "app", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser():
    yield from launched_chromium(ARTIFACTS)


def launched_chromium(artifacts: Path):
    """Debian's chromium driven by Playwright, screenshots going to `artifacts`; the test is
    skipped, saying why, where the browser or the package is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium chromium-driver fonts-noto-cjk; "
                    ".ci/run does this)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[test]')")
    artifacts.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser test artifacts: {artifacts}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page, name: str) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


CAPTIONS = "[...document.querySelectorAll('[data-testid=stCaptionContainer]')].map(e => e.innerText).join('|')"


# Every result card links to its report with the query; Streamlit replaces elements one by one,
# so results are drawn when the caption is new and no card still links with an older query.
RESULTS_DRAWN = """([q, before]) => {
  const c = """ + CAPTIONS + """;
  const links = [...document.querySelectorAll('a[href*="report?"]')];
  return new URLSearchParams(location.search).get('q') === q && c.includes('毫秒') && c !== before
    && links.length > 0 && links.every(a => new URL(a.href).searchParams.get('q') === q);
}"""


def search(page, query: str) -> float:
    """Type a query and press Enter; seconds until the page shows that query's results, all of them."""
    before = page.evaluate(CAPTIONS)
    box = page.get_by_placeholder("例如", exact=False)
    box.fill(query)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(RESULTS_DRAWN, arg=[query, before], timeout=20_000, polling=20)
    return time.perf_counter() - started


def test_search_report_compare_in_chromium(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.set_default_timeout(30_000)
    (ARTIFACTS / "failure.png").unlink(missing_ok=True)
    try:
        walk(page, app_url)
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        print(f"failure screenshot: {ARTIFACTS / 'failure.png'} at {page.url}")
        raise


def walk(page, app_url: str) -> None:
    """The journalist's path through every page, asserting what they should see on each."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(app_url + "/")
    try:
        page.get_by_text("首次启动").wait_for(timeout=20_000)
        page.locator("[data-testid=stProgress]").first.wait_for(timeout=20_000)
        shot(page, "00-first-start")
    except PlaywrightTimeout:
        print("the first-start indexing finished before it could be photographed")
    page.get_by_placeholder("例如", exact=False).wait_for(timeout=FIRST_START_TIMEOUT_S * 1000)
    shot(page, "01-start")

    latency = search(page, "政府开放日")
    card = page.locator(".nb-meta", has_text="灵武市人民政府")
    card.wait_for()
    assert "出现 2 次" in card.inner_text()
    marks = page.locator(".nb-snippet mark")
    assert marks.count() == 2
    assert marks.all_inner_texts() == ["政府开放日", "政府开放日"]
    assert quote("政府开放日") in page.url
    shot(page, "02-search")

    queries = ("依申请公开", "不予公开 OR 政府开放日", "行政复议", "政府开放日", "信息公开 year:2020", "不予公开", "政府开放日")
    timings = [latency] + [search(page, q) for q in queries]
    load = os.getloadavg()[0]
    line = (f"search latency in Chromium, Enter to results drawn: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms; "
            f"median {statistics.median(timings) * 1000:.0f} ms; load average {load:.1f} on {os.cpu_count()} CPUs")
    (ARTIFACTS / "search-latency.txt").write_text(line + "\n", encoding="utf-8")
    print(line)

    page.get_by_role("link", name="灵武市2020年政府信息公开工作年度报告").click()
    page.get_by_text("命中 2 处").wait_for()
    assert "/report?" in page.url
    section_marks = page.locator(".nb-text mark")
    assert section_marks.count() == 2
    section_marks.first.scroll_into_view_if_needed()
    shot(page, "03-report")

    report_id = parse_qs(urlparse(page.url).query)["id"][0]
    page.get_by_role("link", name="比较存在的问题").click()
    page.wait_for_url("**/compare?**")
    page.wait_for_function("document.querySelectorAll('.nb-column-head').length >= 3")
    heads = page.locator(".nb-column-head").all_inner_texts()
    assert len(heads) >= 2 and any("灵武市人民政府" in h for h in heads), heads
    assert page.locator(".nb-para").count() >= 4
    shot(page, "04-compare")

    page.goto(app_url + "/?q=" + quote("政府开放日") + "&mode=exact")
    page.locator(".nb-snippet mark").first.wait_for()
    assert page.locator(".nb-snippet mark").count() == 2

    page.goto(app_url + "/similar?id=" + quote(report_id))
    page.get_by_text("字相同的段落").or_(page.get_by_text("两段共有的措辞")).first.wait_for()
    assert page.get_by_text("没有 ID 为").count() == 0
    if importlib.util.find_spec("indexer.semantic.similar"):
        # the first start computed the vectors, so neighbours and their section pairs show
        page.locator(".nb-pairs").first.wait_for()
        assert page.locator(".nb-pairs").count() == 4
        assert page.get_by_text("需要段落向量").count() == 0
    shot(page, "05-similar")

    page.goto(app_url + "/stats")
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for()
    page.wait_for_timeout(800)
    shot(page, "06-stats")

    page.goto(app_url + "/corpus")
    page.get_by_text("语料概况").wait_for()
    page.locator("[data-testid=stMetricValue]").first.wait_for()
    shot(page, "07-corpus")
