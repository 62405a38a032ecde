"""Bulk screening of bidders and applicants against the credit records (政府采购、招标投标 信用记录查询).

Each row gets a verdict with the evidence an officer files:
- ``hit``: a confident match with adverse records (an active 失信被执行人 record, or a penalty of the
  configured categories within the configured window);
- ``clear``: a confident match without adverse records, or confidently no match;
- ``review``: several close candidates, or a best score between the review floor and the threshold;
- ``invalid``: a row that cannot be screened (a code with a bad check character, nothing to match on).

A valid code decides identity; otherwise the in-memory name index proposes and scores candidates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from analyzers.codes import CodeKind, classify_code, mask_id_number
from analyzers.normalize import normalize_name
from indexer.model import Record, RecordType, Status
from search_api.audit import append_entry
from search_api.errors import ApiError
from search_api.name_index import NameMatch, NamesCatchingUp, filed_by_name
from search_api.publication import Viewer, effective_status, mask_value, present_record, visibility_for
from search_api.ranking import REVIEW_FLOOR, SHORT_FORM, SHORT_FORM_GAP, TIE_GAP, score_name
from search_api.service import SearchService
from search_api.settings import DEFAULT_PENALTY_CATEGORIES, ApiSettings
from stores.base import Filters, Subject

VERDICT_LABELS = {"hit": "命中不良记录", "clear": "未发现不良记录", "review": "需人工复核", "invalid": "无法筛查"}
ADVERSE_TYPES = (RecordType.DISHONEST, RecordType.PENALTY)
_ENTERPRISE_CODES = (CodeKind.USCC, CodeKind.ORG_CODE, CodeKind.REG_NO)
_MAX_EVIDENCE = 20
_CANDIDATES = 10  # subjects a review offers to choose from: a short name may fit several
# Names asked of the name index for one row: one more than a review shows, so that it can say when there are more.
NAMES_ASKED = _CANDIDATES + 1
_MORE = "；另有更多名称相近的主体未列出，请补充全称或统一社会信用代码"


Cell = str | int | float  # a spreadsheet cell as uploaded


@dataclass(frozen=True, slots=True)
class ScreenItem:
    """One row to screen; ``columns`` holds the row as uploaded, echoed back in spreadsheet output."""

    id: str = ""
    name: str = ""
    code: str = ""
    columns: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Policy:
    """What counts as a confident match and as an adverse record."""

    threshold: float = 0.9
    review_floor: float = REVIEW_FLOOR
    types: tuple[RecordType, ...] = ADVERSE_TYPES
    penalty_categories: tuple[str, ...] = DEFAULT_PENALTY_CATEGORIES
    penalty_years: int = 3


def policy_for(settings: ApiSettings, threshold: float, types: tuple[RecordType, ...] = ADVERSE_TYPES) -> Policy:
    """The screening policy of a request: its threshold and record types, the configured penalty rules."""
    return Policy(threshold=threshold, review_floor=min(REVIEW_FLOOR, threshold), types=types,
                  penalty_categories=tuple(settings.screen_penalty_categories),
                  penalty_years=settings.screen_penalty_years)


def audit_log_path(settings: ApiSettings, data_dir: Path) -> Path:
    """Where screenings are audited: the configured file, else ``audit/screening.jsonl`` in the data dir."""
    return settings.audit_log or Path(data_dir) / "audit" / "screening.jsonl"


def _shown(name: str, viewer: Viewer) -> str:
    """A subject's name as this viewer may see it: ID numbers in it masked for the public."""
    return name if viewer.is_staff else mask_value(name)


def _candidate(match: NameMatch, viewer: Viewer) -> dict[str, Any]:
    subject = match.subject
    # A name-filed subject gathers several companies' names: the one that matched is the one to show.
    return {"name": _shown(match.name if filed_by_name(subject) else subject.name, viewer),
            "code": subject.code if subject.category != "person" else "",
            "score": round(match.score, 4), "explanation": match.explanation}


def _verdict(out: dict[str, Any], kind: str, reason: str) -> dict[str, Any]:
    out.update(verdict=kind, verdict_label=VERDICT_LABELS[kind], reason=reason)
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """What the names found for a row decide: a confirmed subject (``match``), subjects for a person to choose
    from (``review``), or nothing plausible (``none``), with the reason in Chinese."""

    verdict: Literal["match", "review", "none"]
    top: NameMatch | None
    candidates: tuple[NameMatch, ...]
    reason: str


def decide(found: Sequence[NameMatch], policy: Policy) -> Decision:
    """The decision on a row from the subjects its name matched, best first. A subject is confirmed when it scores
    at least the threshold and no other one comes within TIE_GAP; one below the threshold but plausible (at least
    the review floor) goes to a person with the others; only when nothing is plausible is there no match."""
    found = [m for m in found if m.score >= policy.review_floor]
    if not found:
        return Decision("none", None, (), "未匹配到任何名称相近的有信用记录的主体")
    # Of equally good matches, a subject known by its full code stands for the entity.
    top = min(found, key=lambda m: (-m.score, filed_by_name(m.subject)))
    rest = [m for m in found if m is not top]
    if top.score < policy.threshold:
        return Decision("review", top, (top, *rest)[:_CANDIDATES],
                        f"名称相近但不足以确认：最高匹配度{_shown_score(top.score)}，低于确认阈值{policy.threshold:g}"
                        + (_MORE if len(found) > _CANDIDATES else ""))
    others = [m for m in rest if not (m.score >= policy.threshold and _same_identity(m, top))]
    gap = SHORT_FORM_GAP if top.kind == SHORT_FORM else TIE_GAP
    close = [m for m in others if top.score - m.score < gap]
    if close:
        if len(close) + 1 > _CANDIDATES:
            return Decision("review", top, (top, *close)[:_CANDIDATES],
                            f"名称同样相近的主体超过{_CANDIDATES}个（匹配度相差不到{gap:g}），此处列出{_CANDIDATES}个，"
                            "请补充全称或统一社会信用代码以确认")
        return Decision("review", top, (top, *close),
                        f"有{len(close) + 1}个名称同样相近的主体（匹配度相差不到{gap:g}），请人工确认")
    return Decision("match", top, (), top.explanation)


def _shown_score(score: float) -> str:
    """A score with the digits that decide it: 0.8975 is not shown as 0.90 next to a threshold of 0.9."""
    return f"{score:.4f}".rstrip("0").rstrip(".") if score < 1 else "1"


def _same_identity(a: NameMatch, b: NameMatch) -> bool:
    """Two matches of one entity: a company and the court records filed under its exact name, or two rows
    whose codes agree (one published masked)."""
    if filed_by_name(a.subject) or filed_by_name(b.subject):
        return normalize_name(a.name) == normalize_name(b.name) and (
            not (filed_by_name(a.subject) and filed_by_name(b.subject)) or a.subject.key == b.subject.key)
    return bool(a.subject.code) and a.subject.code == b.subject.code  # no code proves nothing


class Screener:
    """Screens rows over one search service (its store, name index and settings)."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def screen(self, items: list[ScreenItem], viewer: Viewer, policy: Policy) -> list[dict[str, Any]]:
        """One result per item, in order; a bad row gets its own ``invalid`` verdict. Refused (503) while the
        subject rows are incomplete: every name would then seem to have no record, a false 未发现不良记录."""
        if not self.service.store.subjects_complete():
            raise ApiError(503, "not_ready", "首次数据加载尚未完成，主体名录尚未建立，暂不能筛查"
                                             "（以免把有记录的主体误报为未发现不良记录），请在加载完成后重试")
        try:  # subjects a load has just written are matched by name too, never missed as "clear"
            self.service.names.current(wait_seconds=self.service.settings.fresh_names_wait_seconds, fresh=True)
        except NamesCatchingUp as exc:
            raise ApiError(503, "not_ready", "名称索引正在按刚加载的数据更新，暂不能筛查，请稍后重试") from exc
        today = self.service.settings.current_day()
        # Only the adverse record types are read: licences and commitments never change a verdict.
        filters = Filters(visibility=visibility_for(viewer, today), record_types=policy.types)
        return [self._one(n, item, filters, viewer, policy, today) for n, item in enumerate(items, 1)]

    def _one(self, row: int, item: ScreenItem, filters: Filters, viewer: Viewer, policy: Policy,
             today: date) -> dict[str, Any]:
        name, code = item.name.strip(), item.code.strip()
        # The row is echoed with any ID number in it masked, for every viewer: answers are filed and forwarded.
        out: dict[str, Any] = {"row": row, "id": mask_value(item.id),
                               "input": {"name": mask_value(name), "code": mask_value(code)}, "match": None,
                               "candidates": [], "evidence": [], "evidence_summary": ""}
        if not name and not code:
            return _verdict(out, "invalid", "名称和统一社会信用代码均为空")
        if code:
            check = classify_code(code)
            if check.kind is CodeKind.ID_CARD:
                out["input"]["code"] = mask_id_number(code)  # never echo a resident ID number in full
                return _verdict(out, "invalid", "不支持按身份证号码筛查，请填写姓名或企业代码")
            if check.kind not in _ENTERPRISE_CODES or not check.valid:
                reason = check.reason or "不是有效的统一社会信用代码、组织机构代码或工商注册号"
                return _verdict(out, "invalid", f"代码无效：{reason}")
            subjects = self.service.store.subjects_by_code([check.normalized])
            # A subject whose every record is hidden from the viewer is not named to them.
            if not subjects or not self.service.records_of_subjects(subjects, replace(filters, record_types=())):
                return self._unknown_code(out, check.normalized, name, viewer, policy)
            subject = subjects[0]
            if name and (conflict := self._name_conflict(name, subject, viewer, policy)):
                out["candidates"] = conflict
                return _verdict(out, "review", f"代码 {check.normalized} 登记的主体为“{_shown(subject.name, viewer)}”，"
                                               f"与填写的名称“{mask_value(name)}”不符，请人工确认是哪一个")
            out["match"] = {"name": _shown(subject.name, viewer), "code": subject.code, "score": 1.0,
                            "explanation": "代码一致" + ("，名称相符" if name else "")}
            records = self.service.records_of_subjects(subjects, filters)
            return self._judge(out, records, viewer, policy, today)
        found = self.service.match_names(name, viewer, limit=NAMES_ASKED, floor=policy.review_floor, candidates=24)
        decision = decide(found, policy)
        if decision.verdict == "none":
            return _verdict(out, "clear", decision.reason)
        if decision.verdict == "review":
            out["candidates"] = [_candidate(m, viewer) for m in decision.candidates]
            return _verdict(out, "review", decision.reason)
        top = decision.top
        assert top is not None
        out["match"] = _candidate(top, viewer)
        if not filed_by_name(top.subject):
            # The company's records plus court records published under its name with its code masked.
            records = self.service.records_of_subjects([top.subject], filters)
        else:
            wanted = normalize_name(top.name)
            records = [r for r in self.service.store.records_of([top.subject.key], filters)
                       if normalize_name(r.subject_name) == wanted]
        return self._judge(out, records, viewer, policy, today)

    def _unknown_code(self, out: dict[str, Any], code: str, name: str, viewer: Viewer,
                      policy: Policy) -> dict[str, Any]:
        """A valid code that no visible record carries: clear, unless the name written beside it fits a subject
        that has records (a mistyped code, or another company's): then a person looks."""
        if name:
            decision = decide(self.service.match_names(name, viewer, limit=NAMES_ASKED, floor=policy.review_floor,
                                                       candidates=24), policy)
            if decision.verdict != "none":
                out["candidates"] = [_candidate(m, viewer) for m in decision.candidates or (decision.top,) if m]
                return _verdict(out, "review", f"代码 {code} 没有公示的信用记录，但名称与有记录的主体相近，"
                                               "请核实代码")
        return _verdict(out, "clear", f"代码 {code} 没有公示的信用记录")

    def _name_conflict(self, name: str, subject: Subject, viewer: Viewer,
                       policy: Policy) -> list[dict[str, Any]]:
        """When the name written beside a code fits none of the names of the code's subject, the subjects for a
        person to choose from: the code's and those the name fits; empty when the name fits."""
        names = [n for n, _ in self.service.store.subject_names(subject.key)] or [subject.name]
        if max(score_name(name, n).score for n in names) >= policy.review_floor:
            return []
        by_code = {"name": _shown(subject.name, viewer), "code": subject.code, "score": 1.0,
                   "explanation": "代码一致，名称不符"}
        by_name = self.service.match_names(name, viewer, limit=_CANDIDATES - 1, floor=policy.review_floor,
                                           candidates=24)
        return [by_code, *(_candidate(m, viewer) for m in by_name if m.subject.key != subject.key)]

    @staticmethod
    def _judge(out: dict[str, Any], records: list[Record], viewer: Viewer, policy: Policy,
               today: date) -> dict[str, Any]:
        since = today - timedelta(days=365 * policy.penalty_years)
        dishonest = [r for r in records if r.record_type is RecordType.DISHONEST
                     and RecordType.DISHONEST in policy.types and effective_status(r, today) is Status.ACTIVE]
        # A repaired, withdrawn or expired penalty no longer counts against the subject, even for staff.
        penalties = [r for r in records if r.record_type is RecordType.PENALTY and RecordType.PENALTY in policy.types
                     and effective_status(r, today) is Status.ACTIVE and r.decision_date and r.decision_date >= since
                     and any(c in r.category for c in policy.penalty_categories)]
        adverse = dishonest + penalties
        out["evidence"] = [p for p in (present_record(r, viewer, today) for r in adverse[:_MAX_EVIDENCE]) if p]
        parts = []
        if dishonest:
            numbers = "、".join(r.document_number for r in dishonest[:3])
            parts.append(f"失信被执行人{len(dishonest)}条（{numbers}）")
        if penalties:
            total = sum(r.amount or 0 for r in penalties)
            parts.append(f"近{policy.penalty_years}年行政处罚{len(penalties)}条（" +
                         "、".join(r.document_number for r in penalties[:3]) +
                         (f"，罚没金额合计{total:,.2f}元" if total else "") + "）")
        out["evidence_summary"] = "；".join(parts)
        if adverse:
            return _verdict(out, "hit", "匹配到主体，存在" + "、".join(
                kind for kind, rows in (("失信被执行人记录", dishonest), ("行政处罚记录", penalties)) if rows))
        checked = "、".join(t.label for t in policy.types) or "无"
        return _verdict(out, "clear", f"匹配到主体，无设定范围内的不良记录（核查类型：{checked}）")


def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    """Rows per verdict."""
    counts = {"rows": len(results), **dict.fromkeys(VERDICT_LABELS, 0)}
    for result in results:
        counts[result["verdict"]] += 1
    return counts


def screen_and_audit(screener: Screener, items: list[ScreenItem], viewer: Viewer, policy: Policy, audit_log: Path,
                     channel: str, raw_input: bytes, request_id: str = "") -> dict[str, Any]:
    """Screen the rows and append who asked, when, how many rows and a hash of the input to the audit log
    (before the answer leaves, so no screening goes unrecorded)."""
    results = screener.screen(items, viewer, policy)
    summary = summarize(results)
    entry = append_entry(audit_log, {
        "who": viewer.who or viewer.role, "role": viewer.role, "channel": channel, "request_id": request_id,
        "rows": len(items), "input_sha256": hashlib.sha256(raw_input).hexdigest(), "verdicts": summary,
        "policy": {"threshold": policy.threshold, "types": [t.value for t in policy.types],
                   "penalty_years": policy.penalty_years}})
    return {"summary": summary, "audit": {"time": entry["time"], "input_sha256": entry["input_sha256"]},
            "results": results}
