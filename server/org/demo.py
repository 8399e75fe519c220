"""A realistic demo organisation for ``fieldsync admin seed``: a Shanghai sales office.

One boss, two managers (Puxi and Pudong teams), six reps, and customer
accounts with Chinese and English names at real coordinates of Shanghai's
districts (WGS-84, jittered within a few hundred metres of each district
centre). Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

# (district, English, lat, lon, east of the Huangpu river)
DISTRICTS = (
    ("黄浦区", "Huangpu", 31.2317, 121.4846, False),
    ("静安区", "Jing'an", 31.2286, 121.4480, False),
    ("徐汇区", "Xuhui", 31.1886, 121.4365, False),
    ("长宁区", "Changning", 31.2204, 121.4243, False),
    ("普陀区", "Putuo", 31.2497, 121.3955, False),
    ("虹口区", "Hongkou", 31.2646, 121.5054, False),
    ("杨浦区", "Yangpu", 31.2596, 121.5260, False),
    ("闵行区", "Minhang", 31.1128, 121.3817, False),
    ("嘉定区", "Jiading", 31.3747, 121.2655, False),
    ("松江区", "Songjiang", 31.0323, 121.2277, False),
    ("浦东新区", "Pudong", 31.2215, 121.5447, True),
    ("浦东新区", "Zhangjiang", 31.2035, 121.5908, True),
    ("浦东新区", "Jinqiao", 31.2600, 121.6050, True),
    ("浦东新区", "Lujiazui", 31.2397, 121.4998, True),
    ("浦东新区", "Chuansha", 31.1890, 121.7000, True),
)
PREFIX = (("华东", "Huadong"), ("申城", "Shencheng"), ("浦江", "Pujiang"), ("东方", "Dongfang"), ("海纳", "Haina"),
          ("金桥", "Jinqiao"), ("长江", "Changjiang"), ("宏达", "Hongda"), ("恒信", "Hengxin"), ("联创", "Lianchuang"),
          ("明珠", "Mingzhu"), ("新华", "Xinhua"))
TRADE = (("电气", "Electric", "electrical equipment"), ("机械", "Machinery", "machinery"), ("贸易", "Trading", "trade"),
         ("物流", "Logistics", "logistics"), ("医药", "Pharma", "pharmaceuticals"), ("科技", "Technology", "software"),
         ("食品", "Foods", "food"), ("建材", "Building Materials", "construction"), ("化工", "Chemicals", "chemicals"),
         ("纺织", "Textiles", "textiles"))
FORM = (("有限公司", "Co., Ltd."), ("股份有限公司", "Holdings"), ("集团", "Group"))
ROADS = ("南京西路", "淮海中路", "世纪大道", "张江路", "虹桥路", "四川北路", "长寿路", "漕溪北路", "金科路", "陆家嘴环路")
PEOPLE = (("boss", "陈建国 Chen Jianguo"), ("mgr_puxi", "李静 Li Jing"), ("mgr_pudong", "王强 Wang Qiang"),
          ("rep_zhang", "张伟 Zhang Wei"), ("rep_liu", "刘洋 Liu Yang"), ("rep_zhao", "赵敏 Zhao Min"),
          ("rep_sun", "孙磊 Sun Lei"), ("rep_zhou", "周婷 Zhou Ting"), ("rep_wu", "吴昊 Wu Hao"))


@dataclass(frozen=True, slots=True)
class DemoAccount:
    id: str
    values: dict[str, object]
    east: bool


def demo_accounts(n: int = 300, *, seed: int = 2026) -> list[DemoAccount]:
    """``n`` customer accounts around Shanghai, half with Chinese and half with English names."""
    rng = random.Random(seed)
    out: list[DemoAccount] = []
    for i in range(n):
        district, district_en, lat, lon, east = DISTRICTS[i % len(DISTRICTS)]
        (p_cn, p_en), (t_cn, t_en, industry), (f_cn, f_en) = rng.choice(PREFIX), rng.choice(TRADE), rng.choice(FORM)
        chinese = i % 2 == 0
        name = f"上海{p_cn}{t_cn}{f_cn}" if chinese else f"Shanghai {p_en} {t_en} {f_en}"
        if any(a.values["name"] == name for a in out):
            name = f"{name} ({district_en} {i})" if not chinese else f"{name}（{district}{i}号）"
        values: dict[str, object] = {
            "name": name,
            "short_name": f"{p_cn}{t_cn}" if chinese else f"{p_en} {t_en}",
            "industry": industry,
            "tier": rng.choice("AABBBCCCC"),
            "phone": f"+8621{rng.randint(5000_0000, 6999_9999)}",
            "address": f"上海市{district}{rng.choice(ROADS)}{rng.randint(1, 1999)}号",
            "lat": round(lat + rng.uniform(-0.02, 0.02), 6),
            "lon": round(lon + rng.uniform(-0.02, 0.02), 6),
            "datum": "wgs84",
        }
        out.append(DemoAccount(str(uuid.UUID(int=rng.getrandbits(128), version=4)), values, east))
    return out


__all__ = ["DISTRICTS", "PEOPLE", "DemoAccount", "demo_accounts"]
