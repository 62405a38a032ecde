"""Column maps: the canonical fields of each record type, their Chinese labels, and every header under
which departments send them (Chinese headers, national codes XK_*/CF_* in any case, court keys).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from indexer.model import RecordType


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    AMOUNT_WAN = "amount_wan"  # 万元 in the upload, stored in yuan
    CODE = "code"  # an identifier of the subject (USCC, older codes), may be masked
    PERSONAL_ID = "personal_id"  # a natural person's ID number: personal data, masked in public output


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    label: str
    aliases: tuple[str, ...]
    kind: Kind = Kind.TEXT
    required: bool = False


def _f(name: str, label: str, *aliases: str, kind: Kind = Kind.TEXT, required: bool = False) -> FieldSpec:
    return FieldSpec(name, label, (label, *aliases), kind, required)


def _identity(prefix: str) -> list[FieldSpec]:
    """The subject block that licensing and penalty uploads share, with their national-code prefix."""
    p = prefix
    return [
        _f("subject_name", "行政相对人名称", f"{p}_XDR_MC", "当事人名称", "企业名称", required=True),
        _f("subject_category", "行政相对人类别", f"{p}_XDR_LB", "当事人类别"),
        _f("subject_code", "统一社会信用代码", "行政相对人代码_1", f"{p}_XDR_SHXYM",
           "行政相对人代码_1(统一社会信用代码)", kind=Kind.CODE),
        _f("reg_no", "工商注册号", "行政相对人代码_2", f"{p}_XDR_GSZC", "行政相对人代码_2(工商注册号)",
           kind=Kind.CODE),
        _f("org_code", "组织机构代码", "行政相对人代码_3", f"{p}_XDR_ZZJG",
           "行政相对人代码_3(组织机构代码)", kind=Kind.CODE),
        _f("tax_no", "税务登记号", "行政相对人代码_4", f"{p}_XDR_SWDJ", "行政相对人代码_4(税务登记号)"),
        _f("institution_no", "事业单位证书号", "行政相对人代码_5", f"{p}_XDR_SYDW",
           "行政相对人代码_5(事业单位证书号)"),
        _f("social_org_no", "社会组织登记证号", "行政相对人代码_6", f"{p}_XDR_SHZZ",
           "行政相对人代码_6(社会组织登记证号)"),
        _f("legal_rep", "法定代表人", f"{p}_FRDB", "法定代表人姓名"),
        _f("legal_rep_id_type", "法定代表人证件类型", f"{p}_FR_ZJLX"),
        _f("legal_rep_id_number", "法定代表人证件号码", f"{p}_FR_ZJHM", kind=Kind.PERSONAL_ID),
        _f("id_type", "证件类型", f"{p}_XDR_ZJLX"),
        _f("id_number", "证件号码", f"{p}_XDR_ZJHM", "身份证号码", kind=Kind.PERSONAL_ID),
    ]


_LICENSING = [
    *_identity("XK"),
    _f("document_name", "行政许可决定文书名称", "XK_XKWS"),
    _f("document_number", "行政许可决定文书号", "行政许可决定书文号", "XK_WSH", required=True),
    _f("category", "许可类别", "审批类别", "XK_XKLB"),
    _f("certificate_name", "许可证书名称", "XK_XKZS"),
    _f("certificate_number", "许可编号", "XK_XKBH"),
    _f("content", "许可内容", "XK_NR"),
    _f("project_name", "项目名称"),
    _f("decision_date", "许可决定日期", "XK_JDRQ", kind=Kind.DATE, required=True),
    _f("valid_from", "有效期自", "XK_YXQZ", kind=Kind.DATE),
    _f("valid_to", "有效期至", "许可截止日期", "XK_YXQZI", kind=Kind.DATE),
    _f("publish_until", "公示截止期", "XK_GSJZQ", kind=Kind.DATE),
    _f("authority", "许可机关", "XK_XKJG", required=True),
    _f("authority_code", "许可机关统一社会信用代码", "XK_XKJGDM"),
    _f("status_text", "当前状态", "XK_ZT"),
    _f("source_unit", "数据来源单位", "XK_LYDW"),
    _f("source_unit_code", "数据来源单位统一社会信用代码", "XK_LYDWDM"),
    _f("remarks", "备注", "BZ"),
]

_PENALTY = [
    *_identity("CF"),
    _f("document_number", "行政处罚决定书文号", "CF_WSH", "处罚决定书文号", required=True),
    _f("case_name", "案件名称", "处罚名称", "CF_AJMC", "CF_CFMC"),
    _f("violation_type", "违法行为类型", "CF_WFXW"),
    _f("facts", "违法事实", "处罚事由", "CF_SY"),
    _f("legal_basis", "处罚依据", "CF_YJ"),
    _f("category", "处罚类别", "CF_CFLB", "CF_CFLB1"),
    _f("category2", "处罚类别2", "CF_CFLB2"),
    _f("content", "处罚内容", "处罚结果", "CF_NR", "CF_JG"),
    _f("fine", "罚款金额(万元)", "CF_NR_FK", "罚款金额", kind=Kind.AMOUNT_WAN),
    _f("confiscated", "没收违法所得、没收非法财物的金额(万元)", "CF_NR_WFFF", "没收金额(万元)",
       kind=Kind.AMOUNT_WAN),
    _f("revoked_licence", "暂扣或吊销证照名称及编号", "CF_NR_ZKDX"),
    _f("decision_date", "处罚决定日期", "CF_JDRQ", kind=Kind.DATE, required=True),
    _f("valid_until", "处罚有效期", "CF_YXQ", kind=Kind.DATE),
    _f("publish_until", "公示截止期", "CF_GSJZQ", kind=Kind.DATE),
    _f("authority", "处罚机关", "CF_CFJG", required=True),
    _f("authority_code", "处罚机关统一社会信用代码", "CF_CFJGDM"),
    _f("source_unit", "数据来源单位", "CF_SJLY"),
    _f("source_unit_code", "数据来源单位统一社会信用代码", "CF_SJLYDM"),
    _f("remarks", "备注", "BZ"),
]

_DISHONEST = [
    _f("subject_name", "失信被执行人姓名/名称", "iname", "被执行人姓名/名称", required=True),
    _f("subject_code", "身份证号码/组织机构代码", "cardNum", kind=Kind.CODE),
    _f("legal_rep", "法定代表人或者负责人姓名", "businessEntity"),
    _f("province", "省份", "areaName"),
    _f("authority", "执行法院", "courtName", required=True),
    _f("document_number", "案号", "caseCode", required=True),
    _f("basis_number", "执行依据文号", "gistId"),
    _f("basis_unit", "做出执行依据单位", "gistUnit"),
    _f("duty", "生效法律文书确定的义务", "duty"),
    _f("performance", "被执行人的履行情况", "performance"),
    _f("performed_part", "已履行部分", "performedPart"),
    _f("unperformed_part", "未履行部分", "unperformPart"),
    _f("category", "失信被执行人行为具体情形", "disruptTypeName"),
    _f("filing_date", "立案时间", "regDate", kind=Kind.DATE),
    _f("decision_date", "发布时间", "publishDate", "publishDateStamp", kind=Kind.DATE, required=True),
    _f("publish_until", "公示截止期", kind=Kind.DATE),
    _f("party_type", "当事人类型", "partyTypeName"),
    _f("sex", "性别", "sexy"),
    _f("age", "年龄", "age"),
]

_COMMITMENT = [
    _f("document_number", "承诺编码", required=True),
    _f("subject_name", "承诺人名称", required=True),
    _f("subject_category", "承诺人类别"),
    _f("subject_code", "承诺人代码", kind=Kind.CODE),
    _f("category", "承诺类型"),
    _f("reason", "承诺事由"),
    _f("content", "承诺内容"),
    _f("liability", "违诺责任"),
    _f("decision_date", "承诺作出日期", "做出承诺日期", kind=Kind.DATE, required=True),
    _f("valid_to", "承诺有效期", kind=Kind.DATE),
    _f("publish_until", "公示截止期", kind=Kind.DATE),
    _f("fulfilment", "承诺履行状态", "承诺履约状态"),
    _f("unfulfilled", "未履行的承诺内容"),
    _f("liability_pursued", "违诺责任追究内容"),
    _f("fulfilment_date", "履行状态认定日期", kind=Kind.DATE),
    _f("fulfilment_unit", "认定单位"),
    _f("fulfilment_unit_code", "认定单位代码"),
    _f("authority", "承诺受理单位", required=True),
    _f("authority_code", "承诺受理单位代码"),
    _f("disclosure", "公开类型"),
]

FIELDS: dict[RecordType, tuple[FieldSpec, ...]] = {
    RecordType.LICENSING: tuple(_LICENSING),
    RecordType.PENALTY: tuple(_PENALTY),
    RecordType.DISHONEST: tuple(_DISHONEST),
    RecordType.COMMITMENT: tuple(_COMMITMENT),
}


def normalize_header(header: str) -> str:
    """Fold a header for lookup: NFKC (full-width to half-width), every space removed, lower case,
    Chinese brackets to ASCII. ``"省    份"`` and ``CF_WSH``/``cf_wsh`` map onto the same key."""
    text = unicodedata.normalize("NFKC", str(header))
    return "".join(text.split()).lower().replace("（", "(").replace("）", ")")


@cache
def header_index(record_type: RecordType) -> dict[str, FieldSpec]:
    """Normalised header → field spec for one record type."""
    index: dict[str, FieldSpec] = {}
    for spec in FIELDS[record_type]:
        for alias in spec.aliases:
            index.setdefault(normalize_header(alias), spec)
    return index


# Fields that validation may fill for any record type (an ID number or organisation code found in a
# code column is moved to its own field), and that are personal data wherever they appear.
MOVED_FIELD_LABELS = {"id_number": "证件号码", "org_code": "组织机构代码", "reg_no": "工商注册号"}
PERSONAL_FIELDS = frozenset({"id_number", "legal_rep_id_number"})


def labels(record_type: RecordType) -> dict[str, str]:
    """Canonical field name → Chinese label for display; amounts uploaded in 万元 are stored in yuan, so
    their label says 元."""
    own = {spec.name: spec.label.replace("(万元)", "(元)") if spec.kind is Kind.AMOUNT_WAN else spec.label
           for spec in FIELDS[record_type]}
    return {**MOVED_FIELD_LABELS, **own}


def map_headers(record_type: RecordType, headers: Iterable[str]) -> dict[str, FieldSpec]:
    """Map the headers of an upload onto field specs; headers that match nothing are left out."""
    index = header_index(record_type)
    return {h: index[normalize_header(h)] for h in headers if normalize_header(h) in index}


def detect_record_type(headers: Iterable[str]) -> RecordType | None:
    """The record type whose columns an upload's headers match best, or None when none has its
    required fields among the headers."""
    headers = list(headers)
    best: tuple[int, RecordType] | None = None
    for record_type in RecordType:
        mapped = {spec.name for spec in map_headers(record_type, headers).values()}
        required = {s.name for s in FIELDS[record_type] if s.required}
        if not required <= mapped:
            continue
        score = len(mapped)
        if best is None or score > best[0]:
            best = (score, record_type)
    return best[1] if best else None
