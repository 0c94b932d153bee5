"""The statistics grids (indexer.stats.layout): every indicator of a template and edition sits in
exactly one cell, where the printed table has it."""

from __future__ import annotations

from collections import Counter

import pytest

from indexer.stats.indicators import INDICATORS, definitions
from indexer.stats.layout import grids


@pytest.mark.parametrize("template, edition", [("new", "2019"), ("new", "2021"), ("old", None), ("bytype", None)])
def test_every_indicator_has_one_cell(template, edition):
    keys = {d.key for d in definitions(template, edition)}
    placed = Counter(k for g in grids(template, keys) for k in g.keys())
    assert set(placed) == keys and set(placed.values()) == {1}


def test_the_2021_tables_have_their_own_rows_and_columns():
    keys = {d.key for d in definitions("new", "2021")}
    art20, requests, review = grids("new", keys)
    assert art20.rows[1] == "行政规范性文件" and art20.columns[:3] == ["本年制发件数（件）", "本年废止件数（件）", "现行有效件数（件）"]
    assert "（六）其他处理" not in requests.rows and len(requests.rows) == 25
    assert review.rows == ["行政复议", "行政诉讼 未经复议直接起诉", "行政诉讼 复议后起诉"]
    assert review.cells[0][-1] == "new.review.total"


def test_an_unknown_edition_keeps_same_named_columns_apart():
    art20 = grids("new", set(INDICATORS))[0]  # keys of both editions: the edition cannot be told
    fees, purchase = art20.columns.index("本年收费金额（万元）"), art20.columns.index("采购总金额（万元）")
    items = [row for row in art20.cells]
    assert items[6][fees] == "new.art20.admin_fees.amount" and items[7][purchase] == "new.art20.procurement.amount"
    assert items[7][fees] is None and items[6][purchase] is None


def test_only_tables_holding_a_value_are_drawn():
    assert [g.title for g in grids("new", {"new.review.total"})] == ["四、政府信息公开行政复议、行政诉讼情况（件）"]
    assert grids(None, set()) == []
