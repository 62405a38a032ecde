"""The canonical record model shared by every reader, store and endpoint.

A record keeps a few typed attributes that search, filters and publication rules need, and every other
canonical field in ``details`` (strings, dates as ISO text), so that display and export can show all of
what the department sent under its Chinese label (:mod:`indexer.fields`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from analyzers.names import name_key


class RecordType(StrEnum):
    LICENSING = "licensing"
    PENALTY = "penalty"
    DISHONEST = "dishonest"
    COMMITMENT = "commitment"

    @property
    def label(self) -> str:
        return RECORD_TYPE_LABELS[self]


RECORD_TYPE_LABELS: dict[RecordType, str] = {
    RecordType.LICENSING: "行政许可",
    RecordType.PENALTY: "行政处罚",
    RecordType.DISHONEST: "失信被执行人",
    RecordType.COMMITMENT: "信用承诺",
}
_ID_PREFIX = {RecordType.LICENSING: "xk", RecordType.PENALTY: "cf",
              RecordType.DISHONEST: "sx", RecordType.COMMITMENT: "cn"}


class Status(StrEnum):
    """The stored status. ``expired`` is also derived at read time from the publication end date."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REPAIRED = "repaired"  # 信用修复完成
    WITHDRAWN = "withdrawn"  # 异议更正/撤销

    @property
    def label(self) -> str:
        return {"active": "公示中", "expired": "已过公示期", "repaired": "已信用修复",
                "withdrawn": "已撤销"}[self.value]


class SubjectCategory(StrEnum):
    ORGANIZATION = "organization"  # 法人及非法人组织
    PERSON = "person"  # 自然人
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户


class Audience(StrEnum):
    """Who may see a record at all: commitments published 特定范围内公开 are for staff only."""

    PUBLIC = "public"
    STAFF = "staff"


@dataclass(slots=True)
class Record:
    """One credit disclosure record in canonical form."""

    record_type: RecordType
    document_number: str  # 决定书文号 / 案号 / 承诺编码, normalised
    subject_name: str
    subject_category: SubjectCategory
    subject_code: str = ""  # 统一社会信用代码 (may be masked as published)
    decision_date: date | None = None
    publish_until: date | None = None  # None: no end
    authority: str = ""
    district: str = ""
    category: str = ""  # 许可类别 / 处罚类别 / 失信情形 / 承诺类型
    amount: float | None = None  # fine in yuan
    text: str = ""  # the descriptive text searched as full text
    details: dict[str, str] = field(default_factory=dict)
    audience: Audience = Audience.PUBLIC
    source_id: str = ""  # the source's own id where it has one
    # What corrections and reloads change, not the content: last, so that they close a record's JSON body
    # and the content hash covers everything before them (indexer.analysis.encode).
    status: Status = Status.ACTIVE
    status_reason: str = ""
    status_date: date | None = None
    source_file: str = ""
    source_row: int = 0

    @property
    def id(self) -> str:
        """Stable id: type prefix + hash of the source's own id, or of document number, authority and
        subject (a court case can list several debtors under one case number)."""
        basis = self.source_id or "|".join((self.document_number, self.authority, subject_key(self)))
        digest = hashlib.blake2b(f"{self.record_type}|{basis}".encode(), digest_size=8).hexdigest()
        return f"{_ID_PREFIX[self.record_type]}-{digest}"


def subject_key(record: Record) -> str:
    """The key that ties records of one subject together: the 统一社会信用代码 when it is known and
    unmasked, else the name's matching key (with the masked ID for natural persons)."""
    if record.subject_code and "*" not in record.subject_code and len(record.subject_code) == 18 \
            and record.subject_category is not SubjectCategory.PERSON:
        return record.subject_code
    key = f"name:{name_key(record.subject_name)}"
    if record.subject_category is SubjectCategory.PERSON:
        ident = record.details.get("id_number", "") or record.subject_code
        key += f":{ident[:4]}{ident[-4:]}" if ident else ""
    return key


# Publication windows where the source gives no 公示截止期, after the NDRC rules on credit repair
# (失信行为纠正后的信用信息修复管理办法): penalties of warning or criticism only 3 months; revocation,
# suspension or closure 3 years; other penalties 1 year. Court lists: 2 years from publication.
# Licensing records and commitments have no end unless the source gives one. See docs/publication.md.
_SEVERE_PENALTY_WORDS = ("吊销", "责令停产停业", "责令关闭", "限制从业", "限制开展生产经营")
_LIGHT_PENALTY_WORDS = ("警告", "通报批评")


def default_publish_until(record: Record) -> date | None:
    """The end of the publication window that the rules give a record whose source named none."""
    start = record.decision_date
    if start is None:
        return None
    if record.record_type is RecordType.PENALTY:
        category = record.category
        if any(w in category for w in _SEVERE_PENALTY_WORDS):
            return _add_years(start, 3)
        if category and all(part.strip() in _LIGHT_PENALTY_WORDS
                            for part in category.replace("、", ",").replace("，", ",").split(",")
                            if part.strip()):
            return start + timedelta(days=91)
        return _add_years(start, 1)
    if record.record_type is RecordType.DISHONEST:
        return _add_years(start, 2)
    return None


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def record_to_dict(record: Record) -> dict[str, object]:
    """A JSON-ready dict of a record (dates as ISO text)."""
    return {
        "record_type": record.record_type.value,
        "document_number": record.document_number,
        "subject_name": record.subject_name,
        "subject_category": record.subject_category.value,
        "subject_code": record.subject_code,
        "decision_date": iso_date(record.decision_date),
        "publish_until": iso_date(record.publish_until),
        "authority": record.authority,
        "district": record.district,
        "category": record.category,
        "amount": record.amount,
        "text": record.text,
        "details": record.details,
        "status": record.status.value,
        "status_reason": record.status_reason,
        "status_date": iso_date(record.status_date),
        "audience": record.audience.value,
        "source_id": record.source_id,
        "source_file": record.source_file,
        "source_row": record.source_row,
    }


def iso_date(value: date | None) -> str | None:
    """A date as ISO text, None for no date (the form dates take in JSON bodies and store columns)."""
    return value.isoformat() if value else None


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def record_from_dict(data: dict[str, object]) -> Record:
    """Inverse of :func:`record_to_dict`."""
    amount = data.get("amount")
    details = data.get("details")
    return Record(
        record_type=RecordType(str(data["record_type"])),
        document_number=str(data["document_number"]),
        subject_name=str(data["subject_name"]),
        subject_category=SubjectCategory(str(data["subject_category"])),
        subject_code=str(data.get("subject_code") or ""),
        decision_date=_date(data.get("decision_date")),
        publish_until=_date(data.get("publish_until")),
        authority=str(data.get("authority") or ""),
        district=str(data.get("district") or ""),
        category=str(data.get("category") or ""),
        amount=float(amount) if isinstance(amount, int | float) else None,
        text=str(data.get("text") or ""),
        details={str(k): str(v) for k, v in details.items()} if isinstance(details, dict) else {},
        status=Status(str(data.get("status") or "active")),
        status_reason=str(data.get("status_reason") or ""),
        status_date=_date(data.get("status_date")),
        audience=Audience(str(data.get("audience") or "public")),
        source_id=str(data.get("source_id") or ""),
        source_file=str(data.get("source_file") or ""),
        source_row=int(str(data.get("source_row") or 0)),
    )
