"""One contract, every store: the embedded store and OpenSearch (a node started for the session, see
tests/conftest.py) always, Elasticsearch when CREDIT_SEARCH_ES_URL is set."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analyzers.codes import uscc_check_char
from analyzers.names import name_bigrams
from analyzers.normalize import normalize_name
from indexer.analysis import AnalysedRecord, analyse
from indexer.fields import map_headers
from indexer.model import Audience, RecordType, Status, SubjectCategory
from indexer.rows import build_record
from stores import embedded
from stores.base import Clause, Filters, Store, Visibility
from stores.embedded import EmbeddedStore

ES_URL = os.environ.get("CREDIT_SEARCH_ES_URL", "")
PUBLIC = Visibility(statuses=frozenset({Status.ACTIVE}), audiences=frozenset({Audience.PUBLIC}),
                    published_on=date(2026, 11, 1))
EVERYTHING = Visibility(statuses=None, audiences=frozenset(Audience), published_on=None)


def _code(body: str) -> str:
    return body + uscc_check_char(body)


HENGDA = _code("91441802MA4UJ3XK7")
HONGTU = _code("91441803MA5123456")


def penalty(name: str, code: str, number: str, day: str, facts: str, category: str = "罚款",
            authority: str = "清远市清城区市场监督管理局", until: str = "", fine: str = "0.5",
            subject_type: str = "") -> AnalysedRecord:
    row = {"行政相对人名称": name, "统一社会信用代码": code, "行政处罚决定书文号": number, "违法事实": facts,
           "处罚类别": category, "处罚决定日期": day, "处罚机关": authority, "罚款金额（万元）": fine,
           "公示截止期": until, "行政相对人类别": subject_type}
    outcome = build_record(RecordType.PENALTY, map_headers(RecordType.PENALTY, row), row)
    assert outcome.record is not None, outcome.problems
    return analyse(outcome.record)


def commitment(name: str, code: str, number: str, scope: str) -> AnalysedRecord:
    row = {"承诺编码": number, "承诺人名称": name, "承诺人代码": code, "承诺类型": "容缺受理型",
           "承诺事由": "申请食品经营许可容缺受理", "承诺作出日期": "2025-03-01",
           "承诺受理单位": "清远市政务服务数据管理局", "公开类型": scope}
    outcome = build_record(RecordType.COMMITMENT, map_headers(RecordType.COMMITMENT, row), row)
    assert outcome.record is not None
    return analyse(outcome.record)


HENGDA_NAME = "清远市恒达建筑工程有限公司"


def corpus() -> list[AnalysedRecord]:
    return [
        penalty(HENGDA_NAME, HENGDA, "清城市监罚〔2026〕1号", "2026-02-11", "施工工地裸露土方未覆盖，造成扬尘污染"),
        penalty(HENGDA_NAME, HENGDA, "清城市监罚〔2025〕7号", "2025-12-01", "销售过期食品", "警告、罚款"),
        penalty("清远市恒达建筑有限公司", HENGDA, "清城市监罚〔2019〕3号", "2019-01-05", "未明码标价",
                until="2020-01-05"),
        penalty("清远市宏图商贸有限公司", HONGTU, "清新环罚〔2026〕4号", "2026-05-20", "废水超标排放",
                authority="清远市清新区生态环境局"),
        commitment("清远市宏图商贸有限公司", HONGTU, "44180320250301000001", "特定范围内公开"),
    ]


@pytest.fixture(params=["embedded", "embedded-columns", "opensearch", "elasticsearch"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path)
    elif request.param == "embedded-columns":  # counting matches from record columns, as a large store does
        request.getfixturevalue("monkeypatch").setattr(embedded, "_BROAD_MATCHES", 0)
        s = EmbeddedStore(tmp_path, columns_min_records=0, columns_in_background=False)
    elif request.param == "opensearch":
        from stores.opensearch import OpenSearchStore

        s = OpenSearchStore(request.getfixturevalue("opensearch_url"), f"contract-{uuid.uuid4().hex[:8]}",
                            replicas=0)
    else:
        if not ES_URL:
            pytest.skip("CREDIT_SEARCH_ES_URL is not set: no Elasticsearch server can run on this machine")
        from stores.elastic import ElasticStore

        s = ElasticStore(ES_URL, f"contract-{uuid.uuid4().hex[:8]}", replicas=0)
    yield s
    s.close()


def _code(head: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return head + uscc_check_char(head)


def _filters(**kwargs: object) -> Filters:
    return Filters(visibility=kwargs.pop("visibility", PUBLIC), **kwargs)  # type: ignore[arg-type]


def _name_clause(text: str) -> Clause:
    return Clause("name", tuple((g,) for g in name_bigrams(normalize_name(text))))


def test_upsert_counts_and_idempotence(store: Store) -> None:
    docs = corpus()
    first = store.upsert(docs)
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    again = store.upsert(corpus())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert store.count() == 5 and store.count(RecordType.PENALTY) == 4
    changed = penalty(HENGDA_NAME, HENGDA, "清城市监罚〔2026〕1号", "2026-02-11", "施工工地扬尘，已整改")
    assert store.upsert([changed]).updated == 1
    assert store.count() == 5
    duplicate_in_batch = store.upsert([corpus()[3], corpus()[3]])
    assert duplicate_in_batch.inserted == 0 and duplicate_in_batch.unchanged == 2


def test_batches_of_one_call_are_upserted_in_order(store: Store) -> None:
    docs = corpus()
    changed = penalty(HENGDA_NAME, HENGDA, "清城市监罚〔2026〕1号", "2026-02-11", "施工工地扬尘，已整改")
    assert changed.id == docs[0].id
    # A generator, as a load streams its batches: the later batches see what the earlier ones wrote.
    counts = store.upsert_batches(batch for batch in (docs[:3], docs[3:], [changed], [docs[1]]))
    assert (counts.inserted, counts.updated, counts.unchanged) == (5, 1, 1)
    stored = store.get(docs[0].id)
    assert store.count() == 5 and stored is not None and stored.details["facts"] == "施工工地扬尘，已整改"


def test_an_embedded_transaction_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    docs = corpus()

    def failing() -> Iterator[list[AnalysedRecord]]:
        yield docs[:3]
        raise OSError("读取中断")

    with pytest.raises(OSError, match="读取中断"):
        store.upsert_batches(failing())
    assert store.count() == 0
    # The rolled-back batches' autocomplete forms count as unwritten: a later load writes them.
    assert store.upsert_batches([docs]).inserted == 5
    store.flush()
    assert [s.code for s in store.suggest("恒达", 10)] == [HENGDA]
    store.close()


def test_checksum_does_not_depend_on_load_order(store: Store, tmp_path: Path) -> None:
    store.upsert(corpus())
    other = EmbeddedStore(tmp_path / "other")
    for doc in reversed(corpus()):
        other.upsert([doc])
    assert store.checksum() == other.checksum()
    other.close()


def test_a_correction_survives_a_reload(store: Store) -> None:
    docs = corpus()
    store.upsert(docs)
    assert store.set_status(docs[0].id, Status.WITHDRAWN, "异议核实后撤销", date(2026, 10, 1))
    assert not store.set_status("cf-0000000000000000", Status.REPAIRED, "", None)
    store.upsert(corpus())
    record = store.get(docs[0].id)
    assert record is not None and record.status is Status.WITHDRAWN and record.status_reason == "异议核实后撤销"
    # Also when the department sends the row again with new content: the record updates and stays withdrawn.
    changed = penalty(HENGDA_NAME, HENGDA, "清城市监罚〔2026〕1号", "2026-02-11", "施工工地扬尘，已整改")
    assert store.upsert([changed]).updated == 1
    record = store.get(docs[0].id)
    assert record is not None and record.details["facts"] == "施工工地扬尘，已整改"
    assert (record.status, record.status_reason, record.status_date) == (Status.WITHDRAWN, "异议核实后撤销",
                                                                         date(2026, 10, 1))
    rectified = [Clause("text", (("整改",),))]
    assert store.search(rectified, _filters(visibility=EVERYTHING), limit=10).total == 1  # staff see it
    assert store.search(rectified, _filters(), limit=10).total == 0  # the public view still hides it


def test_search_by_name_text_and_filters(store: Store) -> None:
    store.upsert(corpus())
    page = store.search([_name_clause("恒达建筑")], _filters(), limit=10)
    assert {h.record.subject_code for h in page.hits} == {HENGDA}
    assert page.total == 2  # the 2019 penalty is past its publication end
    text = store.search([Clause("text", (("扬尘", "扬尘污染"),))], _filters(), limit=10)
    assert [h.record.document_number for h in text.hits] == ["清城市监罚(2026)1号"]
    both = store.search([_name_clause("恒达"), Clause("text", (("废水",),))], _filters(), limit=10)
    assert both.total == 3
    district = store.search([], _filters(district="清新区"), limit=10)
    assert [h.record.subject_code for h in district.hits] == [HONGTU]
    dated = store.search([], _filters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 1)), limit=10)
    assert [h.record.document_number for h in dated.hits] == ["清城市监罚(2026)1号"]
    category = store.search([], _filters(category="警告"), limit=10)
    assert [h.record.document_number for h in category.hits] == ["清城市监罚(2025)7号"]
    regulators = store.search([], _filters(authority_contains="生态环境"), limit=10)
    assert [h.record.document_number for h in regulators.hits] == ["清新环罚(2026)4号"]


def test_filters_by_districts_subject_category_and_amount(store: Store) -> None:
    """A city asked for means its counties too; 企业 means no natural persons; amount bounds are inclusive
    and a record without an amount never meets one."""
    store.upsert([*corpus(),
                  penalty("李某", "", "英德市监罚〔2026〕9号", "2026-04-01", "无证经营", fine="12",
                          authority="英德市市场监督管理局", subject_type="自然人"),
                  penalty("清远市鸿运运输有限公司", _code("91441802MA4W0K7N3"), "清交罚〔2026〕2号", "2026-04-02",
                          "超限运输", fine="10", authority="清远市交通运输局"),
                  penalty("清远市顺安物流有限公司", _code("91441802MA4W1B2X5"), "清交罚〔2026〕3号", "2026-04-03",
                          "超限运输", fine="", category="没收违法所得", authority="清远市交通运输局")])

    def numbers(**given: Any) -> set[str]:
        return {h.record.document_number for h in store.search([], _filters(**given), limit=20).hits}

    assert numbers(districts=("英德市", "清新区")) == {"英德市监罚(2026)9号", "清新环罚(2026)4号"}
    companies = numbers(subject_categories=(SubjectCategory.ORGANIZATION,))
    assert "英德市监罚(2026)9号" not in companies and "清交罚(2026)3号" in companies
    assert numbers(amount_min=100000) == {"英德市监罚(2026)9号", "清交罚(2026)2号"}
    assert numbers(amount_min=100000.01) == {"英德市监罚(2026)9号"}
    assert numbers(amount_max=5000) == {"清城市监罚(2026)1号", "清城市监罚(2025)7号", "清新环罚(2026)4号"}


def test_visibility_is_applied_by_the_store(store: Store) -> None:
    docs = corpus()
    store.upsert(docs)
    store.set_status(docs[1].id, Status.REPAIRED, "信用修复完成", date(2026, 1, 1))
    public = store.search([], _filters(), limit=10)
    assert {h.record.document_number for h in public.hits} == {"清城市监罚(2026)1号", "清新环罚(2026)4号"}
    staff = store.search([], _filters(visibility=EVERYTHING), limit=10)
    assert staff.total == 5
    assert all(PUBLIC.allows(h.record) for h in public.hits)
    assert not all(PUBLIC.allows(h.record) for h in staff.hits)


def test_paging_with_a_cursor_and_facets(store: Store) -> None:
    store.upsert(corpus())
    seen: list[str] = []
    after = None
    while True:
        page = store.search([_name_clause("清远")], _filters(visibility=EVERYTHING), limit=2, after=after)
        if not page.hits:
            break
        seen.extend(h.record.id for h in page.hits)
        after = page.hits[-1].cursor
    assert len(seen) == len(set(seen)) == 5
    by_date: list[str] = []
    after = None
    while True:  # without terms: newest first, and the cursor follows that order
        page = store.search([], _filters(visibility=EVERYTHING), limit=2, after=after)
        if not page.hits:
            break
        by_date.extend(h.record.id for h in page.hits)
        after = page.hits[-1].cursor
    newest_first = sorted(corpus(), key=lambda d: (d.decision_date or "", d.id), reverse=True)
    assert len(by_date) == len(set(by_date)) == 5
    assert [store.get(i).decision_date for i in by_date] == [store.get(d.id).decision_date for d in newest_first]  # type: ignore[union-attr]
    faceted = store.search([], _filters(visibility=EVERYTHING), limit=1, facets=True)
    assert faceted.facets["record_type"] == {"penalty": 4, "commitment": 1}
    assert sum(faceted.facets["year"].values()) == faceted.total == 5


def test_document_frequencies(store: Store) -> None:
    store.upsert(corpus())
    assert store.document_frequencies("name", ["恒达", "宏图", "清远", "无此"]) == {
        "恒达": 3, "宏图": 2, "清远": 5, "无此": 0}
    assert store.document_frequencies("text", ["扬尘"]) == {"扬尘": 1}


def test_subject_lookups(store: Store) -> None:
    docs = corpus()
    store.upsert(docs)
    store.flush()
    (subject,) = store.subjects_by_code([HENGDA])
    assert subject.name == "清远市恒达建筑工程有限公司" and subject.record_count == 3
    assert store.subjects_by_code([HENGDA[8:17]])[0].key == subject.key  # by 组织机构代码 inside the USCC
    names = store.subject_names(subject.key)
    assert [n for n, _ in names] == ["清远市恒达建筑工程有限公司", "清远市恒达建筑有限公司"]
    records = store.records_of([subject.key], _filters(visibility=EVERYTHING))
    assert [r.decision_date for r in records] == sorted((r.decision_date for r in records), reverse=True)
    assert [r.id for r in store.by_document_number("清新环罚(2026)4号", _filters())] == [docs[3].id]


def test_suggest_by_prefix_and_pinyin(store: Store) -> None:
    store.upsert(corpus())
    store.flush()
    assert [s.code for s in store.suggest("清远恒", 10)] == [HENGDA]
    assert [s.code for s in store.suggest("qyhd", 10)] == [HENGDA]
    assert [s.code for s in store.suggest("hengda", 10)] == [HENGDA]
    ranked = store.suggest("清远市", 10)
    assert [s.code for s in ranked] == [HENGDA, HONGTU]  # more records first


def test_visible_counts_count_only_what_the_visibility_allows(store: Store) -> None:
    store.upsert(corpus())
    store.flush()
    # HENGDA: two public penalties and one past its publication end; HONGTU: a penalty and a commitment
    # published to a specific scope only.
    assert store.visible_counts([HENGDA, HONGTU, "no-such-subject"], PUBLIC) == {HENGDA: 2, HONGTU: 1}
    assert store.visible_counts([HENGDA, HONGTU], EVERYTHING) == {HENGDA: 3, HONGTU: 2}
    assert store.visible_counts([], PUBLIC) == {}
    withdrawn = next(d.id for d in corpus() if d.subject_key == HONGTU and d.record_type == RecordType.PENALTY)
    assert store.set_status(withdrawn, Status.WITHDRAWN, "异议核实后撤销", date(2026, 6, 1))
    assert store.visible_counts([HONGTU], PUBLIC) == {}
    # Suggestions still offer the subject: whether a viewer may see it is the search layer's to decide.
    assert [s.code for s in store.suggest("清远宏", 10)] == [HONGTU]


def test_iter_subjects_carries_former_names_and_the_generation_moves(store: Store) -> None:
    docs = corpus()
    store.upsert(docs[:3])
    store.flush()
    before = store.subjects_generation()
    assert store.subjects_generation() == before  # reading does not move it
    (hengda,) = list(store.iter_subjects())
    assert hengda.name == HENGDA_NAME
    assert set(hengda.names) == {HENGDA_NAME, "清远市恒达建筑有限公司"}
    store.upsert(docs[3:])
    store.flush()
    assert store.subjects_generation() != before
    assert {s.code for s in store.iter_subjects()} == {HENGDA, HONGTU}


def _unit_vectors(keys: list[str], dims: int = 8) -> np.ndarray:
    """One distinct unit vector per key (the store is under test here, not an encoder)."""
    vectors = np.random.default_rng(3).normal(size=(len(keys), dims)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectors_are_cached_by_text_and_searched_under_the_filters(store: Store) -> None:
    if reason := store.vectors_unavailable():
        pytest.skip(f"this store cannot hold vectors: {reason}")
    docs = corpus()
    twin = penalty("清远市宏图商贸有限公司", HONGTU, "清新环罚〔2026〕9号", "2026-06-01", "销售过期食品", "警告、罚款")
    store.upsert([*docs, twin])  # twin has the text of docs[1]
    pending = store.pending_embeddings("enc-a", 100)
    assert sorted(text for _, text in pending) == sorted({d.semantic_text for d in [*docs, twin]})
    assert store.semantic_text_count() == len(pending) == 5
    keys = [key for key, _ in pending]
    vectors = _unit_vectors(keys)
    store.put_embeddings("enc-a", keys[:2], vectors[:2])
    assert store.stored_vector_count("enc-a") == 2 and store.vector_count("enc-a") == 0  # stored, not published
    store.put_embeddings("enc-a", keys, vectors)
    assert store.stored_vector_count("enc-a") == 5 and store.stored_vector_count("enc-b") == 0
    assert store.pending_embeddings("enc-a", 100) == []
    assert store.pending_embeddings("enc-b", 100) != []  # vectors are kept per encoder
    assert store.publish_vectors("enc-a") == 6 and store.vector_count("enc-a") == 6
    assert store.vector_count("enc-b") == 0

    def nearest(doc: AnalysedRecord, filters: Filters, limit: int = 10) -> list[str]:
        vector = vectors[keys.index(doc.semantic_key)]
        hits = store.vector_search("enc-a", vector, filters, limit)
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))
        return [h.record_id for h in hits]

    assert set(nearest(docs[1], _filters(visibility=EVERYTHING))[:2]) == {docs[1].id, twin.id}
    # The expired penalty (docs[2]) and the staff-only commitment (docs[4]) never reach the public.
    for hidden in (docs[2], docs[4]):
        assert nearest(hidden, _filters(visibility=EVERYTHING))[0] == hidden.id
        assert hidden.id not in nearest(hidden, _filters())
    assert nearest(docs[0], _filters(authority="清远市清新区生态环境局")) == [docs[3].id]
    assert nearest(docs[0], _filters(authority_contains="生态环境")) == [docs[3].id]
    assert set(nearest(docs[0], _filters(category="警告"))) == {docs[1].id, twin.id}
    assert nearest(docs[0], _filters(district="清城区", date_from=date(2026, 6, 1))) == [twin.id]
    assert len(nearest(docs[0], _filters(), limit=2)) == 2
    # Reloading unchanged records asks for nothing; a new text asks for its vector only.
    store.upsert(corpus())
    assert store.pending_embeddings("enc-a", 100) == []
    changed = penalty(HENGDA_NAME, HENGDA, "清城市监罚〔2026〕1号", "2026-02-11", "施工工地扬尘，已整改")
    store.upsert([changed])
    assert [text for _, text in store.pending_embeddings("enc-a", 100)] == [changed.semantic_text]


def test_a_batch_of_thousands_of_subjects_files_every_one(store: Store) -> None:
    # Enough subjects, each with many autocomplete forms, that one aggregation over the batch would pass the
    # engines' limit of 65,535 buckets.
    template = corpus()[0]
    docs = [template._replace(id=f"bulk-{i}", subject_key=f"bulk-{i}", subject_name=f"清远市批量{i}号有限公司",
                              subject_code="", suggest_forms=tuple(f"批量{i}形式{k}" for k in range(30)))
            for i in range(2500)]
    counts = store.upsert(docs)
    store.flush()
    assert counts.inserted == 2500
    subjects = {s.key: s for s in store.iter_subjects()}
    assert len(subjects) == 2500 and subjects["bulk-2499"].name == "清远市批量2499号有限公司"
    assert [s.key for s in store.suggest("批量1234形式", 5)] == ["bulk-1234"]
