"""Value parsing and row validation: every date format, 万元 amounts, codes, skips and rejects."""

from datetime import date

import pytest

from analyzers.codes import uscc_check_char
from indexer.fields import detect_record_type, map_headers
from indexer.model import Audience, RecordType, SubjectCategory
from indexer.parsing import ValueProblem, parse_amount_wan, parse_date
from indexer.rows import build_record

CODE = "91441802MA4UJ3XK7" + uscc_check_char("91441802MA4UJ3XK7")


@pytest.mark.parametrize("raw", ["2023-05-01", "2023/5/1", "20230501", "2023年05月01日", "2023.05.01",
                                 "2023-05-01 10:20:30", "45047", 1682942400, "1682942400000", date(2023, 5, 1)])
def test_every_date_format(raw: object) -> None:
    assert parse_date(raw) == date(2023, 5, 1)


@pytest.mark.parametrize("raw", ["长期", "永久", "", None])
def test_open_ended_or_empty_dates(raw: object) -> None:
    assert parse_date(raw) is None


@pytest.mark.parametrize(("raw", "reason"), [("2023-13-45", "不存在"), ("明年", "无法识别"), ("1800-01-01", "超出")])
def test_bad_dates_say_why(raw: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_date(raw)


def test_amounts_in_wan_are_stored_in_yuan() -> None:
    assert parse_amount_wan("0.2") == 2000.0
    assert parse_amount_wan(0.2) == 2000.0
    assert parse_amount_wan("1,234.5") == 12345000.0
    assert parse_amount_wan("2000元") == 2000.0
    assert parse_amount_wan("0.2万元") == 2000.0
    with pytest.raises(ValueProblem, match="不是数字"):
        parse_amount_wan("两万")
    with pytest.raises(ValueProblem, match="负数"):
        parse_amount_wan("-1")


PENALTY_ROW = {
    "CF_XDR_MC": "清远市恒达建筑工程有限公司", "cf_xdr_lb": "法人及非法人组织", "CF_XDR_SHXYM": CODE.lower(),
    "CF_WSH": "清市监罚〔2023〕12号", "CF_WFXW": "销售过期食品", "CF_SY": "当事人销售超过保质期的乳制品",
    "CF_CFLB": "罚款", "CF_NR": "罚款2000元", "CF_NR_FK": "0.2", "CF_JDRQ": "2023年05月01日",
    "CF_CFJG": "清远市清城区市场监督管理局",
}


def _build(kind: RecordType, row: dict[str, object]):  # type: ignore[no-untyped-def]
    return build_record(kind, map_headers(kind, row), row, "f.csv", 7)


def test_national_code_headers_in_any_case_map_onto_the_model() -> None:
    assert detect_record_type(PENALTY_ROW) is RecordType.PENALTY
    outcome = _build(RecordType.PENALTY, PENALTY_ROW)
    assert outcome.problems == [] and outcome.record is not None
    record = outcome.record
    assert record.amount == 2000.0
    assert record.document_number == "清市监罚(2023)12号"
    assert record.decision_date == date(2023, 5, 1)
    assert record.district == "清城区"
    assert record.subject_category is SubjectCategory.ORGANIZATION
    # one fine of 2,000 yuan without warnings or severe measures: published for one year
    assert record.publish_until == date(2024, 5, 1)


def test_padded_and_full_width_headers_map() -> None:
    row = {"失信被执行人姓名/名称": "张三", "身份证号码/组织机构代码": "4418**********1234",
           "执  行  法  院": "清远市中级人民法院", "案号": "(2019)粤18执286号", "发布时间": "2019年07月13日",
           "省    份": "广东"}
    assert detect_record_type(row) is RecordType.DISHONEST
    record = _build(RecordType.DISHONEST, row).record
    assert record is not None
    assert record.subject_category is SubjectCategory.PERSON
    assert record.subject_code == "" and record.details["id_number"] == "4418**********1234"


def test_a_bad_row_names_field_value_and_reason() -> None:
    row = dict(PENALTY_ROW, CF_XDR_SHXYM="914403001922038217", CF_JDRQ="2023-13-45", CF_NR_FK="两万", CF_WSH="")
    outcome = _build(RecordType.PENALTY, row)
    assert outcome.record is None
    problems = {p.field: (p.value, p.reason) for p in outcome.problems}
    assert problems["统一社会信用代码"] == ("914403001922038217", "校验位错误：第18位应为“6”，实际为“7”")
    assert problems["处罚决定日期"][0] == "2023-13-45"
    assert "不是数字" in problems["罚款金额(万元)"][1]
    assert problems["行政处罚决定书文号"] == ("", "必填字段为空")


def test_masked_codes_are_kept_masked() -> None:
    row = dict(PENALTY_ROW, CF_XDR_SHXYM="9114082306****333G")
    record = _build(RecordType.PENALTY, row).record
    assert record is not None and record.subject_code == "9114082306****333G"


def test_an_id_number_in_a_code_column_is_treated_as_personal_data() -> None:
    row = dict(PENALTY_ROW, CF_XDR_MC="王伟", cf_xdr_lb="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM="441802199001011238")
    record = _build(RecordType.PENALTY, row).record
    assert record is not None
    assert record.subject_category is SubjectCategory.PERSON
    assert record.details["id_number"] == "441802199001011238"


COMMITMENT_ROW = {"承诺编码": "44180220230501000001", "承诺人名称": "清远市恒达建筑工程有限公司",
                  "承诺人代码": CODE, "承诺类型": "容缺受理型", "承诺作出日期": "2023-05-01",
                  "承诺受理单位": "清远市政务服务数据管理局", "公开类型": "可向社会公开"}


def test_commitment_disclosure_scope() -> None:
    assert _build(RecordType.COMMITMENT, COMMITMENT_ROW).record.audience is Audience.PUBLIC  # type: ignore[union-attr]
    staff = _build(RecordType.COMMITMENT, dict(COMMITMENT_ROW, 公开类型="特定范围内公开")).record
    assert staff is not None and staff.audience is Audience.STAFF
    hidden = _build(RecordType.COMMITMENT, dict(COMMITMENT_ROW, 公开类型="不可公开"))
    assert hidden.record is None and hidden.problems == [] and "不可公开" in hidden.skipped


def test_record_ids_are_stable_and_distinguish_co_debtors() -> None:
    a = _build(RecordType.PENALTY, PENALTY_ROW).record
    b = _build(RecordType.PENALTY, dict(PENALTY_ROW, CF_WSH="清市监罚(2023)12号")).record
    assert a is not None and b is not None and a.id == b.id
    debtor = {"iname": "清远市恒达建筑工程有限公司", "caseCode": "(2019)粤18执286号", "courtName": "清远市中级人民法院",
              "publishDate": "2019年07月13日"}
    first = _build(RecordType.DISHONEST, debtor).record
    second = _build(RecordType.DISHONEST, dict(debtor, iname="清远市宏图商贸有限公司")).record
    assert first is not None and second is not None and first.id != second.id
