-- A store written by nianbao main 2f577f1 (schema version 1): one report (its indicators left out), its file's path made fictional.
BEGIN TRANSACTION;
CREATE TABLE check_failures (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    check_key TEXT NOT NULL, cells TEXT NOT NULL, message TEXT NOT NULL
);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
    report_id TEXT,
    reason TEXT
);
INSERT INTO "files" VALUES('/nonexistent/reports/guyuan-excerpt.txt','guyuan-excerpt.txt',3328,1796553412166671748,'c2737d45e52fad527f27a5d2c2d4abbebd2f1a0e0a98a01d54f40fc2a836a464','b6557602b0720ea9',NULL);
CREATE TABLE indicators (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    key TEXT NOT NULL, label TEXT NOT NULL, unit TEXT, value REAL, note TEXT,
    PRIMARY KEY (report_id, key)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema_version','1');
INSERT INTO "meta" VALUES('visible_gen','1');
CREATE TABLE paragraphs (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    section_ord INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL,
    PRIMARY KEY (report_id, section_ord, ord)
);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',0,0,'prose','固原市经济技术合作局 2019 年 政府信息公开工作年度报告按照固原市人民政府政务公开办公室《关于做好政府信息公开工作年度报告有关事项的通知》（固政公开办发【2020】2号）精神，特编制并向社会公布固原市经济技术合作局 2019 年政府信息公开工作年度报告。',2,133);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',0,1,'prose','本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议行政诉讼情况、存在问题及改进情况、其他需要报告事项等六部分组成，本年报中所列数据的统计期限自 2019 年 1 月 1 日起至 2019 年 12 月 31 日止。',135,263);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,0,'prose','本年度，我局坚持“以公开为常态、不公开为例外”原则，全面落实信息公开条例，夯实主动公开工作基础，围绕职能，不断创新思路，完善机制，规范流程，扎实推进政府信息公开工作深入开展，取得了新的成效。2019 年我局主动公开各类政府信息 240 条，其中：招商信息 24 期，微信公众平台 85 篇，政务微博 131 篇，全年未收到依申请公开的政府信息。',273,445);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,1,'prose','一是成立领导机构。成立了由“一把手”任组长，分管领导任副组长，科室负责人为成员的固原市经济技术合作局政务公开工作领导小组，按照相关要求，抓好局机关政务公开各项工作。',447,529);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,2,'prose','领导小组设立办公室，具体承担领导小组日常工作，落实政务公开的各项要求，做好牵头协调和监督检查，做到了领导、机构、人员“三落实”。',531,595);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,3,'prose','二是不断完善工作机制。进一步建立和完善了《政府信息公开制度》等几项制度，建立健全保密审查、依申请公开、责任追究等配套制度。同时指定专人及时回复网友咨询、更新动态信息。跟踪有关网络舆情并及时进行疏导澄清。主动公开政府信息，加快信息更新频率，提高信息的实用性和易用性，方便群众查询、获取信息。',597,741);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,4,'prose','三是不断规范信息发布程序。围绕公众需求，确定了政府信息公开功能定位，达到应公开尽公开的目的。对在政府网站公开内容严格审查把关，禁止发布与政府职能无关的不实信息、不当言论，杜绝内容“不务正业”现象发生。规范信息发布程序，坚持“先审查、后公开”、“一事一审”、“上网不涉密，涉密不上网”原则，做好政府信息公开保密审查工作，确保不发生失、泄密问题。',743,914);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,5,'prose','四是加大经费投入。加大经费支持力度，将政府信息公开经费纳入局机关财政预算。安排局机关企业服务中心1名工作人员专职（兼职）负责该项工作，积极参加上级部门组织的各类培训。',916,999);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',1,6,'prose','五是不断提升工作水平。公开财政预决算、权责清单，重大项目进展情况以及招商动态，在认真完成“规定动作”同时加大“自选动作”份额，全面实施“双随机、一公开”，多渠道全方位及时公开招商引资信息，增强对外宣传的广度和深度。通过对以上重点信息及其他政府信息的公开，促进机关全面建设取得了明显成效。',1001,1146);
INSERT INTO "paragraphs" VALUES('b6557602b0720ea9',2,0,'table','第二十条第（一）项',1163,1172);
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    gen INTEGER NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    title TEXT, agency TEXT, year INTEGER,
    province TEXT, city TEXT, county TEXT, adcode TEXT, template TEXT,
    text TEXT NOT NULL,
    norm_text TEXT NOT NULL,
    added_at REAL NOT NULL
);
INSERT INTO "reports" VALUES('b6557602b0720ea9',1,'guyuan-excerpt.txt','c2737d45e52fad527f27a5d2c2d4abbebd2f1a0e0a98a01d54f40fc2a836a464','固原市经济技术合作局2019年政府信息公开工作年度报告','固原市经济技术合作局',2019,'宁夏回族自治区','固原市',NULL,'640400','new','

固原市经济技术合作局 2019 年 政府信息公开工作年度报告

按照固原市人民政府政务公开办公室《关于做好政府信息公开工作年度报告有关事项的通知》（固政公开办发【2020】2号）精神，特编制并向社会公布固原市经济技术合作局 2019 年政府信息公开工作年度报告。

本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议行政诉讼情况、存在问题及改进情况、其他需要报告事项等六部分组成，本年报中所列数据的统计期限自 2019 年 1 月 1 日起至 2019 年 12 月 31 日止。

一、总体情况

本年度，我局坚持“以公开为常态、不公开为例外”原则，全面落实信息公开条例，夯实主动公开工作基础，围绕职能，不断创新思路，完善机制，规范流程，扎实推进政府信息公开工作深入开展，取得了新的成效。2019 年我局主动公开各类政府信息 240 条，其中：招商信息 24 期，微信公众平台 85 篇，政务微博 131 篇，全年未收到依申请公开的政府信息。

一是成立领导机构。成立了由“一把手”任组长，分管领导任副组长，科室负责人为成员的固原市经济技术合作局政务公开工作领导小组，按照相关要求，抓好局机关政务公开各项工作。

领导小组设立办公室，具体承担领导小组日常工作，落实政务公开的各项要求，做好牵头协调和监督检查，做到了领导、机构、人员“三落实”。

二是不断完善工作机制。进一步建立和完善了《政府信息公开制度》等几项制度，建立健全保密审查、依申请公开、责任追究等配套制度。同时指定专人及时回复网友咨询、更新动态信息。跟踪有关网络舆情并及时进行疏导澄清。主动公开政府信息，加快信息更新频率，提高信息的实用性和易用性，方便群众查询、获取信息。

三是不断规范信息发布程序。围绕公众需求，确定了政府信息公开功能定位，达到应公开尽公开的目的。对在政府网站公开内容严格审查把关，禁止发布与政府职能无关的不实信息、不当言论，杜绝内容“不务正业”现象发生。规范信息发布程序，坚持“先审查、后公开”、“一事一审”、“上网不涉密，涉密不上网”原则，做好政府信息公开保密审查工作，确保不发生失、泄密问题。

四是加大经费投入。加大经费支持力度，将政府信息公开经费纳入局机关财政预算。安排局机关企业服务中心1名工作人员专职（兼职）负责该项工作，积极参加上级部门组织的各类培训。

五是不断提升工作水平。公开财政预决算、权责清单，重大项目进展情况以及招商动态，在认真完成“规定动作”同时

加大“自选动作”份额，全面实施“双随机、一公开”，多渠道全方位及时公开招商引资信息，增强对外宣传的广度和深度。通过对以上重点信息及其他政府信息的公开，促进机关全面建设取得了明显成效。

二、主动公开政府信息的情况

第二十条第（一）项			
','固原市经济技术合作局2019年政府信息公开工作年度报告按照固原市人民政府政务公开办公室《关于做好政府信息公开工作年度报告有关事项的通知》(固政公开办发【2020】2号)精神,特编制并向社会公布固原市经济技术合作局2019年政府信息公开工作年度报告。本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议行政诉讼情况、存在问题及改进情况、其他需要报告事项等六部分组成,本年报中所列数据的统计期限自2019年1月1日起至2019年12月31日止。一、总体情况本年度,我局坚持“以公开为常态、不公开为例外”原则,全面落实信息公开条例,夯实主动公开工作基础,围绕职能,不断创新思路,完善机制,规范流程,扎实推进政府信息公开工作深入开展,取得了新的成效。2019年我局主动公开各类政府信息240条,其中:招商信息24期,微信公众平台85篇,政务微博131篇,全年未收到依申请公开的政府信息。一是成立领导机构。成立了由“一把手”任组长,分管领导任副组长,科室负责人为成员的固原市经济技术合作局政务公开工作领导小组,按照相关要求,抓好局机关政务公开各项工作。领导小组设立办公室,具体承担领导小组日常工作,落实政务公开的各项要求,做好牵头协调和监督检查,做到了领导、机构、人员“三落实”。二是不断完善工作机制。进一步建立和完善了《政府信息公开制度》等几项制度,建立健全保密审查、依申请公开、责任追究等配套制度。同时指定专人及时回复网友咨询、更新动态信息。跟踪有关网络舆情并及时进行疏导澄清。主动公开政府信息,加快信息更新频率,提高信息的实用性和易用性,方便群众查询、获取信息。三是不断规范信息发布程序。围绕公众需求,确定了政府信息公开功能定位,达到应公开尽公开的目的。对在政府网站公开内容严格审查把关,禁止发布与政府职能无关的不实信息、不当言论,杜绝内容“不务正业”现象发生。规范信息发布程序,坚持“先审查、后公开”、“一事一审”、“上网不涉密,涉密不上网”原则,做好政府信息公开保密审查工作,确保不发生失、泄密问题。四是加大经费投入。加大经费支持力度,将政府信息公开经费纳入局机关财政预算。安排局机关企业服务中心1名工作人员专职(兼职)负责该项工作,积极参加上级部门组织的各类培训。五是不断提升工作水平。公开财政预决算、权责清单,重大项目进展情况以及招商动态,在认真完成“规定动作”同时加大“自选动作”份额,全面实施“双随机、一公开”,多渠道全方位及时公开招商引资信息,增强对外宣传的广度和深度。通过对以上重点信息及其他政府信息的公开,促进机关全面建设取得了明显成效。二、主动公开政府信息的情况第二十条第(一)项',1.79655341474582743647e+09);
CREATE TABLE sections (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL, heading TEXT NOT NULL, number INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL,
    norm_start INTEGER NOT NULL, norm_end INTEGER NOT NULL,
    PRIMARY KEY (report_id, ord)
);
INSERT INTO "sections" VALUES('b6557602b0720ea9',0,'other','',0,0,265,0,240);
INSERT INTO "sections" VALUES('b6557602b0720ea9',1,'overview','一、总体情况',1,265,1148,240,1096);
INSERT INTO "sections" VALUES('b6557602b0720ea9',2,'proactive','二、主动公开政府信息的情况',2,1148,1176,1096,1118);
CREATE INDEX reports_gen ON reports (gen);
CREATE INDEX check_failures_report ON check_failures (report_id);
CREATE INDEX files_report ON files (report_id);
COMMIT;
