"""POST /v1/ask through the real server: the conversation set, follow-ups, clarification by number, the
public view in every answer, and bad requests."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from bench.conversation_set import build_dialogues, build_held_out, evaluate
from indexer.model import Audience, Record, RecordType, Status, SubjectCategory
from search_api.schemas import AskResponse
from stores.base import Filters, Visibility
from stores.embedded import EmbeddedStore
from tests.api.conftest import TODAY, unmasked_ids

pytestmark = pytest.mark.slow
PUBLIC = Visibility(frozenset({Status.ACTIVE}), frozenset({Audience.PUBLIC}), date.fromisoformat(TODAY))
EVERYTHING = Visibility(None, frozenset(Audience), None)


def _records(store: EmbeddedStore, visibility: Visibility = PUBLIC) -> list[Record]:
    return [h.record for h in store.search([], Filters(visibility=visibility), limit=100000).hits]


def _ask(client: httpx.Client, question: str, session: str | None = None) -> dict[str, Any]:
    response = client.post("/v1/ask", json={"question": question, "session_id": session})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    AskResponse.model_validate(body)
    return body


def test_the_conversation_set_is_understood(client: httpx.Client, store: EmbeddedStore) -> None:
    records = _records(store)
    today = date.fromisoformat(TODAY)
    dialogues = build_dialogues(records, today) + build_held_out(records, today)
    assert len(dialogues) >= 40 and sum(len(d.turns) for d in dialogues) >= 100
    report = evaluate(lambda q, s: _ask(client, q, s), dialogues)
    assert report.intent_accuracy >= 0.9, report.failures
    assert report.slot_f1 >= 0.9, report.failures
    assert report.fact_accuracy >= 0.9, report.failures


def test_a_pronoun_follows_the_subject_and_the_answer_states_the_records(client: httpx.Client,
                                                                        store: EmbeddedStore) -> None:
    records = _records(store)
    penalised = [r for r in records if r.record_type is RecordType.PENALTY and len(r.subject_code) == 18
                 and "*" not in r.subject_code and r.subject_name.endswith("有限公司")]
    names = {r.subject_name for r in records}
    subject = next(r for r in penalised
                   if sum(1 for x in records if x.subject_name == r.subject_name) >= 1
                   and len({x.subject_code for x in records if x.subject_name == r.subject_name}) == 1
                   and r.subject_name in names)
    mine = [r for r in records if r.subject_code == subject.subject_code]
    first = _ask(client, f"{subject.subject_name}有没有行政处罚？")
    assert first["understood"]["intent"] == "subject_records"
    assert first["understood"]["slots"]["subject"]["code"] == subject.subject_code
    assert first["understood"]["text"].startswith("已理解为：")
    penalties = [r for r in mine if r.record_type is RecordType.PENALTY]
    assert f"共有{len(penalties)}条行政处罚记录" in first["answer"]
    latest = max(r.decision_date for r in penalties if r.decision_date)
    assert f"{latest.year}年{latest.month}月{latest.day}日" in first["answer"]
    assert {r["id"] for r in first["records"]} == {r.id for r in penalties}
    second = _ask(client, "它的行政许可呢？", first["session_id"])
    assert second["session_id"] == first["session_id"] and second["turn"] == 2
    assert second["understood"]["slots"]["subject"]["code"] == subject.subject_code
    assert second["understood"]["slots"]["record_type"] == "licensing"
    assert all(r["record_type"] == "licensing" and r["subject"]["code"] == subject.subject_code
               for r in second["records"])


def test_a_loose_name_is_asked_back_and_a_number_answers(client: httpx.Client, store: EmbeddedStore) -> None:
    records = _records(store)
    companies = sorted({r.subject_name for r in records if r.subject_name.endswith("公司")})
    # A 字号 that several visible companies share, with nothing else in the question to tell them apart.
    from analyzers.names import analyze_name

    by_brand: dict[str, set[str]] = {}
    for name in companies:
        by_brand.setdefault(analyze_name(name).core, set()).add(name)
    brand, names = next((b, n) for b, n in sorted(by_brand.items()) if len(b) == 2 and len(n) >= 2)
    first = _ask(client, f"{brand}有没有不良记录")
    assert "请问您指的是" in first["answer"] and first["candidates"]
    offered = [c["name"] for c in first["candidates"]]
    assert set(offered) >= names or len(offered) == 5
    second = _ask(client, "2", first["session_id"])
    assert second["understood"]["slots"]["subject"]["name"] == offered[1]
    assert second["understood"]["slots"]["choice"] == 2
    assert offered[1] in second["answer"]
    lost = _ask(client, "9", second["session_id"])  # nothing left to choose from
    assert "没有需要选择的选项" in lost["answer"]


def test_every_count_and_record_follows_the_public_view(client: httpx.Client, staff: httpx.Client,
                                                        store: EmbeddedStore) -> None:
    hidden = [r for r in _records(store, EVERYTHING) if r.record_type is RecordType.PENALTY
              and r.status is Status.WITHDRAWN and len(r.subject_code) == 18]
    target = hidden[0]
    question = f"{target.subject_code}有没有行政处罚"
    public = _ask(client, question)
    staff_answer = _ask(staff, question)
    assert target.id not in {r["id"] for r in public["records"]}
    assert target.id in {r["id"] for r in staff_answer["records"]}
    withdrawn = next(r for r in staff_answer["records"] if r["id"] == target.id)
    assert withdrawn["status"] == "withdrawn" and withdrawn["status_reason"]
    count_question = "近五年有多少条行政处罚"
    assert _ask(client, count_question)["total"] < _ask(staff, count_question)["total"]
    assert not unmasked_ids(str(public))


def test_sessions_and_bad_requests(client: httpx.Client) -> None:
    faq = _ask(client, "对公示信息有异议怎么办？")
    assert faq["understood"]["intent"] == "faq" and faq["faq"]["rule"] in faq["answer"]
    expired = _ask(client, "怎么申请信用修复？", "no-such-session")
    assert expired["session_expired"] is True and expired["session_id"] != "no-such-session"
    for body, message in (({"question": "   "}, "问题不能为空"), ({"question": "问" * 201}, "不能超过200"),
                          ({}, "question"), ({"question": "x", "session_id": "s" * 65}, "session_id")):
        response = client.post("/v1/ask", json=body)
        assert response.status_code == 422, body
        assert message in response.json()["error"]["message"] + str(response.json()["error"].get("details"))
    broken = client.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422


def test_lists_follow_the_district_hierarchy_the_kind_of_subject_and_amounts(client: httpx.Client,
                                                                             store: EmbeddedStore) -> None:
    records = _records(store)
    counties = {r.district for r in records if r.district.endswith(("区", "县"))}
    court = [r for r in records if r.record_type is RecordType.DISHONEST]
    companies = [r for r in court if r.subject_category is SubjectCategory.ORGANIZATION]
    assert {r.district for r in companies} & counties  # the city's own and its counties' records
    answer = _ask(client, "清远市有哪些企业被列入失信被执行人")
    assert answer["understood"]["intent"] == "list"
    assert "清远市（含所辖县区）有失信被执行人记录的企业" in answer["answer"]
    assert f"（共{len(companies)}条记录）" in answer["answer"] and answer["total"] == len(companies)
    names = {r.subject_name for r in companies}
    listed = [r["subject"]["name"] for r in answer["records"]]
    assert listed and set(listed) <= names and "1. " in answer["answer"] and "2. " in answer["answer"]
    persons = _ask(client, "清远市有哪些个人被列入失信被执行人")
    person_court = [r for r in court if r.subject_category is SubjectCategory.PERSON]
    assert persons["total"] == len(person_court) and "人（共" in persons["answer"]

    year = max(r.decision_date.year for r in records if r.decision_date and r.record_type is RecordType.PENALTY)
    district = max(counties, key=lambda d: sum(r.district == d for r in records))
    fined = [r for r in records if r.record_type is RecordType.PENALTY and r.district == district
             and r.decision_date and r.decision_date.year == year and (r.amount or 0) > 10000]
    over = _ask(client, f"{year}年{district}罚款超过1万元的处罚有哪些")
    assert over["understood"]["slots"]["amount"] == {"min": 10000.01, "max": None, "text": "超过1万元"}
    assert over["total"] == len(fined) and all(r["amount"] > 10000 for r in over["records"])
    assert (f"罚款超过1万元的行政处罚记录共有{len(fined)}条" if fined else "没有查询到") in over["answer"]
    # An amount asked of licences cannot be applied: the answer says so instead of dropping it.
    licences = _ask(client, f"{district}金额超过1万元的行政许可有哪些")
    assert "行政许可记录没有金额，未按“超过1万元”筛选" in licences["answer"]

    weather = _ask(client, "今天天气怎么样")
    assert weather["understood"]["intent"] == "out_of_scope" and weather["total"] == 0
    assert "不在本平台的服务范围内" in weather["answer"] and not weather["records"]


def test_a_question_in_the_search_box_is_answered_as_one(client: httpx.Client) -> None:
    question = "清远市有哪些企业被列入失信被执行人？"
    body = client.get("/v1/search", params={"q": question}).json()
    asked = _ask(client, question)
    assert body["query"]["kind"] == "question" and body["query"]["intent"] == "list"
    assert body["answer"]["answer"] == asked["answer"] and body["total"] == asked["total"]
    assert [i["id"] for i in body["items"]] == [r["id"] for r in asked["records"]][:10]
    words = client.get("/v1/search", params={"q": "失信被执行人"}).json()
    assert words["query"]["kind"] == "text" and "answer" not in words


def test_an_amount_asked_of_one_subject_is_applied(client: httpx.Client, store: EmbeddedStore) -> None:
    records = _records(store)
    fines: dict[str, list[float]] = {}
    for r in records:
        if r.record_type is RecordType.PENALTY and len(r.subject_code) == 18 and "*" not in r.subject_code:
            fines.setdefault(r.subject_code, []).append(r.amount or 0)
    code = next(c for c, amounts in fines.items()
                if any(a > 10000 for a in amounts) and any(a <= 10000 for a in amounts))
    answer = _ask(client, f"{code}罚款超过1万元的处罚有几条")
    assert answer["understood"]["intent"] == "subject_records"
    assert answer["total"] == sum(a > 10000 for a in fines[code]) < len(fines[code])
    assert "罚款超过1万元的行政处罚记录" in answer["answer"]
