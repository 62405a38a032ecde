"""The in-memory name index: blocking recall, scoring order, former names, and keeping in step with the store."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from search_api.name_index import NameIndex, NameIndexHolder
from search_api.screening import NAMES_ASKED, Policy, decide
from stores.base import Subject
from stores.embedded import EmbeddedStore
from tests.contract.test_store_contract import HENGDA, HONGTU, corpus, penalty


def _subject(key: str, *names: str, records: int = 1) -> Subject:
    return Subject(key=key, name=names[0], code="", category="legal_person", record_count=records, names=names)


INDEX = NameIndex([
    _subject("pufa", "上海浦东发展银行股份有限公司", records=5),
    _subject("hengda", "清远市恒达建筑工程有限公司", "清远市恒达建筑有限公司"),
    _subject("hengda-fs", "佛山市恒达建筑工程有限公司"),
    _subject("hengtai", "清远市恒泰建筑工程有限公司"),
    *(_subject(f"filler-{i}", f"清远市{a}{b}建筑工程有限公司") for i, (a, b) in
      enumerate((a, b) for a in "金银铜铁锡" for b in "山水林田湖")),
])


def test_variants_of_a_name_rank_its_subject_first() -> None:
    for typed in ("清远市恒达建筑工程有限公司", "清遠市恒達建築工程有限責任公司", "清远恒达建筑工程"):
        best = INDEX.match(typed, limit=3)
        assert best[0].subject.key == "hengda", typed
    # Without a region both 恒达建筑工程 companies are equally good answers.
    assert {m.subject.key for m in INDEX.match("恒达建筑工程", limit=2)} == {"hengda", "hengda-fs"}
    exact, other_region = INDEX.match("清远市恒达建筑工程有限公司", limit=2)
    assert exact.score == 1.0 and other_region.subject.key == "hengda-fs" and other_region.score < 1.0
    assert "地区" in other_region.explanation


def test_abbreviation_and_former_name() -> None:
    (pufa, *_) = INDEX.match("浦发银行")
    assert pufa.subject.key == "pufa" and pufa.score >= 0.9
    former = INDEX.match("清远市恒达建筑有限公司", limit=1)[0]
    assert former.subject.key == "hengda" and former.score == 1.0 and "曾用名" in former.explanation


def test_another_core_name_scores_low_and_the_floor_drops_it() -> None:
    exact = INDEX.match("清远市恒泰建筑工程有限公司", limit=50)
    assert exact[0].subject.key == "hengtai" and exact[0].score == 1.0
    assert all(m.score < 0.7 for m in exact if m.subject.key == "hengda")
    slipped = {m.subject.key: m.score for m in INDEX.match("清远市恒泰建筑工有限公司", limit=50)}
    assert slipped["hengtai"] >= 0.9 and slipped["hengda"] < 0.7
    assert [m.subject.key for m in INDEX.match("清远市恒泰建筑工有限公司", limit=50, floor=0.9)] == ["hengtai"]
    assert all(m.score < 0.5 for m in INDEX.match("完全无关的名称"))


def test_holder_rebuilds_when_the_store_changes(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.upsert(corpus()[:3])
    store.flush()
    holder = NameIndexHolder(store, check_seconds=0)
    assert [m.subject.code for m in holder.current().match("恒达建筑工程", limit=1)] == [HENGDA]
    assert not holder.current().match("宏图商贸", floor=0.9)
    store.upsert([penalty("清远市宏图商贸有限公司", HONGTU, "清新环罚〔2026〕4号", "2026-05-20", "废水超标排放")])
    store.flush()
    deadline = time.monotonic() + 30
    while not holder.current().match("宏图商贸", floor=0.9):
        assert time.monotonic() < deadline, "the name index never caught up with the store"
        time.sleep(0.05)
    assert holder.current().match("宏图商贸", limit=1)[0].subject.code == HONGTU
    store.close()


def test_short_forms_that_are_no_abbreviation_are_offered_for_review_not_dropped() -> None:
    leads = NameIndex([
        _subject("datun", "上海大屯能源股份有限公司"),
        _subject("haitian", "佛山市海天调味食品股份有限公司"),
        _subject("other", "清远市恒泰建筑工程有限公司"),
    ])
    # In order, but none of its characters in the 字号 大屯: a lead, below the review floor of confirmation.
    (datun, *_) = leads.match("上海能源")
    assert datun.subject.key == "datun" and 0.6 <= datun.score < 0.8 and "字号" in datun.explanation
    # The head of the 字号 海天 plus 味业, which the name lacks.
    (haitian, *_) = leads.match("海天味业")
    assert haitian.subject.key == "haitian" and 0.6 <= haitian.score < 0.8 and "海天" in haitian.explanation
    assert all(m.score < 0.6 for m in leads.match("海天味业") if m.subject.key == "other")


def test_a_review_says_when_more_names_are_as_close_than_it_lists() -> None:
    # Twelve subjects whose names all hold the 字号 恒远 in the same way: no one of them is the answer.
    index = NameIndex([replace(_subject(f"hy-{i}", f"{city}恒远建材有限公司"), code=f"9144180{i:02d}") for i, city in
                       enumerate(("清远市", "佛山市", "广州市", "深圳市", "东莞市", "中山市", "江门市", "肇庆市",
                                  "韶关市", "河源市", "梅州市", "惠州市"))])
    policy = Policy()
    many = decide(index.match("恒远建材", limit=NAMES_ASKED, floor=policy.review_floor), policy)
    assert many.verdict == "review" and len(many.candidates) == 10
    assert "超过10个" in many.reason and "统一社会信用代码" in many.reason
    few = decide(index.match("恒远建材", limit=NAMES_ASKED, floor=policy.review_floor)[:3], policy)
    assert few.verdict == "review" and len(few.candidates) == 3 and "有3个" in few.reason
