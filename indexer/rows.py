"""Turn one uploaded row into a canonical :class:`~indexer.model.Record`, or say precisely why not.

A row either becomes a record, is skipped on purpose (a commitment marked 不可公开 is not indexed), or is
rejected with one problem per bad field, each naming the field's Chinese label, the value and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from analyzers.codes import CodeKind, classify_code, is_masked_id_number, validate_org_code
from analyzers.codes import normalize_document_number as _normalize_doc
from analyzers.names import analyze_name
from analyzers.normalize import normalize_code, normalize_text
from indexer.fields import FieldSpec, Kind
from indexer.model import (
    Audience,
    Record,
    RecordType,
    SubjectCategory,
    default_publish_until,
)
from indexer.parsing import ValueProblem, is_open_ended, parse_amount_wan, parse_date

# Fields whose text is searched as full text, in the order they are joined.
TEXT_FIELDS: dict[RecordType, tuple[str, ...]] = {
    RecordType.LICENSING: ("document_name", "project_name", "content", "certificate_name", "category"),
    RecordType.PENALTY: ("case_name", "violation_type", "facts", "content", "category", "legal_basis"),
    RecordType.DISHONEST: ("category", "duty", "performance", "unperformed_part"),
    RecordType.COMMITMENT: ("category", "reason", "content", "fulfilment", "unfulfilled"),
}
_NOT_PUBLIC = "不可公开"
_RESTRICTED = "特定范围内公开"


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad value in one row."""

    field: str  # Chinese label of the field
    value: str
    reason: str


@dataclass(slots=True)
class RowOutcome:
    record: Record | None = None
    skipped: str = ""  # why the row is not indexed on purpose
    problems: list[Problem] = field(default_factory=list)


def _text(raw: object) -> str:
    if type(raw) is str:
        return raw.strip()
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def _category_of(text: str, name: str, id_number: str) -> SubjectCategory:
    if "自然人" in text or text in {"0", "个人"}:
        return SubjectCategory.PERSON
    if "个体" in text:
        return SubjectCategory.INDIVIDUAL_BUSINESS
    if text in {"1"} or "法人" in text or "组织" in text:
        return SubjectCategory.ORGANIZATION
    # No category given: a short name without legal form and an ID-shaped code is a natural person.
    parts = analyze_name(name)
    if id_number and not parts.legal_form and len(parts.normalized) <= 4:
        return SubjectCategory.PERSON
    return SubjectCategory.ORGANIZATION


def _district(record_type: RecordType, authority: str, subject: str, province: str) -> str:
    """The county-level region of the authority, else of the subject, else the authority's city."""
    auth = analyze_name(authority).regions
    subj = analyze_name(subject).regions
    for regions in (auth, subj):
        if len(regions) >= 2 and regions[-1].endswith(("区", "县", "市")) and regions[-1] not in regions[:-1]:
            return regions[-1]
    if auth:
        return auth[-1]
    if subj:
        return subj[-1]
    return province if record_type is RecordType.DISHONEST else ""


def _check_code(spec: FieldSpec, raw: str, values: dict[str, str], problems: list[Problem]) -> None:
    """Validate an identifier; an ID number found in a code column moves to ``id_number``."""
    code = normalize_code(raw)
    check = classify_code(code)
    if check.kind is CodeKind.MASKED:
        if not check.valid:
            problems.append(Problem(spec.label, raw, check.reason))
        elif spec.name == "subject_code" and is_masked_id_number(code):
            values["id_number"], values[spec.name] = code, ""
        else:
            values[spec.name] = code
        return
    if check.kind is CodeKind.ID_CARD:
        values["id_number"], values[spec.name] = code, ""
        return
    wanted = {"reg_no": CodeKind.REG_NO, "org_code": CodeKind.ORG_CODE}.get(spec.name)
    if wanted is not None and check.kind is not wanted:
        problems.append(Problem(spec.label, raw, check.reason or f"不是有效的{spec.label}"))
        return
    if not check.valid:
        problems.append(Problem(spec.label, raw, check.reason))
        return
    if spec.name == "subject_code" and check.kind is CodeKind.ORG_CODE:
        values["org_code"], values[spec.name] = code, ""
    elif spec.name == "subject_code" and check.kind is CodeKind.REG_NO:
        values["reg_no"], values[spec.name] = code, ""
    else:
        values[spec.name] = code


def build_record(record_type: RecordType, columns: Mapping[str, FieldSpec], row: Mapping[str, object],
                 source_file: str = "", source_row: int = 0) -> RowOutcome:
    """Validate and normalise one row whose headers ``columns`` maps onto field specs."""
    raw_values: dict[str, object] = {}
    texts: dict[str, str] = {}
    specs: dict[str, FieldSpec] = {}
    for header, spec in columns.items():
        specs.setdefault(spec.name, spec)
        if spec.name in texts:
            continue  # several headers for one field (CF_NR and CF_JG): the first filled one wins
        value = row.get(header)
        text = _text(value)
        if text:
            raw_values[spec.name], texts[spec.name] = value, text

    problems: list[Problem] = []
    values: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    amounts: dict[str, float | None] = {}
    for name, spec in specs.items():
        raw = raw_values.get(name)
        text = texts.get(name, "")
        if not text:
            if spec.required:
                problems.append(Problem(spec.label, "", "必填字段为空"))
            continue
        try:
            if spec.kind is Kind.DATE:
                dates[name] = parse_date(raw)
                values[name] = "长期" if is_open_ended(raw) else dates[name].isoformat()  # type: ignore[union-attr]
            elif spec.kind is Kind.AMOUNT_WAN:
                amounts[name] = parse_amount_wan(raw)
                values[name] = f"{amounts[name]:.2f}"
            elif spec.kind is Kind.CODE:
                _check_code(spec, text, values, problems)
            elif spec.kind is Kind.PERSONAL_ID:
                values[name] = normalize_code(text)
            else:
                values[name] = text
        except ValueProblem as exc:
            problems.append(Problem(spec.label, text, str(exc)))
    for name, spec in specs.items():
        if spec.required and spec.kind is Kind.DATE and name in raw_values and dates.get(name) is None \
                and not any(p.field == spec.label for p in problems):
            problems.append(Problem(spec.label, texts[name], "必填日期不能为长期或空"))
    if problems:
        return RowOutcome(problems=problems)

    audience = Audience.PUBLIC
    disclosure = normalize_text(values.get("disclosure", "")).replace(" ", "")
    if record_type is RecordType.COMMITMENT and disclosure:
        if _NOT_PUBLIC in disclosure and "可向社会公开" not in disclosure:
            return RowOutcome(skipped="公开类型为“不可公开”，按规定不纳入检索")
        if _RESTRICTED in disclosure:
            audience = Audience.STAFF

    code = values.get("subject_code", "")
    if len(code) == 18 and "*" not in code and not values.get("org_code") and validate_org_code(code[8:17]).valid:
        # GB 32100: characters 9 to 17 of a credit code are the subject's 组织机构代码, which older
        # documents and screening lists still quote.
        values["org_code"] = code[8:17]
    name = values["subject_name"]
    category_text = values.get("subject_category", "") or values.get("party_type", "")
    category = _category_of(category_text, name, values.get("id_number", ""))
    text = "；".join(values[f] for f in TEXT_FIELDS[record_type] if values.get(f))
    record = Record(
        record_type=record_type,
        document_number=_normalize_doc(values["document_number"]),
        subject_name=name,
        subject_category=category,
        subject_code=values.get("subject_code", ""),
        decision_date=dates.get("decision_date"),
        authority=values.get("authority", ""),
        district=_district(record_type, values.get("authority", ""), name, values.get("province", "")),
        category=values.get("category", ""),
        amount=amounts.get("fine"),
        text=text,
        details=values,
        audience=audience,
        source_file=source_file,
        source_row=source_row,
    )
    record.publish_until = dates.get("publish_until") or default_publish_until(record)
    return RowOutcome(record=record)
