"""The publication rules and privacy, in one place: who sees which record, and how it is masked.

Every endpoint builds its :class:`~stores.base.Visibility` with :func:`visibility_for` (the stores apply it
in their queries) and turns records into output with :func:`present_record`, which re-checks visibility and
masks personal data; nothing else decides either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from analyzers.codes import mask_id_number, mask_id_numbers_in_text
from indexer.fields import PERSONAL_FIELDS, labels
from indexer.model import Audience, Record, Status, SubjectCategory, iso_date
from stores.base import Visibility

PUBLIC_ROLE = "public"


@dataclass(frozen=True, slots=True)
class Viewer:
    role: str = PUBLIC_ROLE
    who: str = ""  # who is asking, for the audit log: a fingerprint of the API key, or the CLI's user

    @property
    def is_staff(self) -> bool:
        return self.role != PUBLIC_ROLE


def visibility_for(viewer: Viewer, today: date) -> Visibility:
    """Public: active records, published to the public, not past their publication end date. Staff: every
    record, with its status and reason shown."""
    if viewer.is_staff:
        return Visibility(statuses=None, audiences=frozenset(Audience), published_on=None)
    return Visibility(statuses=frozenset({Status.ACTIVE}), audiences=frozenset({Audience.PUBLIC}),
                      published_on=today)


def status_filter(viewer: Viewer, status: Status, today: date) -> tuple[Visibility, date | None]:
    """The visibility and publication-end bound that select records of one status, for staff only:
    ``expired`` is an active record whose publication window has ended."""
    if not viewer.is_staff:
        raise PermissionError("status filter is for staff")
    everyone = frozenset(Audience)
    if status is Status.ACTIVE:
        return Visibility(frozenset({Status.ACTIVE}), everyone, today), None
    if status is Status.EXPIRED:
        return Visibility(frozenset({Status.ACTIVE}), everyone, None), today
    return Visibility(frozenset({status}), everyone, None), None


def effective_status(record: Record, today: date) -> Status:
    """The status a viewer is told: a record past its publication end date counts as expired."""
    if record.status is Status.ACTIVE and record.publish_until and record.publish_until < today:
        return Status.EXPIRED
    return record.status


def mask_value(value: str) -> str:
    """Mask every resident ID number in a value, whatever field it came in."""
    return mask_id_numbers_in_text(value) if value else value


def mask_tree(value: Any) -> Any:
    """``value`` (text, or lists and dicts of it) with every resident ID number masked: for answers composed from
    names and from what the caller typed."""
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, dict):
        return {k: mask_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_tree(v) for v in value]
    return value


_LABELLED = ("document_number", "decision_date", "authority", "category", "amount", "publish_until")


def present_record(record: Record, viewer: Viewer, today: date) -> dict[str, Any] | None:
    """The output form of a record for this viewer, or None when the viewer may not see it."""
    if not visibility_for(viewer, today).allows(record):
        return None
    public = not viewer.is_staff
    field_labels = labels(record.record_type)
    details: dict[str, str] = {}
    for name, value in record.details.items():
        if public and name in PERSONAL_FIELDS and value:
            value = mask_id_number(value) if "*" not in value else value
        details[field_labels.get(name, name)] = mask_value(value) if public else value
    code = record.subject_code
    if record.subject_category is SubjectCategory.PERSON:
        code = ""
    status = effective_status(record, today)
    out: dict[str, Any] = {
        "record_type": record.record_type.value,
        "record_type_label": record.record_type.label,
        "id": record.id,
        "subject": {"name": mask_value(record.subject_name) if public else record.subject_name, "code": code,
                    "category": record.subject_category.value},
        "document_number": record.document_number,
        "decision_date": iso_date(record.decision_date),
        "publish_until": iso_date(record.publish_until),
        "authority": record.authority,
        "district": record.district,
        "category": record.category,
        "amount": record.amount,
        "summary": mask_value(record.text) if public else record.text,
        "status": status.value,
        "status_label": status.label,
        "details": details,
        # A court's 案号 and 执行法院 are not a department's 决定书文号 and 决定机关: clients label by type.
        "labels": {name: field_labels[name] for name in _LABELLED if name in field_labels},
    }
    if viewer.is_staff:
        out["status_reason"] = record.status_reason
        out["status_date"] = iso_date(record.status_date)
        out["audience"] = record.audience.value
        out["source"] = {"file": record.source_file, "row": record.source_row}
    return out
