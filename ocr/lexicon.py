"""Word lists and label patterns the card parser classifies lines with.

Kept apart from the parser so that the rules read as data: adding a title word
or a company suffix is a one-line change here, and the duplicate finder reuses
the company suffixes and place names to reduce a company to its short name.
"""

from __future__ import annotations

import re

# The ~120 most common Chinese surnames (single and compound); a 2-4 character
# Han string starting with one of them, and matching nothing else, is a name.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 轩辕 呼延 南宫 独孤 西门".split()
)
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易"
    "乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管"
)

# Titles: a line (or the tail of a line) ending in one of these is a job title.
TITLE_WORDS_ZH = (
    "董事长", "副董事长", "总裁", "副总裁", "总经理", "副总经理", "经理", "副经理", "总监", "副总监", "主管", "主任",
    "工程师", "总工程师", "高级工程师", "首席执行官", "首席技术官", "首席财务官", "执行董事", "董事", "合伙人",
    "总监助理", "助理", "专员", "顾问", "代表", "设计师", "会计师", "律师", "秘书", "部长", "科长", "处长", "院长",
    "教授", "研究员", "架构师", "分析师", "店长", "厂长", "组长", "经理助理", "行政", "销售", "客户经理",
)
TITLE_WORDS_EN = (
    "ceo", "cto", "cfo", "coo", "cio", "vp", "svp", "evp", "president", "vice president", "chairman", "chairwoman",
    "founder", "co-founder", "partner", "director", "manager", "engineer", "consultant", "specialist", "officer",
    "representative", "rep", "executive", "head", "lead", "architect", "analyst", "designer", "assistant",
    "accountant", "lawyer", "attorney", "secretary", "supervisor", "coordinator", "administrator", "advisor",
    "professor", "researcher", "scientist", "developer", "associate", "principal", "owner", "chief",
)
# Words that open an English title ("Regional Sales Director"): never part of a person's name.
TITLE_MODIFIERS_EN = frozenset(
    "senior junior regional general vice chief executive sales marketing account project technical purchasing "
    "product managing deputy assistant associate key global national area district business customer "
    "operations finance financial human software hardware research development quality supply chain "
    "procurement service services support field country principal lead head branch office".split()
)
TITLE_RE_EN = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(TITLE_WORDS_EN, key=len, reverse=True)) + r")\b", re.I)

# Companies: legal-form suffixes and the words companies are made of.
COMPANY_SUFFIXES_ZH = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司", "研究院", "研究所", "事务所", "工作室",
    "商行", "银行", "大学", "学院", "医院", "中心", "厂", "分公司",
)
COMPANY_SUFFIXES_EN = (
    "co., ltd.", "co.,ltd.", "co. ltd.", "co., ltd", "co.,ltd", "company limited", "corporation", "corp.", "corp",
    "limited", "ltd.", "ltd", "inc.", "inc", "llc", "l.l.c.", "gmbh", "s.a.", "ag", "plc", "pte. ltd.", "pte ltd",
    "group", "holdings", "company", "co.", "technologies", "technology", "industries", "partners", "bank",
    "university", "institute", "laboratories", "labs", "pty ltd",
)
COMPANY_RE_EN = re.compile(
    r"(?:\b(?:" + "|".join(re.escape(s) for s in sorted(COMPANY_SUFFIXES_EN, key=len, reverse=True)) + r"))(?=$|[\s,.)])",
    re.I,
)

# Departments: Chinese ends in 部/处/科/中心/事业部; English names the unit.
DEPARTMENT_SUFFIXES_ZH = ("事业部", "事业群", "部门", "部", "处", "科", "办公室", "中心", "分部", "研究室", "实验室", "团队")
DEPARTMENT_RE_EN = re.compile(r"\b(department|dept\.?|division|business unit|team|office of|group)\b", re.I)

# Addresses.
ADDRESS_MARKERS_ZH = re.compile(r"(省|自治区|市|区|县|镇|路|街|道|大道|号|弄|巷|楼|层|室|座|栋|大厦|广场|园区|中心|村)")
ADDRESS_STRONG_ZH = re.compile(r"(省|市|区|县).{0,12}(路|街|道|大道|号|弄|巷)")
ADDRESS_RE_EN = re.compile(
    r"(?i:\b(?:road|rd\.?|street|st\.?|avenue|ave\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|suite|ste\.?|floor|room|rm\.?|"
    r"building|bldg\.?|tower|plaza|park|parkway|pkwy|court|place|district|province|highway|way|square|center|centre|"
    r"p\.?o\.? box|\d+/f|\d+f)\b)"
    r"|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"  # US state and ZIP
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b",  # UK postcode
)
CITY_NAMES = (
    "北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "长沙", "郑州", "青岛",
    "厦门", "宁波", "无锡", "合肥", "福州", "济南", "大连", "沈阳", "昆明", "东莞", "佛山", "香港", "台北", "澳门",
    "江苏", "浙江", "广东", "山东", "河南", "河北", "湖北", "湖南", "四川", "福建", "安徽", "辽宁", "陕西", "云南",
    "beijing", "shanghai", "tianjin", "chongqing", "guangzhou", "shenzhen", "hangzhou", "nanjing", "suzhou", "chengdu",
    "wuhan", "xi'an", "xian", "changsha", "zhengzhou", "qingdao", "xiamen", "ningbo", "wuxi", "hefei", "fuzhou", "jinan",
    "dalian", "shenyang", "kunming", "dongguan", "foshan", "hong kong", "taipei", "macau", "china", "p.r.c", "prc",
)

# Labels printed before values ("手机:", "Tel", "E-mail").  Each entry is
# (field, long forms, one-letter forms): long forms may be followed by a colon
# or just a space, one-letter forms ("M:", "T. ") only by a colon or a dot and a space, so
# that "Manager" or "A Company" never read as labels.
_LABEL_FORMS: tuple[tuple[str, str, str], ...] = (
    ("mobile", r"手\s*机|移动电话|mobile(?:\s*phone)?|mob|cell(?:\s*phone)?|h/p|hp|mp", r"m"),
    ("fax", r"传\s*真|fax", r"f"),
    ("office", r"电\s*话|座\s*机|总\s*机|直\s*线|办公电话|tel(?:ephone)?|phone|office|direct|dir", r"t|p|o"),
    ("hotline", r"服务热线|客服热线|热\s*线|hotline|toll[- ]free", r""),
    ("email", r"邮\s*箱|电子邮件|电\s*邮|e-?mail|mail", r"e"),
    ("website", r"网\s*址|网\s*站|主\s*页|website|web|url|homepage", r"w"),
    ("address", r"地\s*址|address|addr|add", r"a"),
    ("wechat", r"微\s*信(?:号)?|wechat(?:\s*id)?|weixin|wx", r""),
    ("qq", r"qq(?:号)?", r""),
    ("postcode", r"邮\s*编|邮政编码|zip(?:\s*code)?|post\s*code", r""),
)


def _label_re(long: str, short: str) -> re.Pattern[str]:
    parts = [rf"(?:{long})(?![a-z])\s*[:：.]?\s*"]
    if short:
        parts.append(rf"(?:{short})\s*(?:[:：]|\.(?=[\s+(]))\s*")  # "T. 021" or "T.(021)", never "a.b@x.com"
    return re.compile("^(?:" + "|".join(parts) + ")", re.I)


LABELS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, _label_re(lng, sht)) for kind, lng, sht in _LABEL_FORMS)
