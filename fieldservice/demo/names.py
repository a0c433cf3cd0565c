"""Names of people and companies, Chinese and English, with pinyin for e-mail addresses."""

from __future__ import annotations

import random

from fieldservice.demo.context import Park

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("沈", "shen"),
    ("顾", "gu"),
)
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("强", "qiang"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("建华", "jianhua"),
    ("志强", "zhiqiang"),
    ("海燕", "haiyan"),
    ("晓东", "xiaodong"),
    ("文博", "wenbo"),
    ("嘉怡", "jiayi"),
    ("子涵", "zihan"),
    ("宇航", "yuhang"),
    ("思远", "siyuan"),
    ("立新", "lixin"),
)
CONTACT_TITLES = (
    "设备经理",
    "厂务经理",
    "维修主管",
    "EHS经理",
    "采购经理",
    "Facility Manager",
    "Maintenance Lead",
    "IT运维经理",
    "生产经理",
)

# (Chinese core, English core) for company names.
NAME_CORES: tuple[tuple[str, str], ...] = (
    ("精密", "Precision"),
    ("华芯", "Huaxin"),
    ("恒通", "Hengtong"),
    ("天宇", "Tianyu"),
    ("博远", "Boyuan"),
    ("瑞丰", "Ruifeng"),
    ("科泰", "Ketai"),
    ("鼎盛", "Dingsheng"),
    ("英飞", "Yingfei"),
    ("汇川", "Huichuan"),
    ("东方", "Oriental"),
    ("长江", "Changjiang"),
    ("新世纪", "New Century"),
    ("联创", "Lianchuang"),
    ("晶微", "Jingwei"),
    ("海天", "Haitian"),
    ("宏达", "Hongda"),
    ("嘉禾", "Jiahe"),
    ("明阳", "Mingyang"),
    ("金盛", "Jinsheng"),
    ("星辰", "Xingchen"),
    ("中科", "Zhongke"),
    ("凯捷", "Kaijie"),
    ("德尔", "Delta"),
    ("盛美", "Shengmei"),
    ("安泰", "Antai"),
    ("百川", "Baichuan"),
    ("华为", "Huawei"),
    ("力拓", "Lituo"),
)
INDUSTRY_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "semiconductor": (("半导体", "Semiconductor"), ("微电子", "Microelectronics"), ("集成电路", "IC")),
    "electronics_assembly": (
        ("电子", "Electronics"),
        ("电子科技", "Electronic Technology"),
        ("智能制造", "Smart Mfg."),
    ),
    "automotive_parts": (
        ("汽车零部件", "AutoParts"),
        ("汽配", "Automotive"),
        ("精工", "Precision Components"),
    ),
    "pharma": (("制药", "Pharmaceutical"), ("生物医药", "Biopharma"), ("药业", "Pharma")),
    "data_center": (("数据科技", "Data Technology"), ("云计算", "Cloud"), ("信息港", "Data Centre")),
    "machinery": (("机械", "Machinery"), ("重工", "Heavy Industries"), ("装备", "Equipment")),
}
SITE_LABELS = (
    "一号厂房",
    "二号厂房",
    "三号厂房",
    "研发中心",
    "Plant 1",
    "Plant 2",
    "Fab A",
    "Fab B",
    "A栋",
    "B栋",
    "总装车间",
    "机加工车间",
    "Warehouse & Utilities",
    "动力站",
)
LANDLINE_DIGITS = 8
DATA_CENTRE_LABELS = ("数据中心A栋", "数据中心B栋", "DC1", "DC2", "Data Hall 3")


def person(rng: random.Random) -> tuple[str, str, str, str]:
    """(surname, given name, surname pinyin, given pinyin)."""
    surname, surname_py = rng.choice(SURNAMES)
    given, given_py = rng.choice(GIVEN_NAMES)
    return surname, given, surname_py, given_py


def company_name(rng: random.Random, park: Park, industry: str) -> tuple[str, str]:
    """(display name, English slug for the domain); roughly 60 % Chinese names."""
    core_zh, core_en = rng.choice(NAME_CORES)
    word_zh, word_en = rng.choice(INDUSTRY_WORDS[industry])
    slug = "".join(ch for ch in f"{park.city_en}{core_en}".lower() if ch.isalnum())
    if rng.random() < 0.6:
        return f"{park.city_zh}{core_zh}{word_zh}有限公司", slug
    suffix = rng.choice(("Co., Ltd.", "Co.", "(China) Ltd.", "Technology Co., Ltd."))
    return f"{park.city_en} {core_en} {word_en} {suffix}", slug


def landline(rng: random.Random, park: Park) -> str:
    number = "".join(str(rng.randint(0, 9)) for _ in range(LANDLINE_DIGITS - 1))
    return f"+86 {park.area_code} {rng.randint(5, 8)}{number[:3]} {number[3:]}"


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(("135", "136", "138", "139", "150", "151", "186", "187", "188"))
    return f"+86 {prefix} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def street_address(rng: random.Random, park: Park) -> str:
    return f"{park.name_zh}{rng.choice(park.streets)}{rng.randint(1, 999)}号"
