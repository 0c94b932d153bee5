"""The problems the genre's 存在的主要问题及改进情况 sections name, written down once.

Each theme has a reader's label, a few anchor sentences in the genre's own phrasing (a problem
as reports state it and the remedy they promise for it, since half of every problems section is
下一步将… plans) and its key words. They were written from the genre and the issue's examples
(队伍建设不足, 公开内容不够全面, 解读质量不高, 平台建设滞后), not copied from the labelled items of
tests/data/themes/; the keys are the theme names that set uses, so the bench can score them.

A paragraph that matches none of them well is not forced into one: themes.py clusters those
apart, so a problem this list lacks still shows up as a theme of its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    key: str
    label: str
    sentences: tuple[str, ...]
    words: tuple[str, ...]


ANCHORS: tuple[Anchor, ...] = (
    Anchor("staff", "队伍建设不足（人员兼职、流动、培训）", (
        "工作人员多为兼职，人员变动频繁，业务水平和专业能力不足。",
        "政务公开工作力量薄弱，缺少专职人员，队伍建设有待加强。",
        "加强业务培训，提升工作人员的业务素质和履职能力。",
        "配齐配强信息公开工作人员，保持队伍相对稳定。",
    ), ("人员", "兼职", "专职", "培训", "队伍", "工作力量", "素质", "业务水平", "业务能力", "流动", "人手")),
    Anchor("awareness", "重视不够、公开意识不强", (
        "部分单位对政府信息公开工作重视不够，认识不到位，主动公开意识不强。",
        "个别部门工作积极性、主动性不高，存在被动应付的现象。",
        "进一步提高思想认识，增强主动公开意识和责任意识。",
        "加强组织领导，把政务公开工作摆上重要议事日程。",
    ), ("意识", "认识", "重视", "主动性", "自觉性", "积极性", "思想", "组织领导")),
    Anchor("content", "公开内容不够全面、信息量少", (
        "主动公开的信息内容不够全面，公开范围较窄，信息数量偏少。",
        "公开内容的深度和广度不够，与群众的需求还有差距。",
        "进一步扩大公开范围，丰富公开内容，做到应公开尽公开。",
        "围绕群众关心的事项梳理公开目录，充实公开信息。",
    ), ("内容", "范围", "全面", "数量", "深度", "广度", "丰富", "信息量", "目录", "充实")),
    Anchor("timeliness", "更新不及时、发布不规范", (
        "部分栏目信息更新不及时，有的栏目长期未更新。",
        "信息发布不够规范，格式不统一，个别信息不准确。",
        "加强网站栏目的日常维护，确保信息发布及时、准确、规范。",
    ), ("及时", "更新", "时效", "滞后", "准确", "格式", "维护")),
    Anchor("interpretation", "解读质量不高、形式单一", (
        "政策解读形式单一，解读质量不高，针对性和可读性不强。",
        "对社会关切回应不够及时，政策解读不够深入。",
        "丰富政策解读形式，采用图解、视频等方式，提升解读质量。",
    ), ("解读", "图解", "回应", "关切", "通俗")),
    Anchor("platform", "平台建设滞后（网站、渠道、载体）", (
        "政府网站和政务新媒体建设滞后，公开平台功能不够完善。",
        "公开渠道和载体单一，群众获取信息不够便利。",
        "拓宽公开渠道，加强网站、公开栏、查阅点等载体建设。",
    ), ("平台", "网站", "渠道", "载体", "新媒体", "公众号", "公开栏", "查阅点", "便民")),
    Anchor("mechanism", "制度机制不健全", (
        "信息公开工作制度和机制不够健全，工作流程不够规范。",
        "监督考核机制不完善，工作责任落实不到位。",
        "建立健全信息公开工作制度，完善考核、监督和责任追究机制。",
    ), ("制度", "机制", "流程", "程序", "考核", "监督", "责任追究", "规范化", "制度化", "长效")),
    Anchor("review", "审核把关不严、保密审查", (
        "信息发布前审核把关不严，保密审查不到位。",
        "严格落实信息发布保密审查制度，防止泄密和不当公开。",
    ), ("审核", "审查", "保密", "把关", "泄密", "涉密")),
    Anchor("publicity", "宣传不够、群众知晓率低", (
        "政府信息公开宣传力度不够，群众知晓率和参与度不高。",
        "公众对政府信息公开了解不多，查阅场所利用率低。",
        "加大宣传力度，让群众了解并用好政府信息公开的渠道。",
    ), ("宣传", "知晓", "利用率", "了解", "普及")),
    Anchor("requests", "依申请公开不规范", (
        "依申请公开办理不够规范，答复不及时，答复文书格式不统一。",
        "规范依申请公开的受理、办理和答复流程，提高答复质量。",
    ), ("依申请", "答复", "受理", "申请人")),
)

OTHER_LABEL = "其他"
