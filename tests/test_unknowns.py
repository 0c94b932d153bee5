"""Unknown fields are visible: a 未识别 facet bucket and filter value, and a filtered search says
how many reports it left out for not knowing a field, checked against a count by hand over real
report pages (tests/data/realworld: some name no province or city the parser can read)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from indexer.core.filters import is_unknown
from indexer.core.kinds import UNKNOWN
from indexer.fields import facet_counts
from indexer.normalize import normalize
from indexer.store import Store
from tests.test_cli import run

REALWORLD = Path(__file__).parent / "data" / "realworld"
TERM = "政府信息公开"
# Where a field does not apply, by the report's level: not unknown (a ministry has no province).
NOT_APPLICABLE = {"province": {"national-ministry"}, "city": {"national-ministry", "province", "department-province"}}


@pytest.fixture(scope="module")
def realworld(tmp_path_factory) -> Path:
    from indexer.indexing import index_paths

    index_dir = tmp_path_factory.mktemp("realworld")
    assert index_paths([REALWORLD], index_dir, embed=False).counts()["added"] > 50
    return index_dir


def _by_hand(capsys, index_dir: Path) -> list[dict]:
    """`reports --json`, each with whether its file holds TERM (read from the file itself) and
    which places it does not know."""
    _, out, _ = run(capsys, "--index-dir", str(index_dir), "reports", "--json")
    reports = json.loads(out)
    for r in reports:
        r["has_term"] = TERM in normalize((REALWORLD / r["source"]).read_text(encoding="utf-8"))
        r["unknown"] = {name for name in NOT_APPLICABLE
                        if r["region"][name] is None and r["level"] not in NOT_APPLICABLE[name]}
    return reports


def _search(capsys, index_dir: Path, *args: str) -> dict:
    code, out, err = run(capsys, "--index-dir", str(index_dir), "search", TERM, *args, "--limit", "1000", "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_corpus_has_unknown_and_not_applicable_places(capsys, realworld):
    reports = _by_hand(capsys, realworld)
    for name in NOT_APPLICABLE:  # else the tests below could not fail
        assert 0 < sum(name in r["unknown"] for r in reports) < sum(r["region"][name] is None for r in reports)


def test_excluded_unknown_counts_the_matching_reports_a_filter_left_out(capsys, realworld):
    reports = _by_hand(capsys, realworld)
    found = _search(capsys, realworld, "--province", "浙江")
    assert found["excluded_unknown"] == {"province": sum(r["has_term"] and "province" in r["unknown"] for r in reports)}
    assert found["total_reports"] == sum(r["has_term"] and "浙江" in (r["region"]["province"] or "") for r in reports)

    # two filters: a report counts for each field it does not know, if it passes the filters on those it knows
    wanted = {"province": "浙江", "city": "州"}
    found = _search(capsys, realworld, "--province", wanted["province"], "--city", wanted["city"])
    expected = Counter()
    for r in reports:
        known_pass = all(name in r["unknown"] or wanted[name] in (r["region"][name] or "") for name in wanted)
        if r["has_term"] and known_pass:
            expected.update(r["unknown"])
    assert found["excluded_unknown"] == {"province": expected["province"], "city": expected["city"]}
    assert expected["province"] and expected["city"]


def test_the_text_output_says_it_in_one_line(capsys, realworld):
    reports = _by_hand(capsys, realworld)
    count = sum(r["has_term"] and "province" in r["unknown"] for r in reports)
    _, out, _ = run(capsys, "--index-dir", str(realworld), "search", TERM, "--province", "浙江")
    assert f"另有 {count} 份报告省份未识别，未计入筛选" in out.splitlines()


@pytest.mark.parametrize("value", [UNKNOWN, "unknown"])
def test_the_unknown_filter_value_selects_the_reports_not_knowing_the_field(capsys, realworld, value):
    reports = _by_hand(capsys, realworld)
    found = _search(capsys, realworld, "--province", value)
    expected = {r["id"] for r in reports if r["has_term"] and "province" in r["unknown"]}
    assert {r["report_id"] for r in found["results"]} == expected and found["total_reports"] == len(expected)
    assert found["excluded_unknown"] == {}
    in_query = json.loads(run(capsys, "--index-dir", str(realworld), "search", f"{TERM} city:{value}", "--limit", "1000",
                              "--json")[1])
    assert {r["report_id"] for r in in_query["results"]} == {r["id"] for r in reports if r["has_term"] and "city" in r["unknown"]}


def test_facet_counts_have_an_unknown_bucket(capsys, realworld):
    reports = _by_hand(capsys, realworld)
    with Store(realworld) as store:
        counts = facet_counts(store.reports(), "province")
    assert counts[UNKNOWN] == sum("province" in r["unknown"] for r in reports)
    assert sum(counts.values()) == len(reports) - sum(r["level"] == "national-ministry" for r in reports)


def test_a_field_that_does_not_apply_is_not_unknown():
    ministry = {"region": {"province": None, "city": None, "county": None}, "level": "national-ministry"}
    county = {"region": {"province": "浙江省", "city": None, "county": "龙游县"}, "level": "county"}
    assert not is_unknown(ministry, "province") and not is_unknown(ministry, "city")
    assert is_unknown(county, "city") and not is_unknown(county, "county")
    assert facet_counts([ministry, county], "city") == Counter({UNKNOWN: 1})


def test_the_desk_counts_offers_and_explains_the_unknown(capsys, realworld, monkeypatch):
    from tests.test_app import no_failure, open_page

    monkeypatch.setenv("NIANBAO_HOME", str(realworld))
    reports = _by_hand(capsys, realworld)
    unknown = sum(r["has_term"] and "province" in r["unknown"] for r in reports)
    at = open_page(None, q=TERM)
    no_failure(at)
    box = at.checkbox(key=f"search_f_province_{UNKNOWN}")
    assert box.label == f"{UNKNOWN}（{unknown}）"
    box.check().run()
    no_failure(at)
    assert any(c.value.startswith(f"{unknown} 份报告") for c in at.caption)  # exactly those reports
    at.checkbox(key=f"search_f_province_{UNKNOWN}").uncheck().run()
    at.checkbox(key="search_f_province_浙江省").check().run()
    no_failure(at)
    expected = _search(capsys, realworld, "--province", "浙江省")["excluded_unknown"]["province"]
    assert expected == unknown
    assert any(c.value == f"另有省份{UNKNOWN}的 {unknown} 份报告也含检索词，因无法判断是否符合筛选条件而未列出（可勾选「{UNKNOWN}」查看）。"
               for c in at.caption)
