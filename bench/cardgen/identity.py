"""Random but plausible people, companies and contact details, in Chinese and English.

A ``Persona`` holds both language versions of every field; ``truth(lang)``
gives the ground truth the parser must return for a card printed in ``lang``
("zh", "en" or "bi" for bilingual: the Chinese value is the primary one, as
``fieldsync.ocr.parse`` documents).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

# (hanzi, pinyin) pairs
SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
    ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("林", "Lin"), ("何", "He"), ("高", "Gao"), ("罗", "Luo"), ("郑", "Zheng"), ("梁", "Liang"),
    ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"),
    ("彭", "Peng"), ("欧阳", "Ouyang"), ("司马", "Sima"),
]
GIVEN = [
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("磊", "Lei"), ("强", "Qiang"),
    ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"),
    ("秀英", "Xiuying"), ("建华", "Jianhua"), ("志强", "Zhiqiang"), ("晓东", "Xiaodong"), ("丽华", "Lihua"),
    ("海燕", "Haiyan"), ("文博", "Wenbo"), ("子涵", "Zihan"), ("雨桐", "Yutong"), ("浩然", "Haoran"), ("思远", "Siyuan"),
    ("佳怡", "Jiayi"), ("国栋", "Guodong"), ("春梅", "Chunmei"), ("宇航", "Yuhang"), ("梦琪", "Mengqi"),
]
WESTERN_FIRST = ["David", "Sarah", "Michael", "Emma", "James", "Olivia", "Robert", "Sophie", "Daniel", "Laura", "Thomas", "Anna"]
WESTERN_LAST = ["Miller", "Johnson", "Brown", "Schmidt", "Taylor", "Anderson", "Walker", "Fischer", "Clarke", "Turner"]

CITIES = [  # (zh, en, area code, province zh, province en, districts [(zh, en)])
    ("上海", "Shanghai", "21", "", "", [("浦东新区", "Pudong New District"), ("徐汇区", "Xuhui District"), ("闵行区", "Minhang District")]),
    ("北京", "Beijing", "10", "", "", [("朝阳区", "Chaoyang District"), ("海淀区", "Haidian District")]),
    ("深圳", "Shenzhen", "755", "广东省", "Guangdong", [("南山区", "Nanshan District"), ("福田区", "Futian District")]),
    ("杭州", "Hangzhou", "571", "浙江省", "Zhejiang", [("西湖区", "Xihu District"), ("滨江区", "Binjiang District")]),
    ("苏州", "Suzhou", "512", "江苏省", "Jiangsu", [("工业园区", "Industrial Park"), ("姑苏区", "Gusu District")]),
    ("成都", "Chengdu", "28", "四川省", "Sichuan", [("高新区", "High-tech Zone"), ("锦江区", "Jinjiang District")]),
    ("武汉", "Wuhan", "27", "湖北省", "Hubei", [("洪山区", "Hongshan District"), ("江汉区", "Jianghan District")]),
    ("广州", "Guangzhou", "20", "广东省", "Guangdong", [("天河区", "Tianhe District"), ("越秀区", "Yuexiu District")]),
]
ROADS = [("张江路", "Zhangjiang Road"), ("科苑路", "Keyuan Road"), ("建国路", "Jianguo Road"), ("人民路", "Renmin Road"),
         ("文三路", "Wensan Road"), ("中山大道", "Zhongshan Avenue"), ("天府大道", "Tianfu Avenue"), ("东方路", "Dongfang Road")]
BUILDINGS = [("科技大厦", "Technology Tower"), ("国际中心", "International Center"), ("创新广场", "Innovation Plaza"),
             ("金融大厦", "Finance Building"), ("软件园", "Software Park")]
BRANDS = [("华东", "Huadong"), ("远航", "Yuanhang"), ("博创", "Bochuang"), ("恒信", "Hengxin"), ("天成", "Tiancheng"),
          ("启明", "Qiming"), ("鼎盛", "Dingsheng"), ("宏达", "Hongda"), ("汇智", "Huizhi"), ("凯越", "Kaiyue")]
INDUSTRIES = [("电气", "Electric"), ("科技", "Technology"), ("医疗器械", "Medical Devices"), ("物流", "Logistics"),
              ("新材料", "New Materials"), ("软件", "Software"), ("机械", "Machinery"), ("食品", "Foods")]
LEGAL = [("有限公司", "Co., Ltd."), ("股份有限公司", "Co., Ltd."), ("集团有限公司", "Group Co., Ltd.")]
TITLES = [("销售经理", "Sales Manager"), ("区域销售总监", "Regional Sales Director"), ("总经理", "General Manager"),
          ("技术总监", "Technical Director"), ("高级工程师", "Senior Engineer"), ("市场经理", "Marketing Manager"),
          ("客户经理", "Account Manager"), ("采购主管", "Purchasing Supervisor"), ("副总裁", "Vice President"),
          ("项目经理", "Project Manager"), ("董事长", "Chairman")]
DEPARTMENTS = [("销售部", "Sales Department"), ("市场部", "Marketing Department"), ("研发中心", "R&D Center"),
               ("华东事业部", "East China Division"), ("采购部", "Purchasing Department"), ("技术支持部", "Technical Support Dept.")]
TLDS = [".com", ".com.cn", ".cn", ".net"]


@dataclass(frozen=True, slots=True)
class Persona:
    """One card's facts in both languages."""

    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    company_zh: str
    company_en: str
    department_zh: str | None
    department_en: str | None
    address_zh: tuple[str, str]  # the two lines it is printed on
    address_en: tuple[str, str]
    mobile: str  # as printed, national format
    mobile_e164: str
    office: str | None
    office_e164: str | None
    fax: str | None
    fax_e164: str | None
    email: str
    website: str | None
    wechat: str | None
    qq: str | None

    def truth(self, lang: str) -> dict[str, object]:
        """What the parser should return for a card printed in ``lang`` (zh / en / bi)."""
        zh = lang in ("zh", "bi")
        phones = [{"number": self.mobile_e164, "kind": "mobile"}]
        if self.office_e164:
            phones.append({"number": self.office_e164, "kind": "office"})
        if self.fax_e164:
            phones.append({"number": self.fax_e164, "kind": "fax"})
        return {
            "name": self.name_zh if zh else self.name_en,
            "title": self.title_zh if zh else self.title_en,
            "company": self.company_zh if zh else self.company_en,
            "department": self.department_zh if zh else self.department_en,
            "phones": phones,
            "emails": [self.email],
            "website": self.website,
            "address": "".join(self.address_zh) if zh else " ".join(self.address_en),
            "wechat": self.wechat,
            "qq": self.qq,
        }


def _valid(rng: random.Random, draw: Callable[[], str], prefix: str) -> str:
    """Draw numbers until libphonenumber accepts one (real cards carry numbers that exist)."""
    while True:
        digits = draw()
        fax = digits[:-1] + str((int(digits[-1]) + 1) % 10)
        if all(phonenumbers.is_valid_number(phonenumbers.parse(prefix + d, "CN")) for d in (digits, fax)):
            return digits


def make_persona(rng: random.Random, *, western: bool = False) -> Persona:
    """A random persona; ``western`` gives an English-only name with no Chinese form."""
    sur_zh, sur_en = rng.choice(SURNAMES)
    giv_zh, giv_en = rng.choice(GIVEN)
    if western:
        first, last = rng.choice(WESTERN_FIRST), rng.choice(WESTERN_LAST)
        name_en, name_zh, local = f"{first} {last}", f"{first} {last}", f"{first}.{last}".lower()
    else:
        name_zh = sur_zh + giv_zh
        name_en = rng.choice([f"{giv_en} {sur_en}", f"{sur_en} {giv_en}"])
        local = rng.choice([f"{giv_en}.{sur_en}", f"{sur_en}{giv_en}", f"{giv_en[0]}{sur_en}"]).lower()
    city_zh, city_en, area, prov_zh, prov_en, districts = rng.choice(CITIES)
    dist_zh, dist_en = rng.choice(districts)
    road_zh, road_en = rng.choice(ROADS)
    bld_zh, bld_en = rng.choice(BUILDINGS)
    number, floor, room = rng.randint(1, 999), rng.randint(2, 38), rng.randint(1, 30)
    brand_zh, brand_en = rng.choice(BRANDS)
    ind_zh, ind_en = rng.choice(INDUSTRIES)
    legal_zh, legal_en = rng.choice(LEGAL)
    title_zh, title_en = rng.choice(TITLES)
    dept = rng.choice(DEPARTMENTS) if rng.random() < 0.6 else (None, None)
    domain = (brand_en + rng.choice(["", "-" + ind_en.split()[0]])).lower() + rng.choice(TLDS)
    mobile_digits = _valid(rng, lambda: rng.choice(["13", "15", "18", "17", "19"]) + str(rng.randint(0, 9)) + f"{rng.randint(0, 99_999_999):08d}", "")
    office_local = _valid(rng, lambda: str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(7)), "0" + area)
    fax_local = office_local[:-1] + str((int(office_local[-1]) + 1) % 10)
    mobile = rng.choice([f"{mobile_digits[:3]} {mobile_digits[3:7]} {mobile_digits[7:]}", mobile_digits,
                         f"+86 {mobile_digits[:3]}-{mobile_digits[3:7]}-{mobile_digits[7:]}"])
    has_office, has_fax = rng.random() < 0.85, rng.random() < 0.45
    office = rng.choice([f"0{area}-{office_local}", f"+86 {area} {office_local[:4]} {office_local[4:]}", f"(0{area}) {office_local}"])
    fax = f"0{area}-{fax_local}"
    return Persona(
        name_zh=name_zh,
        name_en=name_en,
        title_zh=title_zh,
        title_en=title_en,
        company_zh=f"{city_zh}{brand_zh}{ind_zh}{legal_zh}",
        company_en=f"{city_en} {brand_en} {ind_en} {legal_en}",
        department_zh=dept[0],
        department_en=dept[1],
        address_zh=(f"{prov_zh}{city_zh}市{dist_zh}{road_zh}{number}号", f"{bld_zh}{floor}楼{floor}{room:02d}室"),
        address_en=(f"Room {floor}{room:02d}, {floor}F, {bld_en}, {number} {road_en},",
                    f"{dist_en}, {city_en}" + (f", {prov_en}" if prov_en else "") + ", China"),
        mobile=mobile,
        mobile_e164="+86" + mobile_digits,
        office=office if has_office else None,
        office_e164=f"+86{area}{office_local}" if has_office else None,
        fax=fax if has_fax else None,
        fax_e164=f"+86{area}{fax_local}" if has_fax else None,
        email=f"{local}@{domain}",
        website=f"www.{domain}" if rng.random() < 0.7 else None,
        wechat=(f"wx_{local.replace('.', '_')}{rng.randint(1, 99)}" if rng.random() < 0.5 else None) if not western else None,
        qq=str(rng.randint(10_000_000, 2_999_999_999)) if rng.random() < 0.25 and not western else None,
    )
