"""POST /v1/ask: a question in Chinese answered with a sentence, the records behind it and how it was
understood, in a session that remembers the subject for follow-up questions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np

from analyzers.encoders import SentenceTransformerEncoder
from analyzers.tokens import expand_synonyms
from indexer.model import Record, RecordType, SubjectCategory
from search_api.conversation.faq import FaqEntry, entry, match_faq
from search_api.conversation.sessions import SessionStore
from search_api.conversation.understanding import (
    Context,
    Intent,
    SubjectRef,
    Understood,
    decide,
    districts_within,
    find_subjects,
    read,
)
from search_api.name_index import filed_by_name
from search_api.publication import Viewer, effective_status, mask_tree, present_record, visibility_for
from search_api.semantic import SemanticUnavailable
from search_api.service import UNFULFILLED, SearchParams, SearchService
from stores.base import Clause, Filters, Subject

SHOWN = 10  # records returned with an answer
_LIST_WINDOW = 500  # records read to name the subjects of a list answer; beyond it the count is "at least"
_NAME_FLOOR = 0.8  # a run of words is a subject's name when it matches one this well
_TIE = 0.02  # subjects matching within this of the best are equally likely: ask which
_SURE = 0.95  # a name matching this well is the subject asked about, records of the asked type or not
_CANDIDATES = 5  # at most this many subjects to choose from


def _day(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else "日期不详"


def _amount(value: float | None) -> str:
    if not value:
        return ""
    return f"罚款{value / 10000:g}万元" if value >= 10000 else f"罚款{value:g}元"


def _has_amount(kind: RecordType | None) -> bool:
    """Only penalties carry an amount (the fine)."""
    return kind in (None, RecordType.PENALTY)


def _detail(record: Record) -> str:
    """One record in a clause: what, who decided, which document."""
    kind = record.record_type
    if kind is RecordType.PENALTY:
        what = "，".join(p for p in (record.details.get("violation_type", ""), record.category,
                                     _amount(record.amount)) if p)
    elif kind is RecordType.DISHONEST:
        what = record.category
    elif kind is RecordType.LICENSING:
        what = record.details.get("document_name") or record.details.get("certificate_name", "")
    else:
        what = "，".join(p for p in (record.category, "履行状态：" + record.details.get("fulfilment", "")
                                     if record.details.get("fulfilment") else "") if p)
    return "，".join(p for p in (record.document_number, what, record.authority) if p)


class AskService:
    """Understands a question, answers it from the store under the caller's view, keeps the session."""

    def __init__(self, search: SearchService, sessions: SessionStore) -> None:
        self.search = search
        self.sessions = sessions
        self._faq_vectors: dict[str, np.ndarray] = {}

    # -- understanding -------------------------------------------------------------------------------
    def _visible(self, subject: SubjectRef, viewer: Viewer, record_type: RecordType | None = None) -> bool:
        """Whether the caller may see any record of the subject (of one type)."""
        filters = Filters(visibility=visibility_for(viewer, self.search.settings.current_day()),
                          record_types=(record_type,) if record_type else ())
        return bool(self.search.records_of_subjects([Subject(subject.key, subject.name, subject.code, "", 0)],
                                                    filters))

    def _subject_ref(self, subject: Subject, name: str) -> SubjectRef:
        return SubjectRef(subject.key, name if filed_by_name(subject) else subject.name,
                          subject.code if subject.category != "person" else "")

    def _match_name(self, text: str, viewer: Viewer, record_type: RecordType | None) -> list[SubjectRef]:
        """The subjects a name written in a question fits best, of those the caller may see anything of (a
        clarification must not reveal the others). A loose fit (恒达 in 老赖名单里有没有恒达) is
        narrowed to the subjects with records of the type asked about, when any has them."""
        found = self.search.match_names(text, viewer, limit=_CANDIDATES * 2, floor=_NAME_FLOOR)
        if not found:
            return []
        best = found[0].score
        close = [m for m in found if m.score >= best - _TIE]
        # Court records published with the company's code masked are filed under its name; that subject is
        # the coded company itself (its records join the company's), not another candidate.
        coded = {m.name for m in close if not filed_by_name(m.subject)}
        refs = list(dict.fromkeys(self._subject_ref(m.subject, m.name) for m in close
                                  if not (filed_by_name(m.subject) and m.name in coded)))
        if best < _SURE and record_type is not None and len(refs) > 1:
            refs = [r for r in refs if self._visible(r, viewer, record_type)] or refs
        return refs[:_CANDIDATES]

    def _by_code(self, code: str, viewer: Viewer) -> list[SubjectRef]:
        subjects = self.search.store.subjects_by_code([code])
        return [r for r in (self._subject_ref(s, s.name) for s in subjects) if self._visible(r, viewer)][:1]

    def _similarity(self, question: str, examples: Sequence[str]) -> float:
        """Cosine similarity to the closest example, when a sentence-transformers model is configured."""
        semantic = self.search.semantic
        try:
            encoder = semantic.encoder() if semantic else None
        except SemanticUnavailable:
            return 0.0
        if not isinstance(encoder, SentenceTransformerEncoder):
            return 0.0
        key = "\n".join(examples)
        if key not in self._faq_vectors:
            self._faq_vectors[key] = encoder.encode_queries(list(examples))
        return float(np.max(self._faq_vectors[key] @ encoder.encode_queries([question])[0]))

    def understand(self, question: str, context: Context, viewer: Viewer) -> Understood:
        """The question's intent and slots in this session's context."""
        reading = read(question, self.search.settings.current_day())
        faq = match_faq(reading.text, self._similarity) if not reading.codes else None
        subjects: list[SubjectRef] = []
        district = topic = ""
        if reading.choice is None or not context.pending:
            subjects, district, topic = find_subjects(
                reading, lambda t: self._match_name(t, viewer, reading.record_type), lambda c: self._by_code(c, viewer))
        return decide(reading, subjects, district, topic, context, faq.id if faq else "")

    # -- answering -----------------------------------------------------------------------------------
    def ask(self, question: str, session_id: str | None, viewer: Viewer) -> dict[str, Any]:
        """Answer one turn of a conversation."""
        requested = session_id
        session_id, context, turns, resumed = self.sessions.load(session_id)
        understood = self.understand(question, context, viewer)
        answer = self._answer(understood, question, viewer)
        self.sessions.save(session_id, self._next_context(context, understood), turns + 1)
        answer.update(session_id=session_id, turn=turns + 1)
        if requested and not resumed:
            answer["session_expired"] = True  # the earlier context is gone: a follow-up starts afresh
        return answer

    @staticmethod
    def _next_context(context: Context, understood: Understood) -> Context:
        if understood.candidates and understood.subject is None:
            return replace(context, pending=understood.candidates, pending_intent=understood.intent,
                           pending_record_type=understood.record_type, pending_time=understood.time)
        return Context(subject=understood.subject or context.subject, intent=understood.intent,
                       record_type=understood.record_type, time=understood.time, district=understood.district,
                       department=understood.department, topic=understood.topic)

    def _filters(self, understood: Understood, viewer: Viewer, with_place: bool) -> Filters:
        today = self.search.settings.current_day()
        amount = understood.amount if _has_amount(understood.record_type) else None
        return Filters(visibility=visibility_for(viewer, today),
                       record_types=(understood.record_type,) if understood.record_type else (),
                       date_from=understood.time.start if understood.time else None,
                       date_to=understood.time.end if understood.time else None,
                       districts=districts_within(understood.district) if with_place and understood.district else (),
                       authority_contains=understood.department if with_place else "",
                       subject_categories=understood.subject_categories,
                       amount_min=amount.minimum if amount else None, amount_max=amount.maximum if amount else None)

    @staticmethod
    def _scope(understood: Understood) -> tuple[str, str, str]:
        """How an answer restates the filters (2025年清远市（含所辖县区）市场监督管理部门), the amount condition
        as applied (罚款超过10万元的), and a note on a condition that could not be applied."""
        district = understood.district
        if district and len(districts_within(district)) > 1:
            district += "（含所辖县区）"
        scope = "".join(p for p in (understood.time.label if understood.time else "", district,
                                    f"{understood.department}部门" if understood.department else "") if p)
        note = ""
        if understood.amount and not _has_amount(understood.record_type):
            label = understood.record_type.label if understood.record_type else ""
            note = f"（{label}记录没有金额，未按“{understood.amount.text}”筛选）"
        amount = f"罚款{understood.amount.text}的" if understood.amount and not note else ""
        return scope, amount, note

    @staticmethod
    def _topic_clauses(understood: Understood) -> list[Clause]:
        return [Clause("text", (expand_synonyms(understood.topic),))] if understood.topic else []

    def _present(self, records: Sequence[Record], viewer: Viewer) -> list[dict[str, Any]]:
        today = self.search.settings.current_day()
        return [p for p in (present_record(r, viewer, today) for r in records[:SHOWN]) if p is not None]

    def _reply(self, understood: Understood, text: str, interpreted: str, records: Sequence[Record],
               viewer: Viewer, total: int | None = None, **extra: Any) -> dict[str, Any]:
        said = {"answer": text, "understood": {"intent": understood.intent.value, "slots": understood.slots(),
                                               "text": f"已理解为：{interpreted}"}, **extra}
        # Answers quote names and the question itself: the public never sees an ID number in them.
        return {**(said if viewer.is_staff else mask_tree(said)), "records": self._present(records, viewer),
                "total": len(records) if total is None else total}

    def _answer(self, understood: Understood, question: str, viewer: Viewer) -> dict[str, Any]:
        if understood.candidates and understood.subject is None:
            return self._clarify(understood, viewer)
        if understood.intent is Intent.FAQ:
            faq = entry(understood.faq)
            return self._faq(understood, faq, viewer)
        if understood.intent is Intent.COUNT:
            return self._count(understood, viewer)
        if understood.intent is Intent.LIST:
            return self._list(understood, viewer)
        if understood.intent is Intent.OUT_OF_SCOPE:
            return self._out_of_scope(understood, viewer)
        if understood.subject is not None and understood.intent is Intent.COMMITMENT_STATUS:
            return self._commitments(understood, understood.subject, viewer)
        if understood.subject is not None:
            return self._subject_records(understood, understood.subject, viewer)
        return self._search(understood, question, viewer)

    def _clarify(self, understood: Understood, viewer: Viewer) -> dict[str, Any]:
        options = "；".join(f"{i}. {c.name}" + (f"（{c.code}）" if c.code else "")
                           for i, c in enumerate(understood.candidates, start=1))
        if understood.choice is not None:
            text = f"请回复1到{len(understood.candidates)}之间的序号：{options}。"
        else:
            text = f"找到{len(understood.candidates)}个名称相近的主体，请问您指的是：{options}。请回复序号。"
        candidates = [{"number": i, "name": c.name, "code": c.code} for i, c in enumerate(understood.candidates, 1)]
        return self._reply(understood, text, "名称对应多个主体，需要您确认是哪一个", [], viewer, total=0,
                           candidates=candidates)

    def _faq(self, understood: Understood, faq: FaqEntry, viewer: Viewer) -> dict[str, Any]:
        return self._reply(understood, f"{faq.answer}（依据：{faq.rule}）", f"咨询“{faq.title}”", [], viewer,
                           total=0, faq={"id": faq.id, "title": faq.title, "rule": faq.rule})

    def _subject_records(self, understood: Understood, subject: SubjectRef, viewer: Viewer) -> dict[str, Any]:
        records = self._records_of(subject, understood, viewer)
        when = understood.time.label if understood.time else ""
        kind = understood.record_type
        _, amount, note = self._scope(understood)
        label = f"{amount}{kind.label if kind else '公示信用'}"
        interpreted = f"查询“{subject.name}”{when}的{label}记录"
        if not records:
            scope = "（公众可见的公示期内记录）" if not viewer.is_staff else ""
            return self._reply(understood, f"未查询到{subject.name}{when}的{label}记录{scope}{note}。", interpreted,
                               records, viewer)
        today = self.search.settings.current_day()
        if kind is None:
            counts = Counter(r.record_type for r in records)
            parts = "、".join(f"{t.label}{counts[t]}条" for t in RecordType if counts[t])
            text = f"{subject.name}{when}共有{len(records)}条公示信用记录：{parts}"
            active = [r for r in records if r.record_type is RecordType.DISHONEST
                      and effective_status(r, today).value == "active"]
            text += "；目前在失信被执行人名单中。" if active else "；没有失信被执行人记录。"
        else:
            latest = records[0]
            text = (f"{subject.name}{when}共有{len(records)}条{label}记录，最近一次为{_day(latest.decision_date)}"
                    f"（{_detail(latest)}）。")
            if kind is RecordType.DISHONEST:
                text += "目前仍在失信被执行人名单中。" if any(
                    effective_status(r, today).value == "active" for r in records) else ""
        return self._reply(understood, text + note, interpreted, records, viewer)

    def _records_of(self, subject: SubjectRef, understood: Understood, viewer: Viewer) -> list[Record]:
        filters = self._filters(understood, viewer, with_place=False)
        return self.search.records_of_subjects([Subject(subject.key, subject.name, subject.code, "", 0)], filters)

    def _commitments(self, understood: Understood, subject: SubjectRef, viewer: Viewer) -> dict[str, Any]:
        records = self._records_of(subject, understood, viewer)
        interpreted = f"查询“{subject.name}”的信用承诺及履行情况"
        if not records:
            return self._reply(understood, f"未查询到{subject.name}公示的信用承诺。", interpreted, records, viewer)
        states = Counter(r.details.get("fulfilment") or "未填报" for r in records)
        parts = "、".join(f"{state}{n}条" for state, n in states.most_common())
        text = f"{subject.name}共有{len(records)}条信用承诺，其中{parts}。"
        broken = [r for r in records if r.details.get("fulfilment") in UNFULFILLED]
        if broken:
            text += f"未完全履行的承诺：{_detail(broken[0])}（{_day(broken[0].decision_date)}作出）。"
        else:
            text += "没有未履行的承诺。"
        return self._reply(understood, text, interpreted, records, viewer)

    def _count(self, understood: Understood, viewer: Viewer) -> dict[str, Any]:
        filters = self._filters(understood, viewer, with_place=True)
        clauses = self._topic_clauses(understood)
        page = self.search.store.search(clauses, filters, SHOWN, facets=True)
        kind = understood.record_type
        scope, amount, note = self._scope(understood)
        topic = f"{understood.topic}方面的" if understood.topic else ""
        label = kind.label if kind else "公示信用"
        who = f"{understood.kind_word}的" if understood.kind_word else ""
        interpreted = f"统计{scope}{who}{amount}{topic}{label}记录的数量"
        public = "" if viewer.is_staff else "（公众视图只统计仍在公示期内的记录）"
        text = f"{scope}{who}{amount}{topic}{label}记录共有{page.total}条{public}{note}。"
        if page.total:
            facet = "category" if kind else "record_type"
            names = {t.value: t.label for t in RecordType}
            top = sorted(page.facets.get(facet, {}).items(), key=lambda kv: -kv[1])[:4]
            if top and facet == "category":
                text += "按处罚类别：" if kind is RecordType.PENALTY else "按类别："
            elif top:
                text += "按类型："
            text += "，".join(f"{names.get(value, value)}{n}条" for value, n in top) + "。" if top else ""
            authorities = sorted(page.facets.get("authority", {}).items(), key=lambda kv: -kv[1])[:3]
            if authorities and not understood.department:
                text += "主要决定机关：" + "，".join(f"{a}{n}条" for a, n in authorities) + "。"
        records = [h.record for h in page.hits]
        return self._reply(understood, text, interpreted, records, viewer, total=page.total)

    def _list(self, understood: Understood, viewer: Viewer) -> dict[str, Any]:
        """Which subjects (有哪些企业…) or which records (…的处罚有哪些) meet the question's conditions."""
        filters = self._filters(understood, viewer, with_place=True)
        clauses = self._topic_clauses(understood)
        page = self.search.store.search(clauses, filters, _LIST_WINDOW)
        kind = understood.record_type
        label = kind.label if kind else "公示信用"
        scope, amount, note = self._scope(understood)
        topic = f"{understood.topic}方面的" if understood.topic else ""
        conditions = f"{scope}{amount}{topic}{label}记录"
        if not page.hits:
            return self._reply(understood, f"没有查询到{conditions}{note}。", f"列出{conditions}", [], viewer,
                               total=0)
        records = [h.record for h in page.hits[:SHOWN]]
        if understood.kind_word:
            by_subject = Counter(h.subject_key for h in page.hits)
            names = list(dict.fromkeys((h.subject_key, h.subject_name) for h in page.hits))
            listed = "；".join(f"{i}. {name}（{by_subject[key]}条）"
                               for i, (key, name) in enumerate(names[:SHOWN], start=1))
            many = "至少" if page.total > len(page.hits) else ""
            more = "等" if len(names) > SHOWN else ""
            counter = "人" if understood.subject_categories == (SubjectCategory.PERSON,) else "家"
            text = (f"{scope}有{conditions.removeprefix(scope)}的{understood.kind_word}{many}{len(names)}{counter}"
                    f"（共{page.total}条记录）{note}：{listed}{more}。")
            interpreted = f"列出有{conditions}的{understood.kind_word}"
        else:
            listed = "；".join(f"{i}. {r.subject_name}，{_detail(r)}，{_day(r.decision_date)}"
                               for i, r in enumerate(records[:5], start=1))
            text = f"{conditions}共有{page.total}条{note}，最近的有：{listed}。"
            interpreted = f"列出{conditions}"
        if not viewer.is_staff:
            text += "（公众视图只含仍在公示期内的记录）"
        return self._reply(understood, text, interpreted, records, viewer, total=page.total)

    def _out_of_scope(self, understood: Understood, viewer: Viewer) -> dict[str, Any]:
        text = ("抱歉，这个问题不在本平台的服务范围内。本平台可以查询公示的行政许可、行政处罚、失信被执行人和信用承诺："
                "请输入企业名称或统一社会信用代码，或者这样问：“某某公司有没有行政处罚？”"
                "“清城区今年有多少条行政处罚？”")
        return self._reply(understood, text, "与公共信用信息无关的问题", [], viewer, total=0)

    def _search(self, understood: Understood, question: str, viewer: Viewer) -> dict[str, Any]:
        if understood.choice is not None:  # a bare number with nothing to choose from
            return self._reply(understood, "当前没有需要选择的选项。请直接输入企业名称、统一社会信用代码或您的问题。",
                               "序号，但没有待选择的选项", [], viewer, total=0)
        if understood.missing_subject:
            text = "请先告诉我您要查询的企业名称或统一社会信用代码，例如“某某公司有没有行政处罚？”"
            return self._reply(understood, text, "询问“它”的信用记录，但本次会话还没有提到任何主体", [], viewer,
                               total=0)
        params = SearchParams(q=question[:self.search.settings.max_query_chars], size=SHOWN,
                              types=(understood.record_type,) if understood.record_type else (),
                              date_from=understood.time.start if understood.time else None,
                              date_to=understood.time.end if understood.time else None,
                              district=understood.district)
        result = self.search.search(params, viewer) or {"items": [], "total": 0}
        items = result["items"]
        interpreted = f"检索与“{question.strip()}”相关的记录"
        if not items:
            text = "没有找到相关的公示记录。可以换个说法，或直接输入企业名称、统一社会信用代码。"
        else:
            first = items[0]
            summary = first["summary"][:40] + ("…" if len(first["summary"]) > 40 else "")
            text = (f"为您找到{result['total']}条相关记录，最相关的是{first['subject']['name']}的"
                    f"{first['record_type_label']}记录：{summary}")
        reply = self._reply(understood, text, interpreted, [], viewer, total=int(result["total"]))
        reply["records"] = items  # already presented under the caller's view
        return reply
