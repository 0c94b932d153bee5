"""Rates, rankings and completeness on real reports: formulas pinned on printed tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from indexer.cli import cli
from indexer.findings.rates import RATES_BY_KEY, contribution
from indexer.findings.stored import completeness_rows, rates, report_completeness
from indexer.stats import edition_of, extract_stats
from indexer.store import Store

DATA = Path(__file__).resolve().parent / "data"
SHARED = DATA / "realworld_shared"
PINGTAN_2019 = SHARED / "029_pingtan2019.txt"
FULL_REPORTS = [SHARED / "009_pingtanxian2011.txt", PINGTAN_2019, SHARED / "035_guihuaping2020.txt"]
GRANTED = "requests.granted_share"


def _cells(path: Path) -> tuple[str | None, dict]:
    result = extract_stats(path.read_text(encoding="utf-8"))
    values = {i.key: i.value for i in result.indicators}
    return edition_of(result.template, values), values


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    """The five samples and the three complete shared reports, plus 029 with its problems part cut out."""
    from indexer.indexing import index_paths

    folder = tmp_path_factory.mktemp("reports")
    for path in [*CORPUS.glob("*.txt"), *FULL_REPORTS]:
        shutil.copy(path, folder / path.name)
    text = PINGTAN_2019.read_text(encoding="utf-8")
    start, end = text.index("五、存在的主要问题及改进情况"), text.index("六、其他需要报告的事项")
    (folder / "029_cut.txt").write_text(text[:start] + text[end:], encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    index_paths([folder], index_dir, embed=False)
    return index_dir


@pytest.fixture
def store(index):
    with Store(index, create=False) as opened:
        yield opened


def _by_source(store: Store) -> dict[str, str]:
    return {r["source"]: r["id"] for r in store.reports()}


def test_outcome_shares_on_pingtan_2019_table():
    # 029 prints 予以公开 7, 部分公开 1, （七）总计 23, 本机关不掌握 7 (总计 column).
    edition, values = _cells(PINGTAN_2019)
    assert edition == "2019"
    granted = contribution(RATES_BY_KEY[GRANTED], "029", edition, values)
    assert (granted.numerator, granted.denominator) == (8, 23)
    disclosed = contribution(RATES_BY_KEY["requests.disclosed_share"], "029", edition, values)
    assert (disclosed.numerator, disclosed.denominator) == (7, 23)
    unavailable = contribution(RATES_BY_KEY["requests.unavailable_share"], "029", edition, values)
    assert unavailable.numerator >= 7 and unavailable.denominator == 23
    natural = contribution(RATES_BY_KEY["requests.applicant.natural_person_share"], "029", edition, values)
    assert (natural.numerator, natural.denominator) == (23, 23)


def test_rates_need_every_cell_and_the_edition():
    # The 长春 2023 excerpt prints 本年新收 3 (all 自然人) but its results rows are unread.
    edition, values = _cells(DATA / "changchun_2023_excerpt.txt")
    assert edition == "2021"
    assert contribution(RATES_BY_KEY[GRANTED], "cc", edition, values) is None
    natural = contribution(RATES_BY_KEY["requests.applicant.natural_person_share"], "cc", edition, values)
    assert (natural.numerator, natural.denominator) == (3, 3)
    # A rate defined only for the old template does not apply to a new-template report.
    assert contribution(RATES_BY_KEY["requests.on_time_share"], "cc", edition, values) is None


def test_pooled_rate_ranks_only_from_the_minimum(store):
    # 029 and its cut copy: 8/23 each; corpus 003 (2020): 予以公开 2 + 部分公开 1 of 7; the rest print zeros.
    found = rates(store, keys=[GRANTED], min_denominator=30)["rates"][0]
    (group,) = found["by"]
    assert (group["numerator"], group["denominator"], group["value"], group["rank"]) == (19, 53, 0.3585, 1)
    refused = rates(store, keys=[GRANTED], min_denominator=54)["rates"][0]["by"][0]
    assert refused["value"] == 0.3585 and refused["rank"] is None
    by_year = {g["group"]: g for g in rates(store, by="year", keys=[GRANTED], min_denominator=30)["rates"][0]["by"]}
    assert (by_year["2019"]["numerator"], by_year["2019"]["denominator"], by_year["2019"]["rank"]) == (16, 46, 1)
    assert (by_year["2020"]["numerator"], by_year["2020"]["denominator"], by_year["2020"]["rank"]) == (3, 7, None)
    assert _by_source(store)["029_pingtan2019.txt"] in by_year["2019"]["report_ids"]


def test_rates_cli_json_shape(index):
    result = CliRunner().invoke(cli, ["--index-dir", str(index), "rates", "--json", "--by", "province", "--rate", GRANTED])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (rate,) = data["rates"]
    assert {"key", "label", "formula", "by"} <= set(rate)
    assert "new.requests.total.total" in rate["formula"] and "old.requests.replied" in rate["formula"]
    assert all({"group", "numerator", "denominator", "value", "reports"} <= set(g) for g in rate["by"])
    traced = json.loads(CliRunner().invoke(cli, ["--index-dir", str(index), "rates", "--json", "--cells",
                                                 "--rate", GRANTED]).output)["rates"][0]["by"][0]
    pingtan = {c["report_id"]: c for c in traced["contributions"]}
    cells = [c["cells"] for c in pingtan.values() if c["denominator"] == 23]
    assert {"new.requests.disclosed.total": 7, "new.requests.partial.total": 1, "new.requests.total.total": 23} in cells
    assert sum(c["numerator"] for c in traced["contributions"]) == traced["numerator"]
    bad = CliRunner().invoke(cli, ["--index-dir", str(index), "rates", "--rate", "nope"])
    assert bad.exit_code != 0 and "unknown rate nope" in bad.output


def test_completeness_of_real_reports(store):
    found = {r["report_id"]: r for r in completeness_rows(store)}
    ids = _by_source(store)
    for complete in ("003_b6c5992465737a46.txt", "029_pingtan2019.txt", "000_325a78626e0cba12.txt"):
        assert (found[ids[complete]]["missing"], found[ids[complete]]["empty"]) == ([], []), complete
    # 2011 平潭县: no word on fees anywhere in the report.
    assert found[ids["009_pingtanxian2011.txt"]]["missing"] == ["statement:fees"]
    # 2018 淮北市商务局: 明年工作思路 but no 存在的问题 part.
    assert "section:problems" in found[ids["002_197c637067fde242.txt"]]["missing"]
    # 2020 桂花坪: the three table parts are printed as bare headings.
    guihuaping = found[ids["035_guihuaping2020.txt"]]
    assert guihuaping["empty"] == ["section:proactive", "section:requests", "section:review_litigation"]
    assert guihuaping["notes"]  # its edition is inferred from the year, and it says so
    # The same 029 with its problems part removed.
    assert found[ids["029_cut.txt"]]["missing"] == ["section:problems"]
    # One report alone (the report page) gives what the corpus pass gives.
    assert all(report_completeness(store, rid) == result for rid, result in found.items())
    assert report_completeness(store, "nope") is None


def test_check_completeness_cli_json_shape_and_plain_check(index):
    result = CliRunner().invoke(cli, ["--index-dir", str(index), "check", "--completeness", "--json"])
    assert result.exit_code == 0, result.output
    results = json.loads(result.output)["results"]
    assert len(results) == 9
    assert all(set(r) == {"report_id", "edition", "missing", "empty", "notes"} for r in results)
    plain = CliRunner().invoke(cli, ["--index-dir", str(index), "check"])
    assert plain.exit_code == 0 and "failed checks" in plain.output


def test_export_carries_completeness(index, tmp_path):
    out = tmp_path / "stats.csv"
    result = CliRunner().invoke(cli, ["--index-dir", str(index), "stats", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    import csv

    lines = [line for line in out.read_text(encoding="utf-8-sig").splitlines() if not line.startswith("#")]
    header, keys, *body = list(csv.reader(lines))  # Chinese headers, then the keys
    assert header[keys.index("completeness")] == "完整性"
    by_source = {row[keys.index("source")]: dict(zip(keys, row)) for row in body}
    assert by_source["009_pingtanxian2011.txt"]["completeness"] == "缺收费（信息处理费）情况说明"
    assert by_source["003_b6c5992465737a46.txt"]["completeness"] == "齐全"
