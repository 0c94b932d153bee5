"""A journalist's journeys through the search desk in Chromium, several steps each.

The app runs on a free port of 127.0.0.1 over the bundled samples and the 30 real reports of
tests/data/realworld_shared. At every step the counts the page shows (results and every facet value)
are checked against the library (`indexer.query.run_search` with the same filters), and two
checks run on every page: no request leaves the machine (any other host is recorded and
refused), and the visible text holds no Latin word outside a short allow-list. Screenshots of
every step go to `$NIANBAO_ARTIFACTS/journeys` (default `test-artifacts/journeys`), the README's
three among them; with NIANBAO_SCREENSHOTS=docs/img those three are written there too, which is
how the README's images are made. The time from each action to the page showing its answer is
printed and written to `timings.txt` beside the screenshots, not asserted.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from test_app_browser import ARTIFACTS, launched_chromium, served_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REALWORLD = DATA / "realworld_shared"
SHOTS = ARTIFACTS / "journeys"
README_SHOTS = os.environ.get("NIANBAO_SCREENSHOTS")  # docs/img: the README's images are taken here
FACETS = {"年份": "year", "省份": "province", "城市": "city", "机关": "agency", "章节": "section"}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Latin words a user may see: file types and MB, the query language (its operators, field names and
# section kinds, which people type), ID (as Chinese software writes 报告 ID) and the program's
# name. Report ids (hex) and file names also pass.
ALLOWED_WORDS = {"PDF", "CSV", "XLSX", "DOCX", "DOC", "HTML", "TXT", "MB", "OR", "NOT", "ID", "nianbao"}


def allowed_words() -> set[str]:
    from indexer.core.kinds import SECTION_KINDS
    from indexer.core.querylang import QUERY_FIELDS

    return ALLOWED_WORDS | set(QUERY_FIELDS) | set(SECTION_KINDS)


def latin_words(text: str) -> list[str]:
    allowed = allowed_words()
    found = re.findall(r"[\w.\-]*[A-Za-z][\w.\-]*", text, flags=re.ASCII)
    return [w for w in found if w not in allowed and not re.fullmatch(r"[0-9a-f]{6,}", w)
            and not re.fullmatch(r"[\w.\-]*\.(txt|pdf|docx?|html?)", w, flags=re.I)  # 扫描件.pdf: the name's end
            and not re.fullmatch(r"\d+(\.\d+)?[KMG]B", w)  # a file's size, as the uploader writes it
            and not re.fullmatch(r"(https?|www\.[\w.\-]+|[\w\-]+(\.[\w\-]+)*\.(cn|com|org|net)[\w.\-]*)", w)]  # web addresses


# --- the app and the browser -------------------------------------------------------------


@pytest.fixture(scope="module")
def journey_index(tmp_path_factory) -> Path:
    from indexer.indexing import index_paths
    from search_app.state import BUNDLED_CORPUS

    samples, others = tmp_path_factory.mktemp("journey-samples"), tmp_path_factory.mktemp("journey-reports")
    for path in BUNDLED_CORPUS.glob("*.txt"):
        shutil.copy(path, samples / path.name)
    for path in REALWORLD.glob("*.txt"):
        shutil.copy(path, others / path.name)
    index_dir = tmp_path_factory.mktemp("journey-index")
    # Vectors for the five samples only: semantic search covers 5 of 35 reports, and says so.
    assert index_paths([samples], index_dir, embed=True).counts()["added"] == 5
    assert index_paths([others], index_dir, embed=False).counts()["added"] == 30
    return index_dir


@pytest.fixture(scope="module")
def app_url(journey_index, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "NIANBAO_HOME"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    log = tmp_path_factory.mktemp("journey-app") / "app.log"
    yield from served_app([sys.executable, "-c", "from indexer.cli import main; main()"], journey_index, log, env)


@pytest.fixture(scope="module")
def chromium():
    for browser in launched_chromium(SHOTS):
        (SHOTS / "timings.txt").unlink(missing_ok=True)
        yield browser


class Journey:
    """One browser tab on a journey: records every request, checks and photographs each step."""

    def __init__(self, browser, base: str, index_dir: Path, name: str) -> None:
        self.base, self.index_dir, self.name = base, index_dir, name
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                           accept_downloads=True)
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.step = 0
        self.drawn: list[float] = []  # seconds from an action (a search: once its URL is written) to its answer drawn

    def _route(self, route) -> None:
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith("data:") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()

    # --- what the page shows -------------------------------------------------------------

    def params(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.page.url).query)

    def facets(self) -> dict[str, list[tuple[str, int | None, bool]]]:
        """Facet name → (value label, count, checked) of each visible checkbox, in page order."""
        rows = self.page.evaluate("""() => {
          const out = []; let facet = null;
          for (const e of document.querySelectorAll('.nb-facet, [data-testid=stCheckbox]')) {
            if (e.classList.contains('nb-facet')) { facet = e.innerText.trim(); continue; }
            if (!e.querySelector('label').checkVisibility()) continue;  // behind a closed 更多
            out.push([facet, e.innerText.trim(), e.querySelector('input').checked]);
          }
          return out;
        }""")
        found: dict[str, list[tuple[str, int | None, bool]]] = {}
        for facet, label, checked in rows:
            match = re.fullmatch(r"(.*)（(\d+)）", label)
            value, count = (match.group(1), int(match.group(2))) if match else (label, None)
            found.setdefault(facet, []).append((value, count, checked))
        return found

    def wait_for(self, text: str, params: dict[str, list[str]], ticked: list[str]) -> None:
        """Until the page has finished a run showing `text`, its URL holding `params` and exactly
        the facet values `ticked` ticked, every element drawn (a widget's code loads on first use:
        a grey placeholder meanwhile). A click ticks a box and Back changes the URL at once, before
        the run: the URL the run writes and the text it draws are what tell it has run."""
        self.page.wait_for_function("""([text, params, ticked]) => {
          const app = document.querySelector('[data-testid=stApp]');
          const url = new URLSearchParams(location.search);
          const checked = [...document.querySelectorAll('[data-testid=stCheckbox]')]
            .filter(e => e.querySelector('input').checked).map(e => e.innerText.trim().replace(/（\\d+）$/, ''));
          return app && app.getAttribute('data-test-script-state') === 'notRunning'
            && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')
            && Object.entries(params).every(([k, v]) => JSON.stringify(url.getAll(k)) === JSON.stringify(v))
            && document.body.innerText.includes(text)
            && JSON.stringify(checked.sort()) === JSON.stringify([...ticked].sort());
        }""", arg=[text, params, ticked], timeout=30_000, polling=50)

    # --- the checks on every page --------------------------------------------------------

    def check(self, label: str) -> None:
        self.step += 1
        shot = SHOTS / f"{self.name}-{self.step:02d}-{label}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        drawn = ", ".join(f"{t * 1000:.0f}" for t in self.drawn)
        line = f"{self.name} {self.step:02d} {label}: pages drawn in {drawn or '-'} ms"
        print(line)
        with open(SHOTS / "timings.txt", "a", encoding="utf-8") as out:
            out.write(line + "\n")
        self.drawn = []
        assert not self.outside, f"requests left the machine: {self.outside}"
        # A snippet, a section or a paragraph is a report's own words; an icon's text is the name of
        # the glyph drawn (an arrow); a live region of one pixel is not seen (a list's "8 options
        # available." for screen readers, which no option of Streamlit's translates).
        text = self.page.evaluate("""() => {
          let text = document.body.innerText;
          const unseen = [...document.querySelectorAll('[aria-live]')].filter(e => e.getBoundingClientRect().width <= 1);
          for (const e of [...document.querySelectorAll('.nb-snippet, .nb-text, .nb-para, [data-testid=stIconMaterial], [data-testid*=Icon]'), ...unseen])
            if (e.innerText) text = text.split(e.innerText).join(' ');
          return text;
        }""")
        assert not latin_words(text), (label, latin_words(text))
        toolbars = self.page.evaluate("""() => [...document.querySelectorAll('[data-testid=stElementToolbar]')]
          .map(e => getComputedStyle(e).display)""")
        assert all(display == "none" for display in toolbars), (label, "a table's English toolbar shows", toolbars)

    def readme(self, name: str) -> None:
        """One of the README's images: the window as a reader sees it, kept with the artifacts and,
        with NIANBAO_SCREENSHOTS set, written where the README takes it from."""
        self.page.mouse.move(0, 0)  # no hover tooltip in the picture
        self.page.wait_for_timeout(600)  # charts finish drawing
        self.page.screenshot(path=str(SHOTS / f"readme-{name}.png"))
        if README_SHOTS:
            folder = (ROOT / README_SHOTS).resolve()
            folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(folder / f"{name}.png"))

    def timed(self, started: float) -> None:
        self.drawn.append(time.perf_counter() - started)

    # --- a journalist's actions ------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base + path)
        self.page.get_by_placeholder("例如", exact=False).wait_for()
        self.page.wait_for_function("""() => document.querySelector('[data-testid=stApp]')
          .getAttribute('data-test-script-state') === 'notRunning'
          && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')""")

    def settled(self) -> None:
        """Until the page's run has finished and nothing on it is stale or still loading."""
        self.page.wait_for_timeout(150)  # a click's rerun starts
        self.page.wait_for_function("""() => document.querySelector('[data-testid=stApp]')
          ?.getAttribute('data-test-script-state') === 'notRunning'
          && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')""")

    def goto(self, path: str, text: str) -> None:
        """Open `path` and wait until it shows `text` and has finished drawing."""
        started = time.perf_counter()
        self.page.goto(self.base + path)
        self.page.get_by_text(text).first.wait_for()
        self.settled()
        self.timed(started)

    def click(self, locator, text: str) -> None:
        """Click, then wait until the page shows `text` and has finished drawing."""
        started = time.perf_counter()
        locator.click()
        self.page.get_by_text(text).first.wait_for()
        self.settled()
        self.timed(started)

    def table(self, frame=None) -> list[list[str]]:
        """The rows a data table shows (header first), read from the grid's accessible cells."""
        frame = frame if frame is not None else self.page.locator("[data-testid=stDataFrame]").first
        frame.wait_for()
        frame.locator("[role=gridcell]").first.wait_for(state="attached")
        return frame.evaluate("""e => [...e.querySelectorAll('[role=row]')].map(r =>
          [...r.querySelectorAll('[role=columnheader], [role=gridcell]')].map(c => c.innerText.trim()))
          .filter(r => r.length)""")

    def table_until(self, ready, frame=None, timeout: float = 60) -> list[list[str]]:
        """`table()` once `ready(rows)` holds: a grid's cells are redrawn a moment after the run
        that changed them has finished."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.table(frame)
            if ready(rows) or time.monotonic() > deadline:
                return rows
            self.page.wait_for_timeout(100)

    def search(self, query: str) -> None:
        box = self.page.get_by_placeholder("例如", exact=False)
        box.fill(query)
        box.press("Enter")
        self.page.wait_for_function("q => new URLSearchParams(location.search).get('q') === q", arg=query)

    def mode(self, label: str) -> None:
        self.page.locator("[data-testid=stRadio] label", has_text=label).click()

    def toggle(self, facet: str, value: str) -> None:
        """Tick or untick a facet value, as shown (a checkbox); on an older page, pick it from its list."""
        boxes = self.page.locator("[data-testid=stCheckbox]").filter(has_text=re.compile(f"^{re.escape(value)}（"))
        if boxes.count():
            boxes.first.click()
            return
        box = self.page.locator("[data-testid=stSelectbox]").filter(has_text=facet)
        box.click()
        self.page.get_by_role("option", name=re.compile(f"^{re.escape(value)}（")).click()

    # --- the library's answer ------------------------------------------------------------

    def expect(self, query: str, chosen: dict[str, list[str]], mode: str = "exact") -> None:
        """The page shows what the library finds for `query` with `chosen`, counts included."""
        from indexer.query import run_search

        found = run_search(self.index_dir, query, filters(chosen), mode=mode, limit=1)
        text = (f"{found['total_reports']} 份报告，共 {found['total_occurrences']} 处" if found["total_reports"]
                else "没有找到匹配的报告")
        from indexer.core.kinds import SECTION_KINDS

        ticked = [SECTION_KINDS[v] if facet == "section" else v for facet, values in chosen.items() for v in values]
        params = {"q": [query], "mode": [] if mode == "exact" else [mode],
                  **{facet: chosen.get(facet, []) for facet in FACETS.values()}}
        started = time.perf_counter()
        try:
            self.wait_for(text, params, ticked)
            self.drawn.append(time.perf_counter() - started)
        except Exception as error:
            raise AssertionError(f"expected {text!r} for {query!r} {chosen} at {self.page.url}; "
                                 f"the page says: {self.page.inner_text('body')[:600]}") from error
        self.expect_facets(query, chosen, mode, found["total_reports"] > 0)

    def expect_facets(self, query: str, chosen: dict[str, list[str]], mode: str, any_found: bool) -> None:
        """Each visible facet value's count is what the library finds with that value chosen
        alone in its facet (and the other facets as they are); chosen values are ticked."""
        from indexer.core.kinds import SECTION_KINDS

        kinds = {label: kind for kind, label in SECTION_KINDS.items()}
        shown = self.facets()
        assert bool(shown) == any_found or chosen, shown
        for title, values in shown.items():
            facet = FACETS[title]
            for label, count, checked in values:
                value = kinds[label] if facet == "section" else label
                assert checked == (value in chosen.get(facet, [])), (title, label, checked)
                found = self.engine.search(query, filters({**chosen, facet: [value]}), mode=mode, limit=1)
                assert count == found["total_reports"], (title, label, count, found["total_reports"])


def filters(chosen: dict[str, list[str]]):
    from indexer.query import SearchFilters

    return SearchFilters(year=chosen.get("year") or None, sections=chosen.get("section", []),
                         province=chosen.get("province") or None, city=chosen.get("city") or None,
                         agency=chosen.get("agency") or None)


@pytest.fixture(scope="module")
def engine(journey_index):
    """The library's engine over the same index, to count what each facet value would find."""
    from indexer.query import Engine

    opened = Engine(journey_index)
    yield opened
    opened.close()


@pytest.fixture
def journey(chromium, app_url, journey_index, engine, request):
    trip = Journey(chromium, app_url, journey_index, request.node.name.removeprefix("test_"))
    trip.engine = engine
    try:
        yield trip
    finally:
        trip.page.screenshot(path=str(SHOTS / f"{trip.name}-last.png"), full_page=True)
        print(f"{trip.name}: last page {trip.page.url}")
        trip.close()


# --- the journeys ------------------------------------------------------------------------


NINGXIA = "宁夏回族自治区"


def test_a_facet_value_stays_a_value_across_new_searches_and_history(journey):
    """不予公开 → 宁夏 → 政府开放日 → 行政复议 kept the facet's label, 宁夏回族自治区（5）, as the
    filter and found nothing; Back and Forward then restore each search with its filter."""
    j = journey
    j.open()
    j.check("start")
    j.search("不予公开")
    j.expect("不予公开", {})
    j.check("query")
    j.toggle("省份", NINGXIA)
    j.expect("不予公开", {"province": [NINGXIA]})
    j.readme("search")
    j.check("province")
    for query in ("政府开放日", "行政复议"):
        j.search(query)
        j.expect(query, {"province": [NINGXIA]})
        j.check(query)
    assert "没有找到" not in j.page.inner_text("body")
    j.page.go_back()
    j.expect("政府开放日", {"province": [NINGXIA]})
    j.check("back")
    j.page.go_back()
    j.page.go_back()
    j.expect("不予公开", {})
    j.check("back-to-start")
    j.page.go_forward()
    j.expect("不予公开", {"province": [NINGXIA]})
    j.page.go_forward()
    j.page.go_forward()
    j.expect("行政复议", {"province": [NINGXIA]})
    j.check("forward")
    j.page.locator("a[href*='report?']").first.click()  # a report, and Back to the search
    j.page.get_by_text("返回检索结果").wait_for()
    j.check("report")
    j.page.go_back()
    j.expect("行政复议", {"province": [NINGXIA]})

    with j.page.expect_download() as download:
        j.page.get_by_role("button", name="导出 CSV").click()
    saved = download.value
    assert re.fullmatch(r"nianbao_检索_行政复议_\d{4}-\d{2}-\d{2}\.csv", saved.suggested_filename)
    rows = list(csv.reader(io.StringIO(Path(saved.path()).read_text(encoding="utf-8-sig"))))
    about = dict(r for r in rows if len(r) == 2)
    assert about["检索式"] == "行政复议" and about["筛选：省份"] == NINGXIA and about["软件"].startswith("nianbao ")
    header = next(r for r in rows if r and r[0] == "报告ID")
    assert {"省份", "城市", "区县", "出现次数"} <= set(header)


def test_year_and_province_can_be_joined_and_undone(journey):
    """Year 2018 → 宁夏 → a click anywhere said 年份「2018（3）」无法识别 and the facets vanished."""
    j = journey
    j.open()
    j.search("依申请公开")
    j.expect("依申请公开", {})
    j.toggle("年份", "2018")
    j.expect("依申请公开", {"year": ["2018"]})
    j.toggle("省份", NINGXIA)
    j.expect("依申请公开", {"year": ["2018"], "province": [NINGXIA]})
    j.check("year-province")
    j.toggle("年份", "2020")
    j.expect("依申请公开", {"year": ["2018", "2020"], "province": [NINGXIA]})
    assert "无法识别" not in j.page.inner_text("body")
    j.check("two-years")
    j.toggle("年份", "2018")
    j.expect("依申请公开", {"year": ["2020"], "province": [NINGXIA]})
    j.toggle("省份", NINGXIA)
    j.expect("依申请公开", {"year": ["2020"]})
    j.check("undone")
    j.page.go_back()
    j.expect("依申请公开", {"year": ["2020"], "province": [NINGXIA]})


def test_keyword_mode_counts_whole_words(journey):
    """公开不到位 in keyword mode counts 公开, 不 and 到位 where they are words, not 不 in 不断, in the
    sections holding all three."""
    from indexer.fulltext.analysis import words

    j = journey
    j.open("/search")  # the path the search page once had
    j.check("search-path")
    j.search("公开不到位")
    j.expect("公开不到位", {})
    j.mode("关键词")
    j.expect("公开不到位", {}, mode="keyword")
    marks = set(j.page.locator(".nb-snippet mark").all_text_contents())  # those behind 其余 N 段 too
    assert marks and marks <= set(words("公开不到位")), marks
    j.check("keyword")
    province = next(v for v, count, _ in j.facets()["省份"] if count)  # all three words in one section: 灵武 alone
    j.toggle("省份", province)
    j.expect("公开不到位", {"province": [province]}, mode="keyword")
    j.check("keyword-province")
    j.page.go_back()
    j.expect("公开不到位", {}, mode="keyword")
    j.page.go_back()
    j.expect("公开不到位", {})
    assert "mode" not in j.params()


def test_from_a_search_to_an_agencys_years_and_back(journey):
    """A search → one of its reports → the same agency's other years (机关) → Back to the report →
    Back to the search, which comes back whole."""
    j = journey
    j.open()
    j.search("政府开放日")
    j.expect("政府开放日", {})
    j.check("query")
    j.page.get_by_role("link", name="灵武市2020年政府信息公开工作年度报告").first.click()
    years = j.page.get_by_role("link", name="本机关历年报告")
    years.wait_for()
    j.check("report")
    years.click()
    j.page.get_by_text("跨年核对", exact=True).first.wait_for()
    j.page.wait_for_function("""() => document.querySelector('[data-testid=stApp]')
      .getAttribute('data-test-script-state') === 'notRunning'
      && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')""")
    assert "灵武市人民政府" in j.page.inner_text("body") and "agency" in j.params()
    j.page.locator("[data-testid=stDataFrame]").first.hover()  # where the table's own toolbar would show
    assert j.page.locator("[data-testid=stElementToolbar]").count()
    j.check("agency")
    j.page.go_back()
    j.page.get_by_role("link", name="本机关历年报告").wait_for()
    j.page.go_back()
    j.expect("政府开放日", {})
    j.check("back-to-search")


# --- uploads, statistics, watches and findings, meaning ---------------------------------------


UPLOADED = DATA / "realworld" / "101_honghu2021.txt"  # real reports the index does not hold yet
WATCHED = DATA / "realworld" / "104_wuhan2020.txt"
JUNK = DATA / "not_reports" / "notes.txt"
OUTCOMES = ("新增", "更新", "未变", "重复", "移除", "跳过")


def upload(j: Journey, paths: list[Path]) -> tuple[dict[str, int], list[list[str]]]:
    """Send `paths` through the 语料 page's uploader and 加入索引; the summary line's counts by
    outcome and the per-file table (header first)."""
    page = j.page
    sent: list[str] = []
    page.on("requestfinished", lambda r: sent.append(r.url) if "upload_file" in r.url and r.method == "PUT" else None)
    chooser = page.locator("[data-testid=stFileUploaderDropzoneInput]")
    chooser.set_input_files([])  # the same file chosen again must count as a new choice
    chooser.set_input_files([str(p) for p in paths])
    page.wait_for_function("n => document.querySelectorAll('[data-testid=stFileChip]').length === n", arg=len(paths))
    deadline = time.monotonic() + 60
    while len(sent) < len(paths) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(sent) == len(paths), f"{len(sent)} of {len(paths)} files reached the app"
    results = page.locator("[data-testid=stDataFrame]:visible").first  # not 无法读取的文件's, behind its expander
    before = j.table(results) if results.count() else None  # the previous upload's, until this one is drawn
    names = sorted(p.name for p in paths)
    started = time.perf_counter()
    page.get_by_role("button", name="加入索引", exact=True).click()
    summary = page.locator("[data-testid=stAlert]").filter(has_text="索引共").first
    summary.wait_for(timeout=120_000)
    j.settled()
    rows = j.table_until(lambda rows: rows != before and sorted(r[0] for r in rows[1:]) == names, results)
    j.timed(started)
    line = summary.inner_text()
    counts = {label: int(n) for label, n in re.findall(r"(新增|更新|未变|重复|移除|跳过) (\d+)", line)}
    return counts, rows


def unreadable(j: Journey) -> int:
    """The 语料 page's 无法读取的文件 count."""
    metric = j.page.locator("[data-testid=stMetric]").filter(has_text="无法读取的文件")
    return int(metric.locator("[data-testid=stMetricValue]").inner_text())


def test_uploads_new_duplicate_junk_and_oversized(journey, tmp_path):
    """A report is 新增; the same file again is 重复, not 新增; a file that is not a report and one
    over the size limit are 跳过 with their reason in Chinese, the first counted in 无法读取的文件;
    one over Streamlit's own limit is refused in the browser, in Chinese too. The summary counts
    are the table's; the report is then found by a phrase of its own."""
    from indexer.app_launch import UPLOAD_TRANSPORT_MB
    from indexer.ingest import DEFAULT_MAX_BYTES

    j = journey
    j.goto("/corpus", "语料概况")
    unreadable_before = unreadable(j)
    j.check("corpus")

    counts, rows = upload(j, [UPLOADED])
    assert rows[0] == ["文件", "结果", "原因"] and [r[:2] for r in rows[1:]] == [[UPLOADED.name, "新增"]], rows
    assert counts == {"新增": 1}, counts
    j.check("uploaded")

    counts, rows = upload(j, [UPLOADED])
    assert [r[:2] for r in rows[1:]] == [[UPLOADED.name, "重复"]] and "内容相同" in rows[1][2], rows
    assert counts == {"重复": 1}, counts
    j.check("again")

    oversized = tmp_path / "太大的报告.txt"
    oversized.write_bytes(UPLOADED.read_bytes() * (DEFAULT_MAX_BYTES // UPLOADED.stat().st_size + 1))
    counts, rows = upload(j, [JUNK, oversized])
    by_name = {r[0]: r[1:] for r in rows[1:]}
    assert by_name[JUNK.name][0] == "跳过" and "不像政府信息公开工作年度报告" in by_name[JUNK.name][1], rows
    assert by_name[oversized.name][0] == "跳过" and "文件太大" in by_name[oversized.name][1], rows
    assert counts == {"跳过": 2} == dict(__import__("collections").Counter(r[1] for r in rows[1:])), (counts, rows)
    assert unreadable(j) == unreadable_before + 1
    j.check("junk-and-oversized")

    # Over Streamlit's own limit the browser refuses the file before sending it: a sparse file will do.
    huge = tmp_path / "扫描件.pdf"
    with open(huge, "wb") as out:
        out.truncate((UPLOAD_TRANSPORT_MB + 1) * 1024 * 1024)
    j.page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files([str(huge)])
    chip = j.page.locator("[data-testid=stFileChip]").filter(has_text=huge.name)
    chip.wait_for()
    refused = chip.locator("[role=alert]")
    refused.wait_for(state="attached")
    said = refused.evaluate("e => getComputedStyle(e, '::after').content")
    assert f"文件超过 {DEFAULT_MAX_BYTES // (1024 * 1024)} MB" in said and "File" not in chip.inner_text(), (said, chip.inner_text())
    chip.hover()  # the English tooltip is not shown
    j.page.locator("[data-testid=stTooltipErrorContent]").wait_for(state="attached")
    assert not j.page.locator("[data-testid=stTooltipErrorContent]").is_visible()
    j.check("refused-in-browser")

    j.open()
    j.search("洪湖市")
    j.expect("洪湖市", {})
    j.page.get_by_role("link", name=re.compile("洪湖")).first.wait_for()
    j.check("found")


def grid_cells(j: Journey) -> list[dict]:
    """Every template table on a report page: title, column heads, row heads, and per row its
    cells as (indicator key or None, text, failed)."""
    return j.page.evaluate("""() => [...document.querySelectorAll('table.nb-grid')].map(t => ({
      title: t.closest('.nb-grid-wrap').previousElementSibling?.innerText,
      columns: [...t.querySelectorAll('thead th')].slice(1).map(e => e.innerText),
      rows: [...t.querySelectorAll('tbody tr')].map(r => ({
        label: r.querySelector('th').innerText,
        cells: [...r.querySelectorAll('td')].map(c => [c.dataset.key || null,
          c.childNodes[0]?.nodeType === 3 ? c.childNodes[0].textContent : (c.querySelector('.nb-unread')?.innerText || ''),
          c.classList.contains('nb-failcell')])}))}))""")


def check_report_tables(j: Journey, source: Path, report_id: str) -> list[str]:
    """The report page's tables are the template's (`indexer.stats.layout.grids`), cell for cell
    what the library extracts from the report's text; returns the keys shown failed."""
    from indexer.stats import extract_stats, run_checks
    from indexer.stats.layout import grids
    from search_app.tables import UNREAD, number

    text = source.read_text(encoding="utf-8")
    extracted = extract_stats(text)
    values = {i.key: i.value for i in extracted.indicators}
    failed = {c["key"] for f in run_checks(extracted, text) for c in f.cells}
    j.goto(f"/report?id={report_id}", "统计数据")
    shown = grid_cells(j)
    expected = grids(extracted.template, values)
    assert [t["title"] for t in shown][:len(expected)] == [g.title for g in expected]
    checked = 0
    marked = []
    for table, grid in zip(shown, expected):
        assert table["columns"] == grid.columns, grid.title
        assert [r["label"] for r in table["rows"]] == grid.rows, grid.title
        for row, keys in zip(table["rows"], grid.cells):
            assert len(row["cells"]) == len(keys), (grid.title, row["label"])  # empty cells kept in place
            for (key, cell, is_failed), want in zip(row["cells"], keys):
                assert key == want, (grid.title, row["label"], key, want)
                if want is None:
                    assert cell == "", (grid.title, row["label"])
                    continue
                value = values.get(want, "")
                assert cell == (UNREAD if value is None else number(value)), (grid.title, row["label"], want, cell, value)
                assert is_failed == (want in failed), (want, is_failed)
                marked += [want] if is_failed else []
                checked += 1
    assert checked == len([k for g in expected for k in g.keys()]) and checked > 40, checked
    return marked


def test_statistics_as_the_template_prints_them(journey):
    """A 2019-template report's tables and an old-template report with a failed check, cell by
    cell against the library's extraction: empty cells kept, failed cells marked in place and the
    failure listed before the tables; on 统计 the failing report and its failed columns come first."""
    from indexer.stats import extract_stats, run_checks
    from indexer.stats.indicators import INDICATORS
    from search_app.state import BUNDLED_CORPUS

    j = journey
    ids = report_ids(j.index_dir)
    guyuan, shapotou = BUNDLED_CORPUS / "001_c5ec5838828042f2.txt", BUNDLED_CORPUS / "004_0f363eaae7a2256d.txt"
    assert check_report_tables(j, guyuan, ids[guyuan.name]) == []
    j.page.get_by_text("通过了全部勾稽关系校验").wait_for()
    j.check("report-2019-template")
    marked = check_report_tables(j, shapotou, ids[shapotou.name])
    text = shapotou.read_text(encoding="utf-8")
    failures = run_checks(extract_stats(text), text)
    assert len(failures) == 1 and set(marked) == {c["key"] for c in failures[0].cells}
    listed = j.page.locator("[data-testid=stAlert]").filter(has_text="项勾稽关系校验未通过")
    assert failures[0].message[:12] in listed.inner_text()
    first_grid = j.page.locator("table.nb-grid").first
    assert listed.bounding_box()["y"] < first_grid.bounding_box()["y"]
    j.check("report-failed-check")

    j.goto("/stats", "指标表")
    j.readme("stats")
    j.check("stats")
    option = j.page.get_by_role("option", name=re.compile("机构、人员、经费、会议"))
    for _ in range(3):  # a list opened while the page redraws closes again
        j.page.locator("[data-testid=stSelectbox]").filter(has_text="统计表").click()
        try:
            option.wait_for(timeout=5_000)
            break
        except Exception:
            j.settled()
    option.click()
    j.page.get_by_text("红底的数字参与了未通过的校验").wait_for()
    j.settled()
    failed_labels = [INDICATORS[c["key"]].label for c in failures[0].cells]
    rows = j.table_until(lambda rows: set(rows[0][2:2 + len(failed_labels)]) == set(failed_labels))
    assert rows[0][:2] == ["机关", "年份"] and set(rows[0][2:2 + len(failed_labels)]) == set(failed_labels), rows[0]
    values = {i.key: i.value for i in extract_stats(text).indicators}
    label_keys = {INDICATORS[c["key"]].label: c["key"] for c in failures[0].cells}
    assert rows[1][0] == "中卫市沙坡头区人民政府" or "沙坡头" in rows[1][0], rows[1]
    for head, cell in zip(rows[0][2:2 + len(failed_labels)], rows[1][2:]):
        assert cell == f"{values[label_keys[head]]:g}", (head, cell)
    j.check("stats-failed-first")


def report_ids(index_dir: Path) -> dict[str, str]:
    """File name → report id, for every file of the journeys' index that is a report."""
    from indexer.store import Store

    with Store(index_dir) as store:
        return {f.name: f.report_id for f in store.files().values() if f.report_id}


def test_watch_a_search_and_find_the_new_report(journey):
    """关注此检索 on a search → the 关注 page has it with no news → a new report that matches is
    uploaded → 关注 shows it as new → 全部标记为已读 clears it."""
    j = journey
    query = "依申请公开"
    j.open()
    j.search(query)
    j.expect(query, {})
    j.click(j.page.get_by_role("button", name="关注此检索"), "已关注")
    j.check("watched")
    j.goto("/watch", query)
    watch = j.page.locator("[data-testid=stExpander]").filter(has_text=query)
    assert "无新命中" in watch.inner_text()
    j.check("no-news")

    j.goto("/corpus", "语料概况")
    counts, _ = upload(j, [WATCHED])
    assert counts == {"新增": 1}
    j.goto("/watch", query)
    watch = j.page.locator("[data-testid=stExpander]").filter(has_text=query)
    assert "新 1" in watch.inner_text(), watch.inner_text()
    rows = j.table(watch.locator("[data-testid=stDataFrame]"))
    assert len(rows) == 2 and "武汉" in rows[1][1], rows
    j.check("news")
    j.click(j.page.get_by_role("button", name="全部标记为已读"), "无新命中")
    assert "新 1" not in j.page.locator("[data-testid=stExpander]").filter(has_text=query).inner_text()
    j.check("read")


def test_findings_rank_with_their_minimum_and_lead_to_reports(journey):
    """发现 says below which denominator it does not rank; lowered to 1, groups are ranked; the
    numbers' sources link to their reports."""
    from indexer.findings.rates import MIN_DENOMINATOR

    j = journey
    j.goto("/findings", "排名")
    assert f"只对分母不少于 {MIN_DENOMINATOR} 的组排名" in j.page.inner_text("body")
    j.check("findings")
    minimum = j.page.get_by_label("最小分母")
    minimum.fill("1")
    started = time.perf_counter()
    minimum.press("Enter")
    j.page.get_by_text("只对分母不少于 1 的组排名").wait_for()
    j.settled()
    j.timed(started)
    rows = j.table()
    assert rows[0][0] == "排名" and rows[1][0] == "1", rows[:3]
    j.check("ranked")
    j.page.get_by_text("数字的来源").click()
    link = j.page.locator("a[href*='report?id=']").first
    link.wait_for()
    j.click(link, "统计数据")
    assert "id" in j.params()
    j.check("report")


def test_meaning_search_says_its_coverage_and_comes_back(journey):
    """语义 mode: the coverage line (vectors for the five samples only), a result → its report →
    Back to the same mode and query, drawn again; then the README's compare picture."""
    j = journey
    query = "信息公开工作存在的不足和改进措施"
    j.open()
    j.search(query)
    j.expect(query, {})
    started = time.perf_counter()
    j.mode("语义")
    j.page.get_by_text("语义检索覆盖").wait_for()
    j.settled()
    j.timed(started)
    from indexer.store import Store

    with Store(j.index_dir) as store:
        total = store.count_reports()
    assert f"语义检索覆盖 5 / {total} 份报告" in j.page.inner_text("body")
    assert j.params().get("mode") == ["semantic"]
    j.check("semantic")
    first = j.page.locator("a[href*='report?']").first
    title = first.inner_text()
    j.click(first, "返回检索结果")
    assert j.params()["mode"] == ["semantic"] and j.params()["q"] == [query]
    j.check("report")
    started = time.perf_counter()
    j.page.go_back()
    j.page.get_by_text("语义检索覆盖").wait_for()
    j.settled()
    j.timed(started)
    assert j.params().get("mode") == ["semantic"] and j.params()["q"] == [query]
    assert j.page.get_by_placeholder("例如", exact=False).input_value() == query
    assert j.page.locator("[data-testid=stRadio] input[type=radio]:checked + *, [data-testid=stRadio] label:has(input:checked)").first.inner_text().strip() == "语义"
    assert j.page.get_by_role("link", name=title).count()
    j.check("back")

    ids = report_ids(j.index_dir)
    three = "&".join(f"ids={ids[name]}" for name in ("003_b6c5992465737a46.txt", "001_c5ec5838828042f2.txt",
                                                        "004_0f363eaae7a2256d.txt"))  # samples: they have vectors
    j.goto(f"/compare?kind=problems&{three}", "存在的主要问题")
    assert "已略去" not in j.page.inner_text("body") and "还没有段落向量" not in j.page.inner_text("body")
    j.page.wait_for_function("document.querySelectorAll('.nb-column-head').length >= 3")
    j.readme("compare")
    j.check("compare")


def test_unknown_paths_answer_in_chinese(journey):
    """A path no page has ran the search page under Streamlit's English "Page not found"."""
    j = journey
    for path in ("/报告列表", "/2020", "/nope"):
        j.goto(path, "这个页面")
        assert f"没有「{path}」这个页面，这里是检索页。" in j.page.inner_text("body")
        if path != "/nope":  # the path typed is shown back as it was
            j.check("unknown-path")
