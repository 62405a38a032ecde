"""A deterministic, realistic synthetic corpus of all four record types, written the way departments
upload: CSV with Chinese headers in UTF-8 and GBK, national-code headers, XLSX, court JSON/JSONL keys.

It includes what real uploads contain: valid credit codes, natural persons with masked and unmasked ID
numbers, 万元 amounts, dates in several formats, expired, repaired and withdrawn records, deliberate
duplicates and a few invalid rows. ``manifest.json`` lists what was planted, for tests and benchmarks.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from analyzers.codes import (
    USCC_CHARS,
    id_card_check_char,
    mask_id_number,
    org_code_check_char,
    uscc_check_char,
)

TODAY = date(2026, 11, 1)  # fixed so that a seed always gives the same corpus and the same expiries

_DISTRICTS = [("清城区", "441802"), ("清新区", "441803"), ("英德市", "441881"), ("连州市", "441882"),
              ("佛冈县", "441821"), ("阳山县", "441823"), ("连山壮族瑶族自治县", "441825"),
              ("连南瑶族自治县", "441826")]
_OTHER_CITIES = [("广州市", "440100"), ("佛山市", "440600"), ("韶关市", "440200"), ("肇庆市", "441200"),
                 ("东莞市", "441900"), ("深圳市", "440300")]


def _authority(district: str, department: str) -> str:
    """A 清远 department's name as it signs: the city's (清远市…); a district's under the city (清远市清城区…);
    a county's or county-level city's on its own (阳山县…, 英德市…). Ecology is run by the city's branch offices
    (清远市生态环境局阳山分局) and fire rescue by county brigades (阳山县消防救援大队)."""
    if not district:
        return f"清远市{department}"
    if department == "生态环境局":
        return f"清远市生态环境局{district[:2]}分局"
    if department == "消防救援支队":
        department = "消防救援大队"
    return f"清远市{district}{department}" if district.endswith("区") else f"{district}{department}"


_NAME_CHARS = ("恒达宏图鑫源华盛金泰永利嘉禾德信北江凤城粤清远兴隆昌盛泰丰瑞祥和顺安康福华联众创新"
               "天成海鑫合力万家信诚博远正大中南鸿运旭日广源宝德明辉志远东升盈通汇丰佳美润发荣辉锦绣")
_INDUSTRIES = ["建筑工程", "商贸", "餐饮管理", "食品", "物业管理", "运输", "医药", "建材", "环保科技",
               "房地产开发", "电子科技", "农业发展", "五金", "汽车服务", "文化传媒", "劳务", "机械设备",
               "装饰工程", "水泥", "陶瓷"]
_FORMS = ["有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司", "(普通合伙)", "农民专业合作社"]
_SHOPS = ["五金店", "便利店", "餐馆", "大药房", "粮油店", "汽修厂", "小食店", "美发店"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁宋郑谢韩唐冯邓曹彭曾肖田"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌辉玲"

_DEPARTMENTS = [
    ("市场监督管理局", "监罚", "food"), ("市场监督管理局", "监罚", "price"),
    ("生态环境局", "环罚", "env"), ("住房和城乡建设局", "建罚", "build"),
    ("应急管理局", "应急罚", "safety"), ("交通运输局", "交罚", "traffic"),
    ("消防救援支队", "消行罚决字", "fire"), ("城市管理和综合执法局", "城管罚", "dust"),
]
_FACTS: dict[str, list[tuple[str, str, str, str]]] = {
    # violation type, facts, legal basis, categories
    "food": [
        ("销售过期食品", "当事人在其经营场所销售超过保质期的{x}，货值金额{v}元", "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项", "罚款、没收违法所得"),
        ("未取得食品经营许可从事食品经营", "当事人未取得食品经营许可证擅自从事{x}经营活动", "《中华人民共和国食品安全法》第一百二十二条第一款", "罚款、没收违法所得"),
        ("食品从业人员未取得健康证明", "当事人安排未取得健康证明的人员从事接触直接入口食品的工作", "《中华人民共和国食品安全法》第一百二十六条第一款第（六）项", "警告"),
    ],
    "price": [
        ("不明码标价", "当事人销售{x}未按规定明码标价", "《中华人民共和国价格法》第四十二条", "警告、罚款"),
        ("哄抬价格", "当事人在疫情期间大幅提高{x}销售价格", "《价格违法行为行政处罚规定》第六条", "罚款"),
    ],
    "env": [
        ("超标排放水污染物", "当事人废水排放口化学需氧量浓度超过排放标准{v}倍", "《中华人民共和国水污染防治法》第八十三条第（二）项", "罚款、责令停产停业"),
        ("未验收擅自投入生产", "当事人配套环境保护设施未经验收即投入生产", "《建设项目环境保护管理条例》第二十三条", "罚款"),
    ],
    "build": [
        ("未取得施工许可证擅自施工", "当事人在{p}项目未取得施工许可证擅自开工建设", "《建筑工程施工许可管理办法》第十二条", "罚款"),
        ("违法分包", "当事人将{p}项目主体结构施工分包给不具备资质的单位", "《建设工程质量管理条例》第六十二条", "罚款、没收违法所得"),
    ],
    "safety": [
        ("未按规定开展安全生产教育培训", "当事人未对从业人员进行安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条第（三）项", "警告、罚款"),
        ("重大事故隐患未排除", "当事人存在重大事故隐患未采取措施消除", "《中华人民共和国安全生产法》第一百零二条", "罚款、责令停产停业"),
    ],
    "traffic": [
        ("超限运输", "当事人所属车辆违法超限运输{x}，超限{v}吨", "《公路安全保护条例》第六十四条", "罚款"),
        ("未取得道路运输经营许可", "当事人未取得道路运输经营许可擅自从事道路货物运输经营", "《中华人民共和国道路运输条例》第六十三条", "罚款、没收违法所得"),
    ],
    "fire": [
        ("消防设施未保持完好有效", "当事人经营场所消防设施、器材未保持完好有效", "《中华人民共和国消防法》第六十条第一款第（一）项", "罚款"),
        ("堵塞消防通道", "当事人占用、堵塞、封闭疏散通道、安全出口", "《中华人民共和国消防法》第六十条第一款第（三）项", "警告、罚款"),
    ],
    "dust": [
        ("施工工地扬尘污染", "当事人{p}施工工地裸露土方未采取覆盖措施，造成扬尘污染", "《中华人民共和国大气污染防治法》第一百一十五条", "罚款"),
        ("渣土运输车辆未密闭", "当事人运输渣土车辆未采取密闭措施，沿途抛洒", "《中华人民共和国大气污染防治法》第一百一十六条", "罚款"),
    ],
}
_GOODS = ["乳制品", "饮料", "面包", "肉制品", "食用油", "调味品", "口罩", "建筑材料", "钢材", "水泥"]
_PROJECTS = ["清远市北江一路改造工程", "清城区人民医院新院区", "英德市工业园标准厂房", "清新区安置小区二期",
             "连州市中学教学楼", "佛冈县污水处理厂提标改造"]
_LICENCES = [
    ("食品经营许可", "食品经营许可证", "JY", "预包装食品销售，散装食品销售，热食类食品制售", "市场监督管理局", "核准"),
    ("建筑工程施工许可", "建筑工程施工许可证", "JZ", "{p}新建工程施工", "住房和城乡建设局", "核准"),
    ("排污许可", "排污许可证", "PW", "废水、废气污染物排放", "生态环境局", "认可"),
    ("道路运输经营许可", "道路运输经营许可证", "YS", "道路普通货物运输", "交通运输局", "普通"),
    ("药品经营许可", "药品经营许可证", "YP", "中成药、化学药制剂、抗生素制剂零售", "市场监督管理局", "核准"),
    ("公共场所卫生许可", "卫生许可证", "WS", "住宿、美容美发场所", "卫生健康局", "普通"),
]
_COURTS = [("清远市中级人民法院", "粤18"), ("清远市清城区人民法院", "粤1802"), ("清远市清新区人民法院", "粤1803"),
           ("英德市人民法院", "粤1881"), ("连州市人民法院", "粤1882"), ("佛冈县人民法院", "粤1821")]
_DISRUPT = ["有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "违反限制消费令",
            "以伪造证据、暴力、威胁等方法妨碍、抗拒执行", "其他有履行能力而拒不履行生效法律文书确定义务"]
_COMMIT_TYPES = [("容缺受理型", "申请办理{x}许可，部分申请材料暂缺，承诺在20个工作日内补齐"),
                 ("信用修复型", "申请信用修复，承诺今后严格遵守{x}相关法律法规"),
                 ("证明事项型", "以告知承诺方式替代无犯罪记录证明等证明材料"),
                 ("审批替代型", "承诺符合{x}经营条件，申请告知承诺制审批"),
                 ("行业自律型", "承诺依法诚信经营，自觉接受{x}行业协会监督"),
                 ("主动型", "主动承诺诚信经营，不销售假冒伪劣商品")]
_FULFIL = ["全部履行", "全部履行", "未到期", "部分履行", "全部未履行"]

PENALTY_CN = ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人", "证件类型", "证件号码",
              "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
              "罚款金额（万元）", "没收违法所得、没收非法财物的金额（万元）", "处罚决定日期", "处罚有效期",
              "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位", "备注"]
PENALTY_CODES = ["CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_FRDB", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_WSH",
                 "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK", "CF_NR_WFFF", "CF_JDRQ", "CF_YXQ",
                 "CF_GSJZQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "BZ"]
LICENSING_CN = ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人", "证件类型", "证件号码",
                "行政许可决定文书名称", "行政许可决定文书号", "许可类别", "许可证书名称", "许可编号", "许可内容",
                "项目名称", "许可决定日期", "有效期自", "有效期至", "许可机关", "许可机关统一社会信用代码",
                "当前状态", "数据来源单位", "备注"]
LICENSING_CODES = ["XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_FRDB", "XK_XDR_ZJLX", "XK_XDR_ZJHM", "XK_XKWS",
                   "XK_WSH", "XK_XKLB", "XK_XKZS", "XK_XKBH", "XK_NR", "项目名称", "XK_JDRQ", "XK_YXQZ",
                   "XK_YXQZI", "XK_XKJG", "XK_XKJGDM", "XK_ZT", "XK_LYDW", "BZ"]
COMMITMENT_CN = ["承诺编码", "承诺人名称", "承诺人类别", "承诺人代码", "承诺类型", "承诺事由", "承诺内容", "违诺责任",
                 "承诺作出日期", "承诺有效期", "承诺履行状态", "未履行的承诺内容", "履行状态认定日期", "认定单位",
                 "承诺受理单位", "公开类型"]
CORRECTION_HEADERS = ["类型", "文书号", "当事人名称", "操作", "日期", "原因"]


@dataclass(slots=True)
class Subject:
    name: str
    code: str  # USCC, empty for natural persons
    category: str  # 法人及非法人组织 / 个体工商户 / 自然人
    id_number: str  # natural persons only
    legal_rep: str
    district: str


def make_uscc(rng: random.Random, region_code: str, prefix: str = "91") -> str:
    """A valid 统一社会信用代码: authority and type prefix (91 enterprise, 92 个体工商户, 93 cooperative),
    region code, a GB 11714 organisation code and the GB 32100 check character."""
    body = "".join(rng.choice(USCC_CHARS) for _ in range(8))
    head = prefix + region_code + body + org_code_check_char(body)
    return head + uscc_check_char(head)


def make_id_number(rng: random.Random, region_code: str) -> str:
    """A resident ID number with a valid check character."""
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
    body = f"{region_code}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + id_card_check_char(body)


class _Corpus:
    def __init__(self, seed: int, records: int) -> None:
        self.rng = random.Random(seed)
        self.records = records
        self.subjects = [self._subject(i) for i in range(max(20, records // 3))]
        self.serials: dict[str, int] = {}
        self.planted: dict[str, int] = {"invalid": 0, "duplicates": 0, "not_public": 0, "staff_only": 0,
                                        "persons_unmasked": 0, "corrections": 0}

    def _person_name(self) -> str:
        r = self.rng
        return r.choice(_SURNAMES) + "".join(r.choice(_GIVEN) for _ in range(r.choice((1, 2))))

    def _subject(self, i: int) -> Subject:
        r = self.rng
        district, code = r.choice(_DISTRICTS) if r.random() < 0.85 else r.choice(_OTHER_CITIES)
        brand = "".join(r.sample(_NAME_CHARS, 2))
        roll = r.random()
        if roll < 0.08:
            name = self._person_name()
            return Subject(name, "", "自然人", make_id_number(r, code), "", district)
        if roll < 0.2:
            name = f"{district}{brand}{r.choice(_SHOPS)}"
            return Subject(name, make_uscc(r, code, "92"), "个体工商户", "", self._person_name(), district)
        prefix = r.choice(["清远市", f"清远市{district}", "清远", "广东"]) if code.startswith("4418") else district
        form = r.choice(_FORMS)
        name = f"{prefix}{brand}{r.choice(_INDUSTRIES)}{form}"
        if form == "(普通合伙)":
            name = f"{prefix}{brand}{r.choice(_INDUSTRIES)}合伙企业(普通合伙)"
        prefix_code = "93" if "合作社" in form else "91"
        return Subject(name, make_uscc(r, code, prefix_code), "法人及非法人组织", "", self._person_name(), district)

    def date_text(self, d: date, style: int) -> str:
        return [f"{d:%Y-%m-%d}", f"{d.year}/{d.month}/{d.day}", f"{d:%Y%m%d}", f"{d:%Y年%m月%d日}",
                f"{d:%Y.%m.%d}"][style % 5]

    def decision_date(self) -> date:
        # Most records are recent; about a fifth are old enough to be past their publication window.
        days = int(self.rng.triangular(0, 365 * 6, 200))
        return TODAY - timedelta(days=days)

    def serial(self, key: str) -> int:
        self.serials[key] = self.serials.get(key, 0) + 1
        return self.serials[key]

    def identity(self, s: Subject, masked: bool) -> tuple[str, str, str]:
        if s.category != "自然人":
            return s.code, "", ""
        if masked:
            return "", "身份证", mask_id_number(s.id_number)
        self.planted["persons_unmasked"] += 1
        return "", "身份证", s.id_number

    def penalty(self, style: int) -> dict[str, str]:
        r = self.rng
        s = r.choice(self.subjects)
        dept, abbr, topic = r.choice(_DEPARTMENTS)
        district = s.district if s.district in dict(_DISTRICTS) and r.random() < 0.5 else ""
        authority = _authority(district, dept)
        d = self.decision_date()
        vtype, facts, basis, cats = r.choice(_FACTS[topic])
        facts = facts.format(x=r.choice(_GOODS), v=r.randrange(2, 90), p=r.choice(_PROJECTS))
        fine = r.choice([0.05, 0.2, 0.5, 1, 2, 3.5, 5, 10, 20]) if "罚款" in cats else 0
        confiscated = round(r.uniform(0.01, 2), 2) if "没收" in cats else 0
        content = "；".join(x for x in (f"罚款{fine * 10000:.0f}元" if fine else "", "给予警告" if "警告" in cats else "",
                                       f"没收违法所得{confiscated * 10000:.0f}元" if confiscated else "",
                                       "责令停产停业" if "停产" in cats else "") if x)
        code, id_type, id_number = self.identity(s, masked=r.random() < 0.5)
        short = "清" + ("" if not district else district[0]) + abbr
        opening, closing = r.choice(("〔〕", "()", "（）", "[]", "【】"))
        publish = "" if r.random() < 0.5 else self.date_text(d + timedelta(days=365 * r.choice((1, 3))), style)
        return {
            "行政相对人名称": s.name, "行政相对人类别": s.category, "统一社会信用代码": code,
            "法定代表人": s.legal_rep, "证件类型": id_type, "证件号码": id_number,
            "行政处罚决定书文号": f"{short}{opening}{d.year}{closing}{self.serial(short + str(d.year))}号",
            "违法行为类型": vtype, "违法事实": facts, "处罚依据": basis, "处罚类别": cats, "处罚内容": content,
            "罚款金额（万元）": f"{fine:g}" if fine else "", "没收违法所得、没收非法财物的金额（万元）":
            f"{confiscated:g}" if confiscated else "", "处罚决定日期": self.date_text(d, style),
            "处罚有效期": "", "公示截止期": publish, "处罚机关": authority,
            "处罚机关统一社会信用代码": "", "数据来源单位": authority, "备注": "",
        }

    def licensing(self, style: int) -> dict[str, str]:
        r = self.rng
        s = r.choice(self.subjects)
        lic, cert, prefix, content, dept, cat = r.choice(_LICENCES)
        d = self.decision_date()
        # A subject registered in another city is licensed by the city's own authority (never 清远市深圳市…).
        local = s.district in dict(_DISTRICTS)
        authority = _authority(s.district if local and r.random() >= 0.6 else "", dept)
        project = r.choice(_PROJECTS) if prefix == "JZ" else ""
        code, id_type, id_number = self.identity(s, masked=r.random() < 0.7)
        until = d + timedelta(days=365 * 5)
        number = f"{prefix}{4418}{d.year}{self.serial(prefix):06d}"
        return {
            "行政相对人名称": s.name, "行政相对人类别": s.category, "统一社会信用代码": code,
            "法定代表人": s.legal_rep, "证件类型": id_type, "证件号码": id_number,
            "行政许可决定文书名称": f"{lic}决定书", "行政许可决定文书号": number, "许可类别": cat,
            "许可证书名称": cert, "许可编号": number, "许可内容": content.format(p=project), "项目名称": project,
            "许可决定日期": self.date_text(d, style), "有效期自": self.date_text(d, style),
            "有效期至": "长期" if r.random() < 0.1 else self.date_text(until, style), "许可机关": authority,
            "许可机关统一社会信用代码": "", "当前状态": "有效" if until > TODAY else "无效",
            "数据来源单位": authority, "备注": "",
        }

    def dishonest(self, style: int) -> dict[str, Any]:
        r = self.rng
        s = r.choice(self.subjects)
        court, prefix = r.choice(_COURTS)
        d = self.decision_date()
        filed = d - timedelta(days=r.randrange(30, 400))
        person = s.category == "自然人"
        card = mask_id_number(s.id_number) if person else s.code[:10] + "****" + s.code[14:]
        amount = r.randrange(5, 500) * 1000
        # Courts publish either a Chinese date or a millisecond timestamp (noon Beijing time).
        publish: Any = f"{d:%Y年%m月%d日}" if style % 2 else int(
            datetime(d.year, d.month, d.day, 4, tzinfo=UTC).timestamp() * 1000)
        return {
            "iname": s.name, "cardNum": card, "businessEntity": "" if person else s.legal_rep,
            "areaName": "广东", "courtName": court,
            "caseCode": f"({filed.year}){prefix}执{self.serial(prefix + str(filed.year))}号",
            "gistId": f"({filed.year - 1}){prefix}民初{r.randrange(100, 9999)}号", "gistUnit": court,
            "duty": f"被告应于判决生效之日起十日内向原告支付货款{amount}元及利息",
            "performance": r.choice(["全部未履行", "全部未履行", "部分未履行"]),
            "performedPart": "", "unperformPart": f"{amount}元",
            "disruptTypeName": r.choice(_DISRUPT), "regDate": f"{filed:%Y%m%d}",
            "publishDate" if style % 2 else "publishDateStamp": publish,
            "partyTypeName": "0" if person else "1",
            **({"sexy": r.choice(["男", "女"]), "age": str(r.randrange(25, 65))} if person else {}),
        }

    def commitment(self, style: int) -> dict[str, str]:
        r = self.rng
        s = r.choice(self.subjects)
        ctype, reason = r.choice(_COMMIT_TYPES)
        d = self.decision_date()
        region = dict(_DISTRICTS).get(s.district, "441800")
        roll = r.random()
        disclosure = "可向社会公开" if roll < 0.8 else "特定范围内公开" if roll < 0.95 else "不可公开"
        if disclosure == "不可公开":
            self.planted["not_public"] += 1
        elif disclosure == "特定范围内公开":
            self.planted["staff_only"] += 1
        fulfil = r.choice(_FULFIL)
        id_number = self.identity(s, masked=False)[2] if s.category == "自然人" else ""
        return {
            "承诺编码": f"{region}{d:%Y%m%d}{self.serial('cn' + str(d)):06d}", "承诺人名称": s.name,
            "承诺人类别": s.category, "承诺人代码": s.code or id_number, "承诺类型": ctype,
            "承诺事由": reason.format(x=r.choice(["食品经营", "建筑施工", "道路运输", "药品经营"])),
            "承诺内容": "本单位（人）承诺所提供材料真实有效，如有虚假，愿意承担相应法律责任并接受信用惩戒",
            "违诺责任": "撤销相关许可，记入信用记录", "承诺作出日期": self.date_text(d, style),
            "承诺有效期": self.date_text(d + timedelta(days=365), style), "承诺履行状态": fulfil,
            "未履行的承诺内容": "未在承诺期限内补齐材料" if fulfil in ("部分履行", "全部未履行") else "",
            "履行状态认定日期": self.date_text(d + timedelta(days=60), style) if fulfil != "未到期" else "",
            "认定单位": "清远市政务服务数据管理局", "承诺受理单位": "清远市政务服务数据管理局",
            "公开类型": disclosure,
        }


def _spoil(rng: random.Random, row: dict[str, Any], kind: str) -> dict[str, Any]:
    """Plant one realistic error in a row."""
    row = dict(row)
    choice = rng.randrange(4)
    if kind == "dishonest":
        row["caseCode"] = ""
    elif choice == 0 and row.get("统一社会信用代码"):
        code = row["统一社会信用代码"]
        row["统一社会信用代码"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    elif choice == 1:
        date_field = next(k for k in row if "日期" in k)
        row[date_field] = "2023-13-45"
    elif choice == 2 and "罚款金额（万元）" in row:
        row["罚款金额（万元）"] = "两万"
    else:
        number_field = next(k for k in row if k in ("行政处罚决定书文号", "行政许可决定文书号", "承诺编码"))
        row[number_field] = ""
    return row


def _write_csv(path: Path, headers: list[str], rows: Iterator[dict[str, Any]], encoding: str,
               rename: list[str] | None = None) -> int:
    count = 0
    with path.open("w", encoding=encoding, newline="", errors="strict") as fh:
        writer = csv.writer(fh)
        writer.writerow(rename or headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
            count += 1
    return count


def _write_xlsx(path: Path, headers: list[str], rows: Iterator[dict[str, Any]]) -> int:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    # Padding and full-width characters in headers, as some department exports have them.
    sheet.append([h if i % 3 else f" {h} " for i, h in enumerate(headers)])
    count = 0
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
        count += 1
    book.save(path)
    return count


def generate(records: int, seed: int, out: Path) -> dict[str, Any]:
    """Write a corpus of about ``records`` rows under ``out`` and return its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = _Corpus(seed, records)
    rng = corpus.rng
    shares = {"penalty": 0.4, "licensing": 0.35, "dishonest": 0.12, "commitment": 0.13}
    files: dict[str, dict[str, Any]] = {}
    made = 0

    invalid_rows: list[tuple[str, int]] = []

    def rows(kind: str, n: int, make: Callable[[int], dict[str, Any]], file: str) -> Iterator[dict[str, Any]]:
        # Row numbers as a person counts them: the header is row 1 of a table, a JSON item counts from 1.
        first_row = 1 if file.endswith((".json", ".jsonl")) else 2
        nonlocal made
        recent: list[dict[str, Any]] = []
        for i in range(n):
            row = make(i)
            roll = rng.random()
            if roll < 0.004:
                corpus.planted["invalid"] += 1
                invalid_rows.append((file, first_row + i))
                row = _spoil(rng, row, kind)
            elif roll < 0.01 and recent:
                corpus.planted["duplicates"] += 1
                row = rng.choice(recent)
            else:
                recent = [*recent, row][-50:]
            made += 1
            yield row

    counts = {k: max(1, int(records * v)) for k, v in shares.items()}
    counts["penalty"] += records - sum(counts.values())
    p = counts["penalty"]
    # Penalties: Chinese headers in UTF-8, national codes in GBK, and a workbook.
    p_xlsx = min(p // 5, 20000)
    p_gbk = (p - p_xlsx) // 3
    files["penalty-utf8.csv"] = {"type": "penalty", "rows": _write_csv(
        out / "penalty-utf8.csv", PENALTY_CN, rows("penalty", p - p_xlsx - p_gbk, corpus.penalty, "penalty-utf8.csv"), "utf-8")}
    files["penalty-gbk-codes.csv"] = {"type": "penalty", "rows": _write_csv(
        out / "penalty-gbk-codes.csv", PENALTY_CN, rows("penalty", p_gbk, lambda i: corpus.penalty(i + 1), "penalty-gbk-codes.csv"),
        "gb18030", rename=[c.lower() if i % 2 else c for i, c in enumerate(PENALTY_CODES)])}
    files["penalty.xlsx"] = {"type": "penalty", "rows": _write_xlsx(
        out / "penalty.xlsx", PENALTY_CN, rows("penalty", p_xlsx, lambda i: corpus.penalty(i + 2), "penalty.xlsx"))}
    lic = counts["licensing"]
    l_xlsx = min(lic // 5, 20000)
    files["licensing-bom.csv"] = {"type": "licensing", "rows": _write_csv(
        out / "licensing-bom.csv", LICENSING_CN, rows("licensing", lic - l_xlsx, corpus.licensing, "licensing-bom.csv"), "utf-8-sig",
        rename=LICENSING_CODES)}
    files["licensing.xlsx"] = {"type": "licensing", "rows": _write_xlsx(
        out / "licensing.xlsx", LICENSING_CN, rows("licensing", l_xlsx, lambda i: corpus.licensing(i + 3), "licensing.xlsx"))}
    d = counts["dishonest"]
    with (out / "dishonest.json").open("w", encoding="utf-8") as fh:
        items = list(rows("dishonest", d // 2, corpus.dishonest, "dishonest.json"))
        json.dump({"result": items}, fh, ensure_ascii=False)
    files["dishonest.json"] = {"type": "dishonest", "rows": len(items)}
    n = 0
    with (out / "dishonest.jsonl").open("w", encoding="utf-8") as fh:
        for item in rows("dishonest", d - d // 2, lambda i: corpus.dishonest(i + 1), "dishonest.jsonl"):
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
            n += 1
    files["dishonest.jsonl"] = {"type": "dishonest", "rows": n}
    files["commitment-gbk.csv"] = {"type": "commitment", "rows": _write_csv(
        out / "commitment-gbk.csv", COMMITMENT_CN, rows("commitment", counts["commitment"], corpus.commitment, "commitment-gbk.csv"),
        "gbk")}
    corrections = _corrections(corpus, out, {row for file, row in invalid_rows if file == "penalty-utf8.csv"})
    manifest = {"seed": seed, "records": made, "today": TODAY.isoformat(), "files": files,
                "planted": corpus.planted, "invalid_rows": invalid_rows, "corrections_file": corrections}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _corrections(corpus: _Corpus, out: Path, spoiled: set[int]) -> str:
    """A corrections file (repairs and withdrawals) for some valid penalties already written."""
    rng = random.Random(corpus.rng.random())
    rows = []
    done: set[str] = set()
    with (out / "penalty-utf8.csv").open(encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            if number not in spoiled and row["行政处罚决定书文号"] not in done and rng.random() < 0.02:
                done.add(row["行政处罚决定书文号"])
                repair = rng.random() < 0.6
                rows.append({"类型": "penalty", "文书号": row["行政处罚决定书文号"], "当事人名称": row["行政相对人名称"],
                             "操作": "信用修复" if repair else "撤销",
                             "日期": "2026-10-15", "原因": "已完成信用修复" if repair else "异议核实后撤销"})
    corpus.planted["corrections"] = len(rows)
    path = out / "corrections.csv"
    _write_csv(path, CORRECTION_HEADERS, iter(rows), "utf-8-sig")
    return path.name
