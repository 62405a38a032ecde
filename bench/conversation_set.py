"""The project's conversation set for /v1/ask, built from the records of an indexed corpus, and its
evaluation: intent accuracy, slot precision / recall / F1, and the share of answers stating their facts.

Each dialogue is a template of turns (first question, follow-ups with pronouns or ellipsis, a number that
answers a clarification, questions on the rules) filled with subjects, codes, districts and years taken from
the corpus. Expected slots come from the template; expected answer facts (how many records, the rule
named) are counted here from the records themselves, not through the service under test.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analyzers.codes import masked_code_matches
from analyzers.names import analyze_name
from indexer.model import Record, RecordType, SubjectCategory
from synonyms import load_regions

P, L, D, C = RecordType.PENALTY, RecordType.LICENSING, RecordType.DISHONEST, RecordType.COMMITMENT


@dataclass(slots=True)
class Turn:
    question: str
    intent: str
    slots: dict[str, Any]
    facts: tuple[str, ...] = ()  # each must appear in the answer


@dataclass(slots=True)
class Dialogue:
    name: str
    turns: list[Turn] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    code: str

    def slot(self) -> dict[str, str]:
        return {"name": self.name, "code": self.code}


def _year(year: int) -> dict[str, str]:
    return {"from": f"{year}-01-01", "to": f"{year}-12-31"}


def _recent_years(today: date, years: int) -> dict[str, str]:
    return {"from": today.replace(year=today.year - years).isoformat(), "to": today.isoformat()}


class _Facts:
    """Counts the answers must state, from the visible records."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.by_code: dict[str, list[Record]] = defaultdict(list)
        for r in records:
            if r.subject_code and "*" not in r.subject_code:
                self.by_code[r.subject_code].append(r)
        self.masked: dict[str, list[Record]] = defaultdict(list)
        for r in records:
            if "*" in r.subject_code:
                self.masked[r.subject_name].append(r)

    def of(self, company: Company, kind: RecordType | None = None, since: date | None = None,
           until: date | None = None, year: int | None = None) -> list[Record]:
        mine = self.by_code[company.code] + [r for r in self.masked[company.name]
                                              if masked_code_matches(r.subject_code, company.code)]
        if kind:
            mine = [r for r in mine if r.record_type is kind]
        if year:
            mine = [r for r in mine if r.decision_date and r.decision_date.year == year]
        if since:
            mine = [r for r in mine if r.decision_date and since <= r.decision_date <= (until or date.max)]
        return mine

    def count_fact(self, company: Company, kind: RecordType | None, **when: Any) -> str:
        n = len(self.of(company, kind, **when))
        label = kind.label if kind else "公示信用"
        return f"共有{n}条{label}记录" if n else "未查询到"

    def count(self, kind: RecordType, district: str = "", year: int | None = None, authority: str = "",
              since: date | None = None, until: date | None = None) -> int:
        return sum(1 for r in self.records if r.record_type is kind and (not district or r.district == district)
                   and (not authority or authority in r.authority)
                   and (not year or (r.decision_date and r.decision_date.year == year))
                   and (not since or (r.decision_date and since <= r.decision_date <= (until or date.max))))


FAQ_TURNS = [
    ("怎么申请信用修复？", "credit_repair", "国家发展改革委令2023年第58号"),
    ("对公示信息有异议怎么办？", "objection", "异议"),
    ("失信被执行人名单多久能移出", "dishonest_removal", "法释〔2017〕7号"),
    ("行政处罚信息要公示多长时间", "publication_period", "最长公示期"),
    ("容缺受理是什么意思", "commitment", "国办发〔2019〕35号"),
    ("政府采购时要查供应商哪些信用记录？", "procurement_check", "财库〔2016〕125号"),
    ("为什么身份证号码显示星号", "privacy", "个人信息保护法"),
    ("处罚决定作出后几天内要上网公示", "double_publicity", "7个工作日"),
    ("信用修复需要提交什么材料", "credit_repair", "守信承诺书"),
    ("我觉得你们公示的处罚信息有错误，怎么申诉？", "objection", "更正或撤销"),
]


def _companies(records: list[Record]) -> list[Company]:
    """Companies with a full code, a name no other subject carries, and a penalty the public can see."""
    names: dict[str, set[str]] = defaultdict(set)
    for r in records:
        names[r.subject_name].add(r.subject_code if "*" not in r.subject_code else r.subject_name)
    out = {Company(r.subject_name, r.subject_code) for r in records
           if r.record_type is P and r.subject_category is SubjectCategory.ORGANIZATION
           and len(r.subject_code) == 18 and "*" not in r.subject_code and len(names[r.subject_name]) == 1
           and analyze_name(r.subject_name).legal_form and "(" not in r.subject_name}
    return sorted(out, key=lambda c: c.code)


def _ambiguous_brands(records: list[Record], companies: Iterable[Company]) -> list[tuple[str, list[str]]]:
    """字号 that several subjects on the public dishonest list share: a question naming only the 字号 must
    be asked back. Each with the names of those subjects."""
    by_brand: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.record_type is D and r.subject_category is not SubjectCategory.PERSON:
            core = analyze_name(r.subject_name).core
            if len(core) == 2:
                by_brand[core].add(r.subject_name)
    known = {c.name for c in companies}
    return sorted((brand, sorted(names)) for brand, names in by_brand.items()
                  if len(names) >= 2 and any(n in known for n in names))


def build_dialogues(records: list[Record], today: date, seed: int = 5) -> list[Dialogue]:
    """The conversation set for a corpus whose public records are ``records``."""
    rng = random.Random(seed)
    facts = _Facts(records)
    companies = _companies(records)
    rng.shuffle(companies)
    with_commitments = [c for c in companies if facts.of(c, C)]
    districts = [d for d, _ in Counter(r.district for r in records if r.district.endswith(("区", "县"))).most_common(4)]
    years = sorted({r.decision_date.year for r in records if r.decision_date and r.record_type is P})[-2:]
    dialogues: list[Dialogue] = []
    take = iter(companies)

    penalty_asks = ("{}有没有行政处罚？", "{}被罚过吗", "查询{}的处罚记录", "{}有处罚记录吗？", "请问{}受过行政处罚没有",
                    "帮我看看{}有没有罚单", "{}有没有被处罚过", "{}的行政处罚情况")
    dishonest_asks = ("它有失信记录吗？", "该公司是不是失信被执行人", "这家企业上了老赖名单没有", "它有没有失信被执行人记录")
    licensing_asks = ("那行政许可呢？", "它有哪些行政许可", "那许可证呢", "这家公司的行政许可记录")
    for i, c in enumerate([next(take) for _ in range(8)]):
        dialogues.append(Dialogue("penalty, pronoun, ellipsis", [
            Turn(penalty_asks[i % len(penalty_asks)].format(c.name), "subject_records",
                 {"subject": c.slot(), "record_type": "penalty"}, (facts.count_fact(c, P),)),
            Turn(dishonest_asks[i % len(dishonest_asks)], "subject_records",
                 {"subject": c.slot(), "record_type": "dishonest"}, (facts.count_fact(c, D),)),
            Turn(licensing_asks[i % len(licensing_asks)], "subject_records",
                 {"subject": c.slot(), "record_type": "licensing"}, (facts.count_fact(c, L),)),
        ]))
    commitment_asks = ("{}的信用承诺履行了吗？", "{}承诺的事项兑现了没有", "统一社会信用代码{}的承诺履约情况",
                       "{}有没有违反信用承诺")
    for i, c in enumerate(with_commitments[:6]):
        n = len(facts.of(c, C))
        dialogues.append(Dialogue("commitments by code, then penalties", [
            Turn(commitment_asks[i % len(commitment_asks)].format(c.code), "commitment_status",
                 {"subject": c.slot(), "record_type": "commitment"}, (f"共有{n}条信用承诺",)),
            Turn("这家公司近三年有没有被处罚？", "subject_records",
                 {"subject": c.slot(), "record_type": "penalty", "time": _recent_years(today, 3)},
                 (facts.count_fact(c, P, since=date.fromisoformat(_recent_years(today, 3)["from"]), until=today),)),
        ]))
    overview_asks = ("查一下{}的信用记录", "{}的信用情况怎么样", "{}", "我想了解{}的公示信息", "{}信用好不好")
    count_asks = ("它有几条处罚？", "这家公司被罚了几次", "它一共有多少条处罚记录", "它有几条处罚？", "该企业有多少处罚")
    for i, c in enumerate([next(take) for _ in range(5)]):
        dialogues.append(Dialogue("all records, then narrower", [
            Turn(overview_asks[i % len(overview_asks)].format(c.name), "subject_records", {"subject": c.slot()},
                 (facts.count_fact(c, None),)),
            Turn(count_asks[i % len(count_asks)], "subject_records", {"subject": c.slot(), "record_type": "penalty"},
                 (facts.count_fact(c, P),)),
            Turn(f"{years[-1]}年的呢", "subject_records",
                 {"subject": c.slot(), "record_type": "penalty", "time": _year(years[-1])},
                 (facts.count_fact(c, P, year=years[-1]),)),
        ]))
    variant_asks = ("{}被处罚过吗", "{}有没有不良记录", "{}的罚款记录")
    variant_types = (P, None, P)
    follow_ups = ("有没有失信", "失信呢", "那它的承诺呢")
    follow_types = (D, D, C)
    for i, c in enumerate([next(take) for _ in range(6)]):
        short = analyze_name(c.name)
        variant = short.core + short.industry + short.legal_form  # without its region
        if i % 2:
            variant = c.name.replace("有限公司", "有限责任公司") if c.name.endswith("有限公司") and \
                not c.name.endswith("股份有限公司") else variant
        kind, follow = variant_types[i % 3], follow_types[i % 3]
        first_slots: dict[str, Any] = {"subject": c.slot(), **({"record_type": kind.value} if kind else {})}
        dialogues.append(Dialogue("name variants", [
            Turn(variant_asks[i % 3].format(variant), "subject_records", first_slots, (facts.count_fact(c, kind),)),
            Turn(follow_ups[i % 3], "subject_records", {"subject": c.slot(), "record_type": follow.value},
                 (facts.count_fact(c, follow),)),
        ]))
    for district, year in zip(districts * 2, [years[-1], years[-2], years[-1], years[-2]], strict=False):
        other = next(d for d in districts if d != district)
        dialogues.append(Dialogue("counts with a topic, then another year and district", [
            Turn(f"{year}年{district}有多少食品安全方面的处罚？", "count",
                 {"record_type": "penalty", "time": _year(year), "district": district, "topic": "食品安全"},
                 ("共有",)),
            Turn(f"那{year - 1}年呢", "count",
                 {"record_type": "penalty", "time": _year(year - 1), "district": district, "topic": "食品安全"},
                 ("共有",)),
            Turn(f"那{other}呢", "count",
                 {"record_type": "penalty", "time": _year(year - 1), "district": other, "topic": "食品安全"},
                 ("共有",)),
        ]))
    for district in districts:
        since = date.fromisoformat(_recent_years(today, 3)["from"])
        n = facts.count(D, district=district, since=since, until=today)
        m = facts.count(P, district=district, year=years[-1], authority="市场监督管理")
        dialogues.append(Dialogue("counts by type, department and time", [
            Turn(f"近三年{district}有几条失信被执行人记录", "count",
                 {"record_type": "dishonest", "time": _recent_years(today, 3), "district": district},
                 (f"共有{n}条",)),
            Turn(f"{district}市场监管局{years[-1]}年开了多少罚单" if district != districts[-1] else
                 f"{years[-1]}年{district}市场监督管理局作出了几条行政处罚", "count",
                 {"record_type": "penalty", "time": _year(years[-1]), "district": district,
                  "department": "市场监督管理"}, (f"共有{m}条",)),
        ]))
    for brand, names in _ambiguous_brands(records, companies)[:4]:
        chosen = next(n for n in names if n in {c.name for c in companies})
        company = next(c for c in companies if c.name == chosen)
        dialogues.append(Dialogue("clarification by number", [
            Turn(f"老赖名单里有没有{brand}", "subject_records", {"record_type": "dishonest"}, ("请问您指的是",)),
            Turn("__choice__", "subject_records", {"subject": company.slot(), "record_type": "dishonest"},
                 (facts.count_fact(company, D),)),
        ]))
    for i, (question, faq, fact) in enumerate(FAQ_TURNS):
        turns = [Turn(question, "faq", {"faq": faq}, (fact,))]
        if i % 2 == 0:
            c = next(take)
            turns.append(Turn(f"{c.name}的处罚记录", "subject_records", {"subject": c.slot(), "record_type": "penalty"},
                              (facts.count_fact(c, P),)))
        dialogues.append(Dialogue("rules FAQ", turns))
    dialogues.append(Dialogue("which companies: a list", [
        Turn("哪些企业因为销售过期食品被处罚", "list",
             {"record_type": "penalty", "topic": "过期食品", "subject_kind": "企业"}, ("家",))]))
    for question, slots in (("建筑工地扬尘污染的处罚案例", {"record_type": "penalty", "topic": "扬尘"}),
                            ("超限运输会受到什么处罚", {"record_type": "penalty", "topic": "道路运输"}),
                            ("消防通道被堵住了", {"topic": "消防"})):
        dialogues.append(Dialogue("anything else: search", [Turn(question, "search", slots, ("为您找到",))]))
    return dialogues


def _organisations_in(records: list[Record], kind: RecordType, districts: set[str]) -> list[Record]:
    return [r for r in records if r.record_type is kind and r.district in districts
            and r.subject_category is SubjectCategory.ORGANIZATION]


def _list_dialogues(records: list[Record], today: date, districts: list[str]) -> list[Dialogue]:
    """Lists the issue of the one search box asked for: a city means its counties, 企业 no natural persons,
    an amount condition is applied, an out-of-scope question is said to be one."""
    parents = {r.full: r.parent for r in load_regions()}
    city = Counter(parents.get(d, "") for d in districts).most_common(1)[0][0]
    within = {city, *(r.full for r in load_regions() if r.parent == city)}
    dishonest = _organisations_in(records, D, within)
    year = max(r.decision_date.year for r in records if r.decision_date and r.record_type is P)
    district = districts[0]
    fined = [r for r in records if r.record_type is P and r.district == district and (r.amount or 0) > 10000
             and r.decision_date and r.decision_date.year == year]
    persons = [r for r in records if r.record_type is P and r.district == districts[1]
               and r.subject_category is SubjectCategory.PERSON]
    amount = {"min": 10000.01, "max": None, "text": "超过1万元"}
    return [
        Dialogue("held out: a city's companies on the court list", [
            Turn(f"{city}有哪些企业被列入失信被执行人", "list",
                 {"record_type": "dishonest", "district": city, "subject_kind": "企业"},
                 (f"（共{len(dishonest)}条记录）", "（含所辖县区）"))]),
        Dialogue("held out: fines over an amount", [
            Turn(f"{year}年{district}罚款超过1万元的处罚有哪些", "list",
                 {"record_type": "penalty", "time": _year(year), "district": district, "amount": amount},
                 (f"共有{len(fined)}条" if fined else "没有查询到",))]),
        Dialogue("held out: persons penalised in a district", [
            Turn(f"{districts[1]}有哪些个人受到行政处罚", "list",
                 {"record_type": "penalty", "district": districts[1], "subject_kind": "个人"},
                 (f"（共{len(persons)}条记录）" if persons else "没有查询到",))]),
        *(Dialogue("held out: out of scope", [Turn(q, "out_of_scope", {}, ("不在本平台的服务范围内",))])
          for q in ("今天天气怎么样", "附近有什么好吃的餐厅", "帮我订一张去广州的火车票")),
    ]


def build_held_out(records: list[Record], today: date, seed: int = 17) -> list[Dialogue]:
    """Dialogues in phrasings that were written after the understanding was tuned on
    :func:`build_dialogues`, and run once: their score is the honest one."""
    rng = random.Random(seed)
    facts = _Facts(records)
    companies = _companies(records)
    rng.shuffle(companies)
    companies = companies[-12:]  # other subjects than build_dialogues takes first
    districts = [d for d, _ in Counter(r.district for r in records if r.district.endswith(("区", "县"))).most_common(3)]
    year = max(r.decision_date.year for r in records if r.decision_date)
    half = {"from": f"{today.year}-01-01", "to": f"{today.year}-06-30"}
    dialogues: list[Dialogue] = []
    for i, c in enumerate(companies[:4]):
        since = date.fromisoformat(_recent_years(today, 2)["from"])
        dialogues.append(Dialogue("held out: recent fines, then the court list", [
            Turn(f"{c.name}近两年有没有被罚款", "subject_records",
                 {"subject": c.slot(), "record_type": "penalty", "time": _recent_years(today, 2)},
                 (facts.count_fact(c, P, since=since, until=today),)),
            Turn("那失信被执行人呢" if i % 2 else "它是失信被执行人吗", "subject_records",
                 {"subject": c.slot(), "record_type": "dishonest", **({"time": _recent_years(today, 2)}
                                                                     if i % 2 else {})},
                 (facts.count_fact(c, D, **({"since": since, "until": today} if i % 2 else {})),)),
        ]))
    for c in companies[4:8]:
        dialogues.append(Dialogue("held out: by code, then the latest penalty", [
            Turn(f"{c.code}有没有行政许可", "subject_records", {"subject": c.slot(), "record_type": "licensing"},
                 (facts.count_fact(c, L),)),
            Turn("它最近一次处罚是什么时候", "subject_records", {"subject": c.slot(), "record_type": "penalty"},
                 (facts.count_fact(c, P),)),
            Turn(f"{c.name}有几条信用承诺", "subject_records", {"subject": c.slot(), "record_type": "commitment"},
                 (facts.count_fact(c, C),)),
        ]))
    for district in districts:
        dialogues.append(Dialogue("held out: counts over time", [
            Turn(f"{district}今年上半年有多少条行政许可", "count",
                 {"record_type": "licensing", "time": half, "district": district}, ("共有",)),
            Turn("去年呢", "count", {"record_type": "licensing", "time": _year(today.year - 1), "district": district},
                 ("共有",)),
        ]))
    dialogues.append(Dialogue("held out: a department's fines", [
        Turn(f"{year}年{districts[0]}交通局罚了多少", "count",
             {"record_type": "penalty", "time": _year(year), "district": districts[0], "department": "交通运输"},
             (f"共有{facts.count(P, district=districts[0], year=year, authority='交通运输')}条",)),
    ]))
    dialogues.extend(_list_dialogues(records, today, districts))
    for question, faq, fact in (("信用承诺不履行有什么后果", "commitment", "违诺责任"),
                                ("企业被列入黑名单后多久可以移出", "dishonest_removal", "二年"),
                                ("处罚信息公示期满了会自动撤下吗", "publication_period", "最长公示期")):
        dialogues.append(Dialogue("held out: rules", [Turn(question, "faq", {"faq": faq}, (fact,))]))
    for brand, names in _ambiguous_brands(records, _companies(records))[-2:]:
        chosen = next(n for n in names if n in {c.name for c in _companies(records)})
        company = next(c for c in _companies(records) if c.name == chosen)
        dialogues.append(Dialogue("held out: which one", [
            Turn(f"查查{brand}有没有上失信名单", "subject_records", {"record_type": "dishonest"}, ("请问您指的是",)),
            Turn("__choice__", "subject_records", {"subject": company.slot(), "record_type": "dishonest"},
                 (facts.count_fact(company, D),)),
        ]))
    return dialogues


@dataclass(slots=True)
class Report:
    turns: int = 0
    dialogues: int = 0
    intent_correct: int = 0
    slot_true_positives: int = 0
    slot_predicted: int = 0
    slot_expected: int = 0
    facts_total: int = 0
    facts_found: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.turns if self.turns else 0.0

    @property
    def slot_precision(self) -> float:
        return self.slot_true_positives / self.slot_predicted if self.slot_predicted else 0.0

    @property
    def slot_recall(self) -> float:
        return self.slot_true_positives / self.slot_expected if self.slot_expected else 0.0

    @property
    def slot_f1(self) -> float:
        p, r = self.slot_precision, self.slot_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fact_accuracy(self) -> float:
        return self.facts_found / self.facts_total if self.facts_total else 0.0


def _slot_pairs(slots: dict[str, Any]) -> set[tuple[str, str]]:
    """Slots as comparable pairs: the subject by its code (its name when it has none), time by its range."""
    pairs: set[tuple[str, str]] = set()
    for name, value in slots.items():
        if name == "subject":
            pairs.add((name, value.get("code") or value.get("name", "")))
        elif name == "time":
            pairs.add((name, f"{value['from']}..{value['to']}"))
        else:
            pairs.add((name, str(value)))
    return pairs


Ask = Callable[[str, str | None], dict[str, Any]]


def evaluate(ask: Ask, dialogues: list[Dialogue]) -> Report:
    """Run every dialogue through ``ask`` (question, session id) → the /v1/ask response."""
    report = Report(dialogues=len(dialogues))
    for dialogue in dialogues:
        session: str | None = None
        last: dict[str, Any] = {}
        for turn in dialogue.turns:
            question = turn.question
            if question == "__choice__":  # answer the clarification with the expected subject's number
                question = str(next((c["number"] for c in last.get("candidates") or []
                                     if c["name"] == turn.slots["subject"]["name"]), 9))
            answer = ask(question, session)
            last = answer
            session = answer["session_id"]
            report.turns += 1
            predicted = answer["understood"]
            ok = predicted["intent"] == turn.intent
            report.intent_correct += ok
            expected_slots = _slot_pairs(turn.slots)
            got = _slot_pairs({k: v for k, v in predicted["slots"].items() if k != "choice"})
            report.slot_true_positives += len(expected_slots & got)
            report.slot_predicted += len(got)
            report.slot_expected += len(expected_slots)
            found = [f for f in turn.facts if f in answer["answer"]]
            report.facts_total += len(turn.facts)
            report.facts_found += len(found)
            if not ok or expected_slots != got or len(found) != len(turn.facts):
                report.failures.append(f"[{dialogue.name}] {question} → {predicted['intent']} "
                                       f"{sorted(got ^ expected_slots)} {answer['answer'][:60]}")
    return report
