"""What a question asks: its intent and slots (subject by name or code, record type, time range, district,
department, topic), from jieba words, the domain synonyms, the region dictionary and the subject name index.

A question is first read on its own (:func:`read`); :func:`decide` then resolves it against the session's
context: a pronoun (它, 该公司) or an elliptical follow-up (那许可呢, 2024年的呢) takes the previous
subject, and a number answers a pending clarification.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cache

from analyzers.codes import find_codes
from analyzers.names import analyze_name
from analyzers.normalize import normalize_text
from analyzers.tokens import record_type_of_term, words
from indexer.model import RecordType, SubjectCategory
from search_api.conversation.amounts import AmountBound, find_amount
from search_api.conversation.timespan import TimeSpan, find_timespan
from synonyms import (
    load_departments,
    load_domain_terms,
    load_industry_terms,
    load_pronouns,
    load_question_words,
    load_regions,
    load_stopwords,
)


class Intent(StrEnum):
    SUBJECT_RECORDS = "subject_records"  # a subject's records, of one type or all
    COMMITMENT_STATUS = "commitment_status"  # a subject's commitments and whether they were kept
    COUNT = "count"  # how many records match filters and a topic, with a breakdown
    FAQ = "faq"  # a question about the rules
    LIST = "list"  # which subjects or records meet filters (有哪些企业…, 罚款超过10万元的处罚有哪些)
    OUT_OF_SCOPE = "out_of_scope"  # nothing about credit records (今天天气怎么样)
    SEARCH = "search"  # anything else: hybrid search


@dataclass(frozen=True, slots=True)
class SubjectRef:
    key: str
    name: str
    code: str


@dataclass(slots=True)
class Reading:
    """What one question says by itself."""

    text: str
    codes: list[str] = field(default_factory=list)
    name_texts: list[str] = field(default_factory=list)  # candidate subject names, longest first
    pronoun: bool = False
    record_type: RecordType | None = None
    time: TimeSpan | None = None
    district: str = ""
    department: str = ""
    topic: str = ""
    counting: bool = False
    fulfilment: bool = False
    choice: int | None = None
    elliptical: bool = False  # 那许可呢, 2024年的呢: leans on the previous turn
    listing: bool = False  # 有哪些, 列出: a list is asked for
    kind_word: str = ""  # 企业, 个人 …: the kind of subject asked about
    amount: AmountBound | None = None
    about_credit: bool = False  # a word of this domain: not an out-of-scope question


@dataclass(slots=True)
class Understood:
    intent: Intent
    subject: SubjectRef | None = None
    candidates: list[SubjectRef] = field(default_factory=list)  # several subjects fit: ask which
    record_type: RecordType | None = None
    time: TimeSpan | None = None
    district: str = ""
    department: str = ""
    topic: str = ""
    faq: str = ""
    choice: int | None = None
    subject_from_context: bool = False
    missing_subject: bool = False  # 它 / 该公司 with no subject earlier in the session
    kind_word: str = ""  # 企业, 个人 …: only subjects of that kind
    amount: AmountBound | None = None

    @property
    def subject_categories(self) -> tuple[SubjectCategory, ...]:
        return _SUBJECT_KINDS.get(self.kind_word, ())

    def slots(self) -> dict[str, object]:
        """The slots as the API reports them (empty ones left out)."""
        out: dict[str, object] = {}
        if self.subject:
            out["subject"] = {"name": self.subject.name, "code": self.subject.code}
        if self.record_type:
            out["record_type"] = self.record_type.value
        if self.time:
            out["time"] = {"from": self.time.start.isoformat(), "to": self.time.end.isoformat(),
                           "text": self.time.label}
        for name in ("district", "department", "topic", "faq"):
            if value := getattr(self, name):
                out[name] = value
        if self.choice is not None:
            out["choice"] = self.choice
        if self.kind_word:
            out["subject_kind"] = self.kind_word
        if self.amount:
            out["amount"] = {"min": self.amount.minimum, "max": self.amount.maximum, "text": self.amount.text}
        return out


# The kind of subject a question asks about; 企业 and 公司 exclude natural persons and 个体工商户, which are not
# enterprises in law; 商家 and 商户 are any business.
_SUBJECT_KINDS: dict[str, tuple[SubjectCategory, ...]] = {
    "企业": (SubjectCategory.ORGANIZATION,), "公司": (SubjectCategory.ORGANIZATION,),
    "单位": (SubjectCategory.ORGANIZATION,), "机构": (SubjectCategory.ORGANIZATION,),
    "个体工商户": (SubjectCategory.INDIVIDUAL_BUSINESS,), "个体户": (SubjectCategory.INDIVIDUAL_BUSINESS,),
    "商家": (SubjectCategory.ORGANIZATION, SubjectCategory.INDIVIDUAL_BUSINESS),
    "商户": (SubjectCategory.ORGANIZATION, SubjectCategory.INDIVIDUAL_BUSINESS),
    "个人": (SubjectCategory.PERSON,), "自然人": (SubjectCategory.PERSON,),
}
_KIND_PATTERN = re.compile("|".join(sorted(_SUBJECT_KINDS, key=len, reverse=True)))
_LIST_WORDS = re.compile(r"哪些|哪几|哪家|哪个|列出|列举|名单里有谁|有谁|都有谁")
# Words that only this domain's questions use; with a record type, a topic, a department, a code, an amount or a
# subject's name, they keep a question in scope.
_CREDIT_WORDS = ("信用", "公示", "记录", "名单", "老赖", "失信", "处罚", "罚", "许可", "承诺", "违法", "违规",
                 "执行", "法院", "代码", "文书", "决定书", "案号", "修复", "异议", "企业", "公司", "个体", "商户",
                 "单位", "执照", "资质", "监管", "整改", "查封", "吊销")
_COUNT_WORDS = ("多少", "几条", "几家", "几个", "几次", "几起", "数量", "统计", "总数", "共有几", "一共")
_FULFIL_WORDS = ("履行", "履约", "兑现", "做到", "遵守", "违约", "违诺", "违反", "完成了")
_ELLIPSIS = re.compile(r"(呢|那|那么|还有|再查|换成|改成)[？?]?$|^(那|那么|再|还有)")
_CHOICE = re.compile(r"^\s*(?:第|选|选择|是)?\s*([1-9]|[一二三四五六七八九])\s*(?:个|号|家|项)?\s*[。.、！!]?\s*$")
_CHINESE_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
_DEPARTMENT_PATTERN = re.compile("|".join(sorted(map(re.escape, load_departments()), key=len, reverse=True)))


@cache
def _regions() -> dict[str, str]:
    """District names as written (full and short forms of counties and cities) → the full name."""
    names: dict[str, str] = {}
    for region in load_regions():
        if region.level in ("county", "city"):
            names[region.full] = region.full
            for short in region.short:
                if len(short) >= 2 and region.level == "county":
                    names.setdefault(short, region.full)
    return names


def districts_within(district: str) -> tuple[str, ...]:
    """A district and every region under it (清远市 → 清远市, 清城区, 英德市 …): a city's records are filed
    under its own name or its counties'."""
    children = _children().get(district, ())
    return (district, *(d for child in children for d in districts_within(child)))


@cache
def _children() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for region in load_regions():
        if region.parent:
            out.setdefault(region.parent, []).append(region.full)
    return {k: tuple(v) for k, v in out.items()}


@cache
def _county_cities() -> frozenset[str]:
    """County-level cities (英德市): districts a question means before the prefecture around them."""
    return frozenset(r.full for r in load_regions() if r.level == "county")


@cache
def _topics() -> dict[str, str]:
    """Domain words that name a topic (扬尘, 食品安全 …) → their group's canonical word."""
    return {t: g.canonical for g in load_domain_terms() if not g.record_type for t in g.terms}


@cache
def _topic_pattern() -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, _topics()), key=len, reverse=True)))


def _choice(text: str) -> int | None:
    m = _CHOICE.match(text)
    if not m:
        return None
    digit = m.group(1)
    return int(digit) if digit.isdigit() else _CHINESE_DIGITS[digit]


def _hard_break(word: str) -> bool:
    return (word in load_question_words() or word in load_stopwords() or record_type_of_term(word) is not None
            or not re.search(r"[\w]", word) or word.isdigit() or word in ("年", "月", "日", "号")
            or word in load_pronouns())


def read(question: str, today: date) -> Reading:
    """Read a question on its own."""
    text = normalize_text(question)
    reading = Reading(text, choice=_choice(text))
    reading.codes = find_codes(text)
    reading.time = find_timespan(text, today)
    reading.pronoun = any(p in text for p in load_pronouns())
    reading.counting = any(w in text for w in _COUNT_WORDS)
    reading.fulfilment = any(w in text for w in _FULFIL_WORDS)
    if m := _DEPARTMENT_PATTERN.search(text):
        reading.department = load_departments()[m.group()]
    rest = text
    for code in reading.codes:
        rest = rest.replace(code, " ").replace(code.lower(), " ")
    if reading.time:
        rest = rest.replace(reading.time.text, " ")
    if amount := find_amount(rest):
        reading.amount = amount
        rest = rest.replace(amount.text, " ")
    tokens = words(rest)
    for token in tokens:
        kind = record_type_of_term(token)
        if kind and reading.record_type is None:
            reading.record_type = RecordType(kind)
    if reading.record_type is None and "罚" in rest:  # 罚了多少, 罚没: a penalty in any wording
        reading.record_type = RecordType.PENALTY
    places = [_regions()[t] for t in tokens if t in _regions()]
    counties = [p for p in places if p.endswith(("区", "县")) or p in _county_cities()]
    reading.district = (counties or places or [""])[0]
    for m in _topic_pattern().finditer(rest):
        if not _DEPARTMENT_PATTERN.fullmatch(m.group()):  # 市场监管 names a department here, not a topic
            reading.topic = _topics()[m.group()]
            break
    if reading.record_type is None and reading.amount is not None:
        reading.record_type = RecordType.PENALTY  # an amount is a fine's: no other record type has one
    reading.name_texts = _name_runs(tokens)
    reading.elliptical = bool(_ELLIPSIS.search(text)) or (len(text) <= 8 and reading.record_type is not None)
    reading.listing = bool(_LIST_WORDS.search(text))
    if m := _KIND_PATTERN.search(rest):
        reading.kind_word = m.group()
    reading.about_credit = bool(reading.codes or reading.record_type or reading.topic or reading.department
                                or reading.amount or any(w in text for w in _CREDIT_WORDS)
                                or any(analyze_name(t).legal_form for t in reading.name_texts))
    return reading


def _runs(tokens: list[str], breaks: list[bool]) -> list[str]:
    """Runs of tokens between breaks, each also without up to two words in front and one behind: a verb the
    dictionary does not know (了解, 核实) stays glued to the name otherwise."""
    runs: list[list[str]] = []
    current: list[str] = []
    for token, is_break in zip([*tokens, "。"], [*breaks, True], strict=True):
        if is_break:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(token)
    out: list[str] = []
    for run in runs:
        out.extend("".join(run[front:len(run) - back]) for front in range(min(3, len(run)))
                   for back in range(min(2, len(run) - front)))
    return out


def _name_runs(tokens: list[str]) -> list[str]:
    """Runs of name words between the words that ask, longest first: the likeliest subject names. A single
    character that asks (和, 日, 中) between two name words may belong to the name (佛山市正和医药…), so the
    runs that keep such characters are candidates too."""
    breaks = [_hard_break(t) for t in tokens]
    inner = [b and not (len(t) == 1 and t.strip() and 0 < i < len(tokens) - 1 and not breaks[i - 1]
                        and not breaks[i + 1] and re.match(r"\w", t) is not None)
             for i, (t, b) in enumerate(zip(tokens, breaks, strict=True))]
    runs = set(_runs(tokens, breaks)) | set(_runs(tokens, inner))
    return sorted((r for r in runs if len(r) >= 2 and not _generic(r)), key=lambda r: (-len(r), r))


def _generic(text: str) -> bool:
    """A word that names a kind of business, a topic, a place or a department, never one subject."""
    return text in _generic_words() or text in _regions() or text in _topics() or text in load_departments()


@cache
def _generic_words() -> frozenset[str]:
    return frozenset(load_industry_terms())


def split_soft(run: str) -> tuple[list[str], str, str]:
    """A run that names no subject, taken apart: the pieces left between districts and topics, the
    district and the topic it mentions."""
    district, topic = "", ""
    pieces: list[str] = []
    current = ""
    for token in words(run):
        if token in _regions():
            district = district or _regions()[token]
        elif token in load_departments():
            pass  # read from the whole question already
        elif token in _topics():
            topic = topic or _topics()[token]
        else:
            current += token
            continue
        if current:
            pieces.append(current)
        current = ""
    if current:
        pieces.append(current)
    return [p for p in pieces if len(p) >= 2], district, topic


Matcher = Callable[[str], Sequence[SubjectRef]]


def find_subjects(reading: Reading, match_name: Matcher, by_code: Matcher) -> tuple[list[SubjectRef], str, str]:
    """The subjects the question names (several when the name fits more than one), and the district and
    topic of the runs that name none."""
    for code in reading.codes:
        if found := list(by_code(code)):
            return found, "", ""
    district, topic = "", ""
    for run in reading.name_texts:
        if found := list(match_name(run)):
            return found, district, topic
        pieces, run_district, run_topic = split_soft(run)
        district, topic = district or run_district, topic or run_topic
        for piece in pieces:
            if found := list(match_name(piece)):
                return found, district, topic
    return [], district, topic


@dataclass(slots=True)
class Context:
    """What a session remembers between turns."""

    subject: SubjectRef | None = None
    intent: Intent | None = None
    record_type: RecordType | None = None
    time: TimeSpan | None = None
    district: str = ""
    department: str = ""
    topic: str = ""
    pending: list[SubjectRef] = field(default_factory=list)  # the clarification's numbered candidates
    pending_intent: Intent | None = None
    pending_record_type: RecordType | None = None
    pending_time: TimeSpan | None = None


def decide(reading: Reading, subjects: list[SubjectRef], district: str, topic: str, context: Context,
           faq: str) -> Understood:
    """The intent and slots of a question read on its own, resolved against the session's context; ``faq``
    is the id of the FAQ entry the question matches ("" for none)."""
    understood = Understood(Intent.SEARCH, record_type=reading.record_type, time=reading.time,
                            district=reading.district or district, department=reading.department,
                            topic=reading.topic or topic, choice=reading.choice, amount=reading.amount)
    if reading.choice is not None and context.pending:
        if 1 <= reading.choice <= len(context.pending):
            return replace(understood, intent=context.pending_intent or Intent.SUBJECT_RECORDS,
                           subject=context.pending[reading.choice - 1], choice=reading.choice,
                           record_type=context.pending_record_type, time=context.pending_time)
        return replace(understood, intent=context.pending_intent or Intent.SUBJECT_RECORDS,
                       candidates=context.pending, choice=reading.choice)
    follows_count = reading.elliptical and not reading.pronoun and context.intent is Intent.COUNT
    refers_back = reading.pronoun or (reading.elliptical and not reading.counting and not follows_count)
    if len(subjects) > 1:
        understood.candidates = subjects
    elif subjects:
        understood.subject = subjects[0]
    elif refers_back and context.pending and not faq:
        # A follow-up while the last question still waits for its clarification: ask again, for this question.
        understood.candidates = context.pending
    elif refers_back and context.subject is not None and not faq:
        understood.subject, understood.subject_from_context = context.subject, True
        if reading.elliptical and not reading.pronoun:
            understood.record_type = understood.record_type or context.record_type
            understood.time = understood.time or context.time
    if understood.subject or understood.candidates:
        understood.district = understood.topic = ""  # they were words of the name, not filters
        wants_status = reading.fulfilment and understood.record_type in (None, RecordType.COMMITMENT)
        understood.intent = Intent.COMMITMENT_STATUS if wants_status else Intent.SUBJECT_RECORDS
        if understood.intent is Intent.COMMITMENT_STATUS:
            understood.record_type = RecordType.COMMITMENT
        return understood
    understood.kind_word = reading.kind_word
    if reading.counting:
        understood.intent = Intent.COUNT
        return understood
    understood.missing_subject = reading.pronoun and not faq
    if faq:
        return replace(understood, intent=Intent.FAQ, faq=faq, record_type=None, time=None, district="",
                       department="", topic="", kind_word="", amount=None)
    if follows_count:
        # 那2024年呢 after a count: the same count with what changed.
        return replace(understood, intent=Intent.COUNT,
                       record_type=understood.record_type or context.record_type,
                       time=understood.time or context.time, district=understood.district or context.district,
                       department=understood.department or context.department,
                       topic=understood.topic or context.topic)
    if understood.missing_subject:
        return understood
    if reading.listing or reading.amount or (reading.kind_word and (reading.record_type or reading.topic)):
        # 有哪些企业…, 罚款超过10万元的…: conditions a list meets, which a text search would drop.
        understood.intent = Intent.LIST
    elif not reading.about_credit and reading.choice is None:
        understood.intent = Intent.OUT_OF_SCOPE
    return understood
