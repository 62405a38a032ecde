"""Pieces of /v1/ask that are easiest to pin down alone: time ranges in Chinese, questions read on their own,
the FAQ, and the session store's time-to-live and size bound."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from indexer.model import RecordType
from search_api.conversation.faq import load_faq, match_faq
from search_api.conversation.sessions import SessionStore
from search_api.conversation.timespan import find_timespan
from search_api.conversation.understanding import Context, Intent, SubjectRef, decide, read

TODAY = date(2026, 11, 1)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2023年清城区有多少处罚", "2023-01-01", "2023-12-31"),
    ("2023年上半年", "2023-01-01", "2023-06-30"),
    ("2024年第四季度的许可", "2024-10-01", "2024-12-31"),
    ("2024年2月", "2024-02-01", "2024-02-29"),
    ("近三年有没有处罚", "2023-11-01", "2026-11-01"),
    ("最近6个月", "2026-05-01", "2026-11-01"),
    ("去年", "2025-01-01", "2025-12-31"),
    ("今年上半年", "2026-01-01", "2026-06-30"),
    ("上个月", "2026-10-01", "2026-10-31"),
    ("2021至2023年", "2021-01-01", "2023-12-31"),
])
def test_time_ranges_in_chinese(text: str, start: str, end: str) -> None:
    span = find_timespan(text, TODAY)
    assert span is not None and (span.start.isoformat(), span.end.isoformat()) == (start, end)


def test_no_time_range_where_none_is_written() -> None:
    assert find_timespan("它有失信记录吗？", TODAY) is None
    assert find_timespan("清远市2号仓库有限公司", TODAY) is None


def test_a_question_read_on_its_own() -> None:
    reading = read("佛山市正和医药农民专业合作社近两年有没有被罚款？", TODAY)
    assert reading.name_texts[0] == "佛山市正和医药农民专业合作社"  # 和 inside a name does not cut it
    assert reading.record_type is RecordType.PENALTY and reading.time is not None
    counting = read("2023年清城区有多少食品安全方面的处罚？", TODAY)
    assert counting.counting and counting.district == "清城区" and counting.topic == "食品安全"
    assert counting.name_texts == []  # a district and a topic are not a subject
    department = read("英德市市场监管局去年开了多少罚单", TODAY)
    assert department.department == "市场监督管理" and department.topic == "" and department.district == "英德市"
    assert read("它有失信记录吗？", TODAY).pronoun
    assert read("第2个", TODAY).choice == 2 and read("三", TODAY).choice == 3
    assert read("那许可呢", TODAY).elliptical


def test_a_follow_up_during_a_clarification_asks_it_again() -> None:
    earlier = SubjectRef("91441802MA4UJ3XK72", "清远市恒达建筑工程有限公司", "91441802MA4UJ3XK72")
    pending = [SubjectRef("k1", "清远市英德市江东汽车服务有限责任公司", "91441881W1CF5QCY5N"),
               SubjectRef("k2", "清远市江东汽车服务有限公司", "91441802W2CF5QCY5N")]
    context = Context(subject=earlier, intent=Intent.SUBJECT_RECORDS, pending=pending,
                      pending_intent=Intent.SUBJECT_RECORDS, pending_record_type=RecordType.PENALTY)
    understood = decide(read("有没有失信", TODAY), [], "", "", context, "")
    assert understood.intent is Intent.SUBJECT_RECORDS and understood.subject is None
    assert understood.candidates == pending and understood.record_type is RecordType.DISHONEST
    chosen = decide(read("2", TODAY), [], "", "", context, "")
    assert chosen.subject == pending[1] and chosen.record_type is RecordType.PENALTY


def test_faq_entries_name_their_rule_and_only_rule_questions_match() -> None:
    assert all(e.rule and e.answer and e.examples for e in load_faq())
    for question, expected in (("怎么申请信用修复？", "credit_repair"), ("对公示信息有异议怎么办？", "objection"),
                               ("老赖名单多久能删除", "dishonest_removal")):
        found = match_faq(question)
        assert found is not None and found.id == expected
    assert match_faq("老赖名单里有没有恒达") is None
    assert match_faq("清远市恒达建筑工程有限公司有没有行政处罚") is None


def test_sessions_expire_and_the_oldest_go_beyond_the_bound(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.sqlite3", ttl_seconds=3600, max_sessions=2)
    subject = SubjectRef("91441802MA4UJ3XK72", "清远市恒达建筑工程有限公司", "91441802MA4UJ3XK72")
    ids = []
    for _ in range(3):
        session_id, context, turns, found = store.load(None)
        assert not found and turns == 0
        store.save(session_id, Context(subject=subject, intent=Intent.SUBJECT_RECORDS, record_type=RecordType.PENALTY,
                                       time=find_timespan("近三年", TODAY)), 1)
        ids.append(session_id)
        time.sleep(0.01)
    assert store.count() == 2
    assert not store.load(ids[0])[3]  # the oldest was dropped
    _, context, turns, found = store.load(ids[2])
    assert found and turns == 1 and context.subject == subject and context.record_type is RecordType.PENALTY
    assert context.time is not None and context.time.label == "近3年"
    short = SessionStore(tmp_path / "short.sqlite3", ttl_seconds=0.05)
    session_id, _, _, _ = short.load(None)
    short.save(session_id, Context(), 1)
    time.sleep(0.1)
    assert not short.load(session_id)[3]
