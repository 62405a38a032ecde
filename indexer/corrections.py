"""Corrections the rules require: withdrawal after an objection (异议更正/撤销) and credit repair
(信用修复). Both change a record's status; the publication rules then hide it from the public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analyzers.codes import normalize_document_number
from analyzers.names import name_key
from indexer.model import Audience, RecordType, Status
from indexer.parsing import ValueProblem, parse_date
from indexer.readers import UnreadableInput, open_tables
from stores.base import Filters, Store, Visibility

_ACTIONS = {"withdraw": Status.WITHDRAWN, "撤销": Status.WITHDRAWN, "异议撤销": Status.WITHDRAWN,
            "异议更正": Status.WITHDRAWN, "repair": Status.REPAIRED, "信用修复": Status.REPAIRED,
            "修复": Status.REPAIRED}
_TYPES = {t.value: t for t in RecordType} | {t.label: t for t in RecordType}
_EVERYTHING = Visibility(statuses=None, audiences=frozenset(Audience), published_on=None)


@dataclass(slots=True)
class CorrectionResult:
    applied: int = 0
    problems: list[str] = field(default_factory=list)  # Chinese, one per failed row


def load_corrections(path: Path, store: Store) -> CorrectionResult:
    """Apply a corrections file. Columns: 记录ID, or 类型 + 文书号 (+ 当事人名称 when a case number names
    several debtors); 操作 (撤销 / 信用修复); 日期; 原因."""
    result = CorrectionResult()
    try:
        tables = list(open_tables(path))
    except UnreadableInput as exc:
        result.problems.append(str(exc))
        return result
    for table in tables:
        for raw in table.rows:
            where = f"{table.source} 第{raw.number}行"
            if raw.values is None:
                result.problems.append(f"{where}：{raw.error}")
                continue
            row = {str(k).strip(): str(v or "").strip() for k, v in raw.values.items()}
            status = _ACTIONS.get(row.get("操作", ""))
            if status is None:
                action = row.get("操作", "")
                result.problems.append(f"{where}：字段“操作”的值“{action}”无效，应为“撤销”或“信用修复”")
                continue
            try:
                when = parse_date(row.get("日期", ""))
            except ValueProblem as exc:
                result.problems.append(f"{where}：字段“日期”：{exc}")
                continue
            ids = _resolve(store, row)
            if not ids:
                result.problems.append(f"{where}：找不到对应的记录（记录ID或文书号不存在）")
                continue
            for record_id in ids:
                result.applied += store.set_status(record_id, status, row.get("原因", ""), when)
    return result


def _resolve(store: Store, row: dict[str, str]) -> list[str]:
    if row.get("记录ID"):
        return [row["记录ID"]] if store.get(row["记录ID"]) else []
    number = normalize_document_number(row.get("文书号", ""))
    if not number:
        return []
    kind = _TYPES.get(row.get("类型", ""))
    records = store.by_document_number(number, Filters(visibility=_EVERYTHING))
    key = name_key(row["当事人名称"]) if row.get("当事人名称") else ""
    return [r.id for r in records
            if (kind is None or r.record_type is kind) and (not key or name_key(r.subject_name) == key)]
