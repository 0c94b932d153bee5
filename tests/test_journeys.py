"""A journalist's journeys through the search desk in Chromium, several steps each.

The app runs on a free port of 127.0.0.1 over the bundled samples and the 30 real reports of
tests/data/realworld_shared. At every step the counts the page shows (results and every facet value)
are checked against the library (`indexer.query.run_search` with the same filters), and two
checks run on every page: no request leaves the machine (any other host is recorded and
refused), and the visible text holds no Latin word outside a short allow-list. Screenshots of
every step go to `$NIANBAO_ARTIFACTS/journeys` (default `test-artifacts/journeys`); the time from
each action to the page showing its answer is printed, not asserted.
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
REALWORLD = Path(__file__).resolve().parent / "data" / "realworld_shared"
SHOTS = ARTIFACTS / "journeys"
FACETS = {"年份": "year", "省份": "province", "城市": "city", "机关": "agency", "章节": "section"}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Latin words a user may see: file types, the query language (its operators, field names and
# section kinds, which people type), ID (as Chinese software writes 报告 ID) and the program's
# name. Report ids (hex) and file names also pass.
ALLOWED_WORDS = {"PDF", "CSV", "XLSX", "DOCX", "HTML", "TXT", "OR", "NOT", "ID", "nianbao"}


def allowed_words() -> set[str]:
    from indexer.core.kinds import SECTION_KINDS
    from indexer.core.querylang import QUERY_FIELDS

    return ALLOWED_WORDS | set(QUERY_FIELDS) | set(SECTION_KINDS)


def latin_words(text: str) -> list[str]:
    allowed = allowed_words()
    found = re.findall(r"[\w.\-]*[A-Za-z][\w.\-]*", text, flags=re.ASCII)
    return [w for w in found if w not in allowed and not re.fullmatch(r"[0-9a-f]{6,}", w)
            and not re.fullmatch(r"[\w.\-]+\.(txt|pdf|docx|html?)", w, flags=re.I)]


# --- the app and the browser -------------------------------------------------------------


@pytest.fixture(scope="module")
def journey_index(tmp_path_factory) -> Path:
    from indexer.indexing import index_paths
    from search_app.state import BUNDLED_CORPUS

    folder = tmp_path_factory.mktemp("journey-reports")
    for path in [*BUNDLED_CORPUS.glob("*.txt"), *REALWORLD.glob("*.txt")]:
        shutil.copy(path, folder / path.name)
    index_dir = tmp_path_factory.mktemp("journey-index")
    summary = index_paths([folder], index_dir, embed=False)
    assert summary.counts()["added"] == 35
    return index_dir


@pytest.fixture(scope="module")
def app_url(journey_index, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "NIANBAO_HOME"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    log = tmp_path_factory.mktemp("journey-app") / "app.log"
    yield from served_app([sys.executable, "-c", "from indexer.cli import main; main()"], journey_index, log, env)


@pytest.fixture(scope="module")
def chromium():
    yield from launched_chromium(SHOTS)


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
        print(f"{self.name} {self.step:02d} {label}: pages drawn in {drawn or '-'} ms")
        self.drawn = []
        assert not self.outside, f"requests left the machine: {self.outside}"
        # A snippet is a report's own words; an icon's text is the name of the glyph drawn (an arrow).
        text = self.page.evaluate("""() => {
          let text = document.body.innerText;
          for (const e of document.querySelectorAll('.nb-snippet, [data-testid=stIconMaterial]'))
            if (e.innerText) text = text.split(e.innerText).join(' ');
          return text;
        }""")
        assert not latin_words(text), (label, latin_words(text))
        toolbars = self.page.evaluate("""() => [...document.querySelectorAll('[data-testid=stElementToolbar]')]
          .map(e => getComputedStyle(e).display)""")
        assert all(display == "none" for display in toolbars), (label, "a table's English toolbar shows", toolbars)

    # --- a journalist's actions ------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base + path)
        self.page.get_by_placeholder("例如", exact=False).wait_for()
        self.page.wait_for_function("""() => document.querySelector('[data-testid=stApp]')
          .getAttribute('data-test-script-state') === 'notRunning'
          && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')""")

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
    """公开不到位 in keyword mode counts 公开, 不 and 到位 where they are words, not 不 in 不断."""
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
    province = next(v for v, count, _ in j.facets()["省份"] if count and v != NINGXIA)
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
