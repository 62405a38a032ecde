"""Turn one uploaded row into a canonical :class:`~indexer.model.Record`, or say precisely why not.

A row either becomes a record, is skipped on purpose (a commitment marked 不可公开 is not indexed), or is
rejected with one problem per bad field, each naming the field's Chinese label, the value and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

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
from indexer.parsing import ValueProblem, parse_amount_wan, parse_date

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


def _other_cell_text(raw: object) -> str:
    """The text of a cell that is not a plain string (a number, date or nested value of XLSX or JSON)."""
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
    """The county-level region of the authority, else of the subject, else the authority's city. Not cached:
    the subject makes nearly every call new, and both name analyses are cached on their own."""
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


_WANTED_KIND = {"reg_no": CodeKind.REG_NO, "org_code": CodeKind.ORG_CODE}


@lru_cache(maxsize=262144)
def _code_values(name: str, label: str, raw: str) -> tuple[tuple[tuple[str, str], ...], Problem | None]:
    """The fields an identifier sets (an ID number found in a code column moves to ``id_number``), or the
    problem with it. Cached: a subject's code recurs in each of its records."""
    code = normalize_code(raw)
    check = classify_code(code)
    if check.kind is CodeKind.MASKED:
        if not check.valid:
            return (), Problem(label, raw, check.reason)
        if name == "subject_code" and is_masked_id_number(code):
            return (("id_number", code), (name, "")), None
        return ((name, code),), None
    if check.kind is CodeKind.ID_CARD:
        return (("id_number", code), (name, "")), None
    wanted = _WANTED_KIND.get(name)
    if wanted is not None and check.kind is not wanted:
        return (), Problem(label, raw, check.reason or f"不是有效的{label}")
    if not check.valid:
        return (), Problem(label, raw, check.reason)
    if name == "subject_code" and check.kind is CodeKind.ORG_CODE:
        return (("org_code", code), (name, "")), None
    if name == "subject_code" and check.kind is CodeKind.REG_NO:
        return (("reg_no", code), (name, "")), None
    return ((name, code),), None


@lru_cache(maxsize=65536)
def _parse_date(raw: object) -> tuple[date | None, str]:
    """A date and its stored text (长期 for an open end). Cached: a day's decisions share their dates."""
    day = parse_date(raw)
    return day, "长期" if day is None else day.isoformat()


_parse_amount_wan = lru_cache(maxsize=65536)(parse_amount_wan)


# One step per field of a table: the field's name, label, kind, whether it is required, and the headers that
# carry it in upload order (CF_NR and CF_JG both carry the penalty content: the first filled one wins).
Step = tuple[str, str, Kind, bool, tuple[str, ...]]
_plans: dict[int, tuple[Mapping[str, FieldSpec], tuple[Step, ...]]] = {}


def _plan(columns: Mapping[str, FieldSpec]) -> tuple[Step, ...]:
    """The steps of a table, kept per column map, which a load makes once per table: hashing the map for
    every row cost more than the plan saves."""
    known = _plans.get(id(columns))
    if known is not None and known[0] is columns:
        return known[1]
    headers: dict[str, list[str]] = {}
    specs: dict[str, FieldSpec] = {}
    for header, spec in columns.items():
        specs.setdefault(spec.name, spec)
        headers.setdefault(spec.name, []).append(header)
    plan = tuple((name, spec.label, spec.kind, spec.required, tuple(headers[name])) for name, spec in specs.items())
    if len(_plans) > 256:
        _plans.clear()
    _plans[id(columns)] = (columns, plan)  # the map is kept alive with it, so its id is not reused
    return plan


def build_record(record_type: RecordType, columns: Mapping[str, FieldSpec], row: Mapping[str, object],
                 source_file: str = "", source_row: int = 0) -> RowOutcome:
    """Validate and normalise one row whose headers ``columns`` maps onto field specs."""
    problems: list[Problem] = []
    values: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    amounts: dict[str, float | None] = {}
    for name, label, kind, required, headers in _plan(columns):
        raw: object = None
        text = ""
        for header in headers:
            raw = row.get(header)
            # Plain strings (every CSV cell) are handled here: a function call per cell showed in the profile.
            text = raw.strip() if type(raw) is str else _other_cell_text(raw)
            if text:
                break
        if not text:
            if required:
                problems.append(Problem(label, "", "必填字段为空"))
            continue
        if kind is Kind.TEXT:
            values[name] = text
            continue
        try:
            if not isinstance(raw, str | int | float | date):
                raw = text  # a nested JSON value: read as its text (and reported if that is no value)
            if kind is Kind.DATE:
                day, values[name] = _parse_date(raw)
                dates[name] = day
                if day is None and required:
                    problems.append(Problem(label, text, "必填日期不能为长期或空"))
            elif kind is Kind.AMOUNT_WAN:
                amount = amounts[name] = _parse_amount_wan(raw)
                values[name] = f"{amount:.2f}"
            elif kind is Kind.CODE:
                updates, problem = _code_values(name, label, text)
                values.update(updates)
                if problem is not None:
                    problems.append(problem)
            else:  # a personal ID number
                values[name] = normalize_code(text)
        except ValueProblem as exc:
            problems.append(Problem(label, text, str(exc)))
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
