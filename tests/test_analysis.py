"""The analysis step: clause-wise tokens equal whole-text tokens, one encoding gives hash and body."""

import json
from dataclasses import replace

import pytest

from analyzers.tokens import index_tokens
from indexer import analysis
from indexer.analysis import _CLAUSE, analyse, encode, with_status
from indexer.fields import map_headers
from indexer.model import RecordType, Status, record_from_dict
from indexer.rows import build_record


@pytest.mark.parametrize("text", [
    "当事人在其经营场所销售超过保质期的乳制品，货值金额45元；罚款2,000元。",
    "当事人（身份证441802199001011234）2023年5月1日未明码标价、哄抬价格!",
    "ABC科技(中国)有限公司 违反《中华人民共和国食品安全法》第一百二十四条：没收违法所得",
])
def test_clause_wise_tokens_equal_whole_text_tokens(text: str) -> None:
    clauses = [tok for clause in _CLAUSE.split(text) if clause for tok in index_tokens(clause)]
    assert clauses == index_tokens(text)


ROW = {"行政相对人名称": "清远市恒达建筑工程有限公司", "行政处罚决定书文号": "清市监罚〔2026〕1号",
       "违法事实": "施工工地扬尘", "处罚决定日期": "2026-02-11", "处罚机关": "清远市市场监督管理局"}


def _record(row: dict[str, str], source_row: int = 2):  # type: ignore[no-untyped-def]
    outcome = build_record(RecordType.PENALTY, map_headers(RecordType.PENALTY, row), row, "a.csv", source_row)
    assert outcome.record is not None
    return outcome.record


def test_hash_ignores_column_order_and_source_position() -> None:
    first = encode(_record(ROW))
    reordered = encode(_record(dict(reversed(list(ROW.items()))), source_row=99))
    assert first[0] == reordered[0]
    assert first[1] != reordered[1]  # the body keeps where it came from
    corrected = replace(_record(ROW), status=Status.WITHDRAWN, status_reason="异议核实后撤销", source_file="b.csv")
    assert encode(corrected)[0] == first[0]  # neither does a correction change the content
    assert encode(_record(dict(ROW, 违法事实="施工工地扬尘，已整改")))[0] != first[0]


def test_a_dictionary_change_changes_every_content_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    before = encode(_record(ROW))[0]
    monkeypatch.setattr(analysis, "dictionary_version", lambda: "another-dictionary")
    assert encode(_record(ROW))[0] != before


def test_body_round_trips_and_status_can_be_replaced() -> None:
    record = _record(ROW)
    doc = analyse(record)
    assert doc.record == record
    assert json.loads(doc.body)["source_row"] == 2
    replaced = record_from_dict(json.loads(with_status(doc.body, Status.WITHDRAWN, "异议核实后撤销", None)))
    assert replaced.status is Status.WITHDRAWN and replaced.status_reason == "异议核实后撤销"
    assert "扬尘" in doc.text_tokens.decode().split()
