"""What the endpoints do, as plain functions over a store: search, entity profiles, suggestions."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

from rapidfuzz import fuzz

from analyzers.codes import (
    CodeKind,
    classify_code,
    document_number_forms,
    find_codes,
    find_document_numbers,
    mask_id_number,
    masked_code_matches,
)
from analyzers.names import name_bigrams, name_key, parse_name
from analyzers.normalize import normalize_name
from analyzers.tokens import expand_synonyms
from indexer.model import Record, RecordType, Status, iso_date
from search_api.errors import ApiError
from search_api.fusion import reciprocal_rank_fusion
from search_api.name_index import NameIndexHolder, NameMatch, filed_by_name
from search_api.publication import (
    Viewer,
    effective_status,
    mask_tree,
    mask_value,
    present_record,
    status_filter,
    visibility_for,
)
from search_api.semantic import SemanticSearch, SemanticUnavailable
from search_api.settings import ApiSettings
from search_api.understanding import QueryKind, Understood, one_edit_codes, understand
from stores.base import Clause, Filters, Hit, Store, Subject, Visibility, count_facets, facet_values

UNFULFILLED = ("全部未履行", "部分履行", "部分未履行")
Mode = Literal["keyword", "semantic", "hybrid"]
# Subjects a suggestion draws from before the ones the viewer may not see are left out.
SUGGEST_POOL = 100
# Typed characters from which suggestions also come from the name matcher (a 字号 anywhere in a name); one
# character off in four still suggests a name (rapidfuzz partial ratio, 0-100).
SUGGEST_MIN_MATCH = 2
SUGGEST_SLIP, SUGGEST_MIN_SLIP_BODY = 75, 3
# How deep each list goes before fusion: deeper than any first page, so that a record ranked fairly in both
# lists can rise above one ranked first in only one of them. It is the same for every page, so that the
# fused order, and with it paging, is stable.
FUSION_DEPTH = 200


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str
    types: tuple[RecordType, ...] = ()
    authority: str = ""
    district: str = ""
    category: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    size: int = 10
    cursor: str | None = None
    status: Status | None = None  # staff only
    mode: Mode | None = None  # None: hybrid for text when semantic search is available, else keyword


def _encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, "invalid_cursor", "游标无效，请使用上一页响应中的 next_cursor") from exc
    valid_page = isinstance(data, dict) and type(data.get("p")) is int and 1 <= data["p"] <= 100000
    valid_after = isinstance(data, dict) and isinstance(data.get("a"), str) and data.get("r", 0) in (0, 1)
    if not (valid_page or valid_after):
        raise ApiError(422, "invalid_cursor", "游标无效，请使用上一页响应中的 next_cursor")
    return dict(data)


def _highlight(text: str, terms: list[str]) -> str:
    """A snippet of ``text`` around the first query term, terms wrapped in <em>, HTML-escaped."""
    terms = sorted({t for t in terms if t and t in text}, key=len, reverse=True)
    if not terms:
        return ""
    first = min(text.find(t) for t in terms)
    start = max(0, first - 30)
    snippet = text[start:start + 120]
    # One pass with the longest terms first, so 扬尘污染 is marked once and not again inside as 扬尘.
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    pieces, last = [], 0
    for m in pattern.finditer(snippet):
        pieces += [html.escape(snippet[last:m.start()]), f"<em>{html.escape(m.group())}</em>"]
        last = m.end()
    pieces.append(html.escape(snippet[last:]))
    return ("…" if start else "") + "".join(pieces) + ("…" if start + 120 < len(text) else "")


def _facets_of(records: list[Record]) -> dict[str, dict[str, int]]:
    return count_facets((*facet_values(r), 1) for r in records)


class SearchService:
    """The read side over one store, with the API's settings."""

    def __init__(self, store: Store, settings: ApiSettings, semantic: SemanticSearch | None = None) -> None:
        self.store = store
        self.settings = settings
        self.semantic = semantic
        self.names = NameIndexHolder(store)
        self.names.start()
        self._count, self._counted_at = 0, float("-inf")

    def _filters(self, params: SearchParams, viewer: Viewer) -> Filters:
        today = self.settings.current_day()
        visibility, ended_before = visibility_for(viewer, today), None
        if params.status is not None:
            if not viewer.is_staff:
                raise ApiError(403, "staff_only", "按状态筛选仅对员工开放，请在请求头 X-API-Key 中提供员工密钥",
                               {"field": "status"})
            visibility, ended_before = status_filter(viewer, params.status, today)
        return Filters(visibility=visibility, record_types=params.types, authority=params.authority,
                       district=params.district, category=params.category, date_from=params.date_from,
                       date_to=params.date_to, ended_before=ended_before)

    def _present(self, records: list[Record], viewer: Viewer) -> list[dict[str, Any]]:
        today = self.settings.current_day()
        return [p for p in (present_record(r, viewer, today) for r in records) if p is not None]

    # -- search --------------------------------------------------------------------------------------
    @staticmethod
    def is_quick(understood: Understood, mode: Mode | None = None) -> bool:
        """True for a query answered in a few milliseconds from indexed lookups and the name index (a valid
        code, a name), as opposed to a full-text or semantic search."""
        if understood.kind is QueryKind.NAME:
            return mode != "semantic"
        return understood.kind is QueryKind.CODE and understood.code_valid

    def search(self, params: SearchParams, viewer: Viewer, understood: Understood | None = None,
               quick_only: bool = False) -> dict[str, Any] | None:
        """Answer one search-box query; ``understood`` is :func:`understand` of ``params.q`` if the caller
        has it already. With ``quick_only`` a query that turns out to need a full-text search (a would-be
        name that matches no subject) returns None instead, for the caller to run it off the event loop."""
        result = self._search(params, viewer, understood or understand(params.q), quick_only)
        if result is not None and not viewer.is_staff:
            # The query is echoed as understood: an ID number typed into the box is not shown back in full.
            result["query"] = mask_tree(result["query"])
        return result

    def _search(self, params: SearchParams, viewer: Viewer, understood: Understood,
                quick_only: bool) -> dict[str, Any] | None:
        filters = self._filters(params, viewer)
        query: dict[str, Any] = {"kind": understood.kind.value, "normalized": understood.normalized}
        if understood.kind is QueryKind.CODE:
            return self._search_code(understood, params, filters, viewer, query)
        if understood.kind is QueryKind.DOCUMENT_NUMBER:
            found = next((f for form in document_number_forms(understood.normalized)
                          if (f := self.store.by_document_number(form, filters))), [])
            if found:
                return self._listing(found, params, viewer, query)
            query["fallback"] = "text"
        if understood.maybe_name and self._names_a_subject(understood, viewer):
            understood = replace(understood, kind=QueryKind.NAME, normalized=normalize_name(params.q))
            query.update(kind=understood.kind.value, normalized=understood.normalized)
        if understood.kind is QueryKind.NAME and params.mode != "semantic":
            if matches := self._name_matches(understood, viewer):
                return self._search_terms(understood, params, filters, viewer, query, matches)
            if quick_only:
                return None
            # Words that look like a name but name no subject (货车装得太重) are searched as text.
            query["fallback"] = "text"
        understood = replace(understood, kind=QueryKind.TEXT)
        return self._search_text(understood, params, filters, viewer, query)

    def match_names(self, text: str, viewer: Viewer, limit: int = 10, floor: float = 0.0,
                    candidates: int = 40) -> list[NameMatch]:
        """The subjects whose names best match ``text``, best first, among those the viewer may see a record of:
        the one name matcher behind the search box, screening, questions and suggestions."""
        # Twice as many as asked for, so that subjects hidden from the viewer do not leave the list short.
        found = self.names.current().match(text, limit=2 * limit, floor=floor, candidates=candidates)
        if not viewer.is_staff and found:
            visible = self.store.visible_counts([m.subject.key for m in found],
                                                visibility_for(viewer, self.settings.current_day()))
            found = [m for m in found if m.subject.key in visible]
        return found[:limit]

    def _name_matches(self, understood: Understood, viewer: Viewer) -> dict[str, NameMatch]:
        found = self.match_names(understood.normalized, viewer, limit=self.settings.rerank_window,
                                 floor=self.settings.name_match_floor)
        return {m.subject.key: m for m in found}

    def _search_text(self, understood: Understood, params: SearchParams, filters: Filters, viewer: Viewer,
                     query: dict[str, Any]) -> dict[str, Any]:
        """Full text by the requested mode; the default, hybrid, falls back to keyword search while semantic
        search is unavailable (saying so in ``query.notice``), an explicit ``semantic`` gets a 503."""
        mode: Mode = params.mode or "hybrid"
        if mode != "keyword":
            try:
                if self.semantic is None:
                    raise SemanticUnavailable("未启用语义检索")
                result = self._search_fused(self.semantic, understood, params, filters, viewer, query, mode)
                query["mode"] = mode
                return result
            except SemanticUnavailable as exc:
                if mode == "semantic":
                    raise ApiError(503, "semantic_unavailable", f"语义检索暂不可用：{exc}", {"field": "mode"}) from exc
                query["notice"] = f"语义检索暂不可用，已按关键词检索：{exc}"
        query["mode"] = "keyword"
        return self._search_terms(understood, params, filters, viewer, query)

    def _exact_records(self, q: str, filters: Filters) -> list[Record]:
        """Records that a code or a document number written in the query identifies exactly."""
        for number in find_document_numbers(q):
            found = self.store.by_document_number(number, filters)
            if found:
                return found
        subjects = self.store.subjects_by_code(find_codes(q))
        return self.records_of_subjects(subjects, filters) if subjects else []

    def _search_fused(self, semantic: SemanticSearch, understood: Understood, params: SearchParams,
                      filters: Filters, viewer: Viewer, query: dict[str, Any], mode: Mode) -> dict[str, Any]:
        """Semantic or hybrid search: the nearest records by meaning, fused with the keyword results by
        reciprocal rank (hybrid); records a code or document number in the query names come first. The
        answer is one ranked list of the best candidates of each retriever: ``total`` and the facets count
        that list, ``query.keyword_total`` every keyword match, and pages reach as deep as the list."""
        cursor = _decode_cursor(params.cursor) if params.cursor else {"p": params.page}
        if "p" not in cursor:
            raise ApiError(422, "invalid_cursor", "游标无效，请使用上一页响应中的 next_cursor")
        page_number = int(cursor["p"])
        if page_number * params.size > self.settings.max_result_window:
            raise ApiError(422, "page_too_deep",
                           f"页码过深：语义与混合检索最多可查看前{self.settings.max_result_window}条")
        depth = FUSION_DEPTH
        nearest = semantic.search(understood.normalized, filters, depth)
        hits = {h.record_id: h for h in nearest}
        rankings: dict[str, list[str]] = {}
        if mode == "hybrid":
            keyword = self.store.search(self._clauses(understood, False), filters, depth)
            if not keyword.hits:
                query["relaxed"] = True
                keyword = self.store.search(self._clauses(understood, True), filters, depth)
            rankings["keyword"] = [h.record_id for h in keyword.hits]
            hits.update((h.record_id, h) for h in keyword.hits)
            query["keyword_total"] = keyword.total
        rankings["semantic"] = [h.record_id for h in nearest]
        similarity = {h.record_id: h.score for h in nearest}
        exact = self._exact_records(params.q, filters)
        exact_ids = {r.id for r in exact}
        ranked: list[tuple[Record | Hit, dict[str, Any]]] = [(r, {"exact": True}) for r in exact]
        for entry in reciprocal_rank_fusion(rankings):
            if entry.id not in exact_ids:
                retrieval: dict[str, Any] = {"score": round(entry.score, 6),
                                             **{f"{name}_rank": rank for name, rank in entry.ranks.items()}}
                if entry.id in similarity:
                    retrieval["similarity"] = round(similarity[entry.id], 4)
                ranked.append((hits[entry.id], retrieval))
        start = (page_number - 1) * params.size
        today = self.settings.current_day()
        terms = [t for t in understood.tokens for t in expand_synonyms(t)]
        items: list[dict[str, Any]] = []
        for found, retrieval in ranked[start:start + params.size]:
            record = found.record if isinstance(found, Hit) else found
            item = present_record(record, viewer, today)  # the publication rules, again after fusion
            if item is None:
                continue
            item["retrieval"] = retrieval
            if ("keyword_rank" in retrieval or "exact" in retrieval) and \
                    (highlight := _highlight(item["summary"], terms)):
                item["highlights"] = {"summary": highlight}
            items.append(item)
        more = start + params.size < len(ranked)
        return {"query": query, "total": len(ranked), "page": page_number, "size": params.size, "items": items,
                "facets": count_facets((*(f.facet_values if isinstance(f, Hit) else facet_values(f)), 1)
                                       for f, _ in ranked),
                "next_cursor": _encode_cursor({"p": page_number + 1}) if more else None}

    def _names_a_subject(self, understood: Understood, viewer: Viewer) -> bool:
        """True when a short query that could be a name matches the name of a subject the viewer may see well."""
        return bool(self.match_names(understood.normalized, viewer, limit=1, floor=0.8))

    def _listing(self, records: list[Record], params: SearchParams, viewer: Viewer,
                 query: dict[str, Any]) -> dict[str, Any]:
        """A result set small enough to page in memory (one subject's records, one document number)."""
        start = (params.page - 1) * params.size
        if params.cursor:
            start = int(_decode_cursor(params.cursor).get("p", 1) - 1) * params.size
        items = self._present(records[start:start + params.size], viewer)
        more = start + params.size < len(records)
        return {"query": query, "total": len(records), "page": start // params.size + 1, "size": params.size,
                "items": items, "facets": _facets_of(records),
                "next_cursor": _encode_cursor({"p": start // params.size + 2}) if more else None}

    def _search_code(self, understood: Understood, params: SearchParams, filters: Filters, viewer: Viewer,
                     query: dict[str, Any]) -> dict[str, Any]:
        query["code_kind"] = understood.code_kind
        query["valid"] = understood.code_valid
        subjects = self.store.subjects_by_code([understood.normalized]) if understood.code_valid else []
        records = self.store.records_of([s.key for s in subjects], filters) if subjects else []
        if not understood.code_valid:
            query["reason"] = understood.code_reason
        if not records:
            query["did_you_mean"] = self._did_you_mean(understood.normalized, filters)
        return self._listing(records, params, viewer, query)

    def _did_you_mean(self, code: str, filters: Filters) -> list[dict[str, str]]:
        out = []
        for subject in self.store.subjects_by_code(one_edit_codes(code))[:5]:
            if self.store.records_of([subject.key], filters):
                out.append({"code": subject.code, "name": subject.name})
        return out

    def _selective(self, tokens: list[str], relaxed: bool) -> list[str]:
        """Query words without the very common ones (in more than a tenth of the records; a hundredth
        when relaxing): they barely narrow the result but make the index read huge posting lists. The
        rarest word always stays."""
        if len(tokens) <= 1:
            return tokens
        frequencies = self.store.document_frequencies("text", tokens)
        limit = max(1000, self._record_count() // (100 if relaxed else 10))
        kept = [t for t in tokens if frequencies.get(t, 0) <= limit]
        return kept or [min(tokens, key=lambda t: frequencies.get(t, 0))]

    def _record_count(self) -> int:
        now = time.monotonic()
        if now - self._counted_at > 60:
            self._count, self._counted_at = self.store.count(), now
        return self._count

    def _clauses(self, understood: Understood, relaxed: bool) -> list[Clause]:
        groups = tuple(expand_synonyms(t) for t in self._selective(understood.tokens, relaxed))
        name_grams = tuple((g,) for g in name_bigrams(normalize_name(understood.normalized)))
        return [Clause("text", groups, "any" if relaxed else "all"), Clause("name", name_grams, "all")]

    def _search_terms(self, understood: Understood, params: SearchParams, filters: Filters, viewer: Viewer,
                      query: dict[str, Any], matches: dict[str, NameMatch] | None = None) -> dict[str, Any]:
        """Keyword search of a text, or the records of the subjects a name matched (``matches``, from the
        in-memory name index: the store only lists their records, re-ranked by how well each subject's name
        matched)."""
        cursor = _decode_cursor(params.cursor) if params.cursor else {"p": params.page}
        matches = matches or {}
        if matches:
            filters = replace(filters, subject_keys=tuple(matches))

        def clauses(relaxed: bool) -> list[Clause]:
            return [] if matches else self._clauses(understood, relaxed)

        if "a" in cursor:  # deep paging: continue in store order after the re-ranked window
            try:
                page = self.store.search(clauses(bool(cursor.get("r"))), filters, params.size, after=str(cursor["a"]))
            except ValueError as exc:  # a position this store did not make
                raise ApiError(422, "invalid_cursor", "游标无效，请使用上一页响应中的 next_cursor") from exc
            hits = page.hits
            more = len(hits) == params.size
            after = _encode_cursor({"a": hits[-1].cursor, "r": cursor.get("r", 0)}) if hits and more else None
            return {"query": query, "total": page.total, "page": None, "size": params.size,
                    "items": self._items(hits, understood, viewer, matches), "facets": {}, "next_cursor": after}
        page_number = int(cursor["p"])
        if page_number * params.size > self.settings.max_result_window:
            raise ApiError(422, "page_too_deep", f"页码过深：按页码最多可查看前{self.settings.max_result_window}条，"
                                                 "更多结果请使用 next_cursor 翻页")
        # Names are re-ranked over a window of records; text keeps the store's order, so it fetches only
        # as far as the page asked for.
        limit = page_number * params.size
        if matches:
            limit = max(self.settings.rerank_window, limit)
        relaxed = False
        result = self.store.search(clauses(False), filters, limit, facets=True)
        if not result.hits and not matches:
            relaxed = True
            query["relaxed"] = True
            result = self.store.search(clauses(True), filters, limit, facets=True)
        hits = result.hits
        if matches:
            hits = sorted(hits, key=lambda h: (-matches[h.subject_key].score,
                                               -(h.decision_date or date.min).toordinal()))
        start = (page_number - 1) * params.size
        items = self._items(hits[start:start + params.size], understood, viewer, matches)
        nxt: str | None = None
        if start + params.size < len(hits):
            nxt = _encode_cursor({"p": page_number + 1})
        elif len(hits) < result.total and hits:
            nxt = _encode_cursor({"a": result.hits[-1].cursor, "r": int(relaxed)})
        return {"query": query, "total": result.total, "page": page_number, "size": params.size, "items": items,
                "facets": result.facets, "next_cursor": nxt}

    def _items(self, hits: list[Hit], understood: Understood, viewer: Viewer,
               matches: dict[str, NameMatch]) -> list[dict[str, Any]]:
        today = self.settings.current_day()
        items = []
        terms = [t for t in understood.tokens for t in expand_synonyms(t)]
        for hit in hits:
            item = present_record(hit.record, viewer, today)
            if item is None:
                continue
            if match := matches.get(hit.subject_key):
                item["match"] = {"score": round(match.score, 4), "explanation": match.explanation}
            elif highlight := _highlight(item["summary"], terms):
                item["highlights"] = {"summary": highlight}
            items.append(item)
        return items

    # -- entity profile ------------------------------------------------------------------------------
    def entity(self, code: str, viewer: Viewer) -> dict[str, Any]:
        check = classify_code(code)
        if check.kind is CodeKind.ID_CARD:
            raise ApiError(422, "invalid_code", "不支持按身份证号码查询主体信用档案", {"code": mask_id_number(code)})
        if check.kind not in (CodeKind.USCC, CodeKind.ORG_CODE, CodeKind.REG_NO) or not check.valid:
            reason = check.reason or "不是有效的统一社会信用代码、组织机构代码或工商注册号"
            raise ApiError(422, "invalid_code", f"代码无效：{reason}", {"code": code, "reason": reason})
        subjects = self.store.subjects_by_code([check.normalized])
        today = self.settings.current_day()
        filters = Filters(visibility=visibility_for(viewer, today))
        records = self.records_of_subjects(subjects, filters)
        if not records:
            raise ApiError(404, "entity_not_found", f"未找到代码为 {check.normalized} 的主体的公示信用记录",
                           {"code": check.normalized})
        latest = records[0]
        names: dict[str, str] = {}
        for r in records:
            seen = iso_date(r.decision_date) or ""
            names[r.subject_name] = max(names.get(r.subject_name, ""), seen)
        groups: dict[str, dict[str, Any]] = {}
        for kind in RecordType:
            of_kind = [r for r in records if r.record_type is kind]
            if of_kind:
                groups[kind.value] = {"label": kind.label, "count": len(of_kind),
                                      "items": self._present(of_kind, viewer)}
        three_years_ago = today - timedelta(days=3 * 365)
        recent = [r for r in records if r.record_type is RecordType.PENALTY and r.decision_date
                  and r.decision_date >= three_years_ago]
        codes = {"uscc": next((r.subject_code for r in records if len(r.subject_code) == 18), ""),
                 "org_code": next((r.details.get("org_code", "") for r in records if r.details.get("org_code")), ""),
                 "reg_no": next((r.details.get("reg_no", "") for r in records if r.details.get("reg_no")), "")}
        identity = {
            "name": latest.subject_name,
            "names": [{"name": n, "last_seen": d} for n, d in sorted(names.items(), key=lambda x: x[1], reverse=True)],
            "codes": codes,
            "legal_representative": next((r.details["legal_rep"] for r in records if r.details.get("legal_rep")), ""),
            "category": latest.subject_category.value,
        }
        return {
            "code": check.normalized,
            # Names and the legal representative may carry an ID number (a sole trader's registration).
            "identity": identity if viewer.is_staff else mask_tree(identity),
            "flags": {
                "active_dishonest": any(r.record_type is RecordType.DISHONEST
                                        and effective_status(r, today) is Status.ACTIVE for r in records),
                "penalties_last_3_years": {"count": len(recent),
                                           "total_amount": round(sum(r.amount or 0 for r in recent), 2)},
                "unfulfilled_commitments": sum(1 for r in records if r.record_type is RecordType.COMMITMENT
                                               and r.details.get("fulfilment") in UNFULFILLED),
            },
            "records": groups,
            "sources": dict(Counter(r.authority for r in records if r.authority).most_common()),
        }

    def records_of_subjects(self, subjects: list[Subject], filters: Filters) -> list[Record]:
        """Records keyed by the subjects' codes, plus records published with a masked code (courts publish
        9144180212****345G) under the same name whose visible characters agree with the full code."""
        if not subjects:
            return []
        everything = replace(filters, visibility=Visibility(None, filters.visibility.audiences, None))
        by_code = self.store.records_of([s.key for s in subjects], everything)
        names = {r.subject_name for r in by_code} | {s.name for s in subjects}
        codes = [s.code for s in subjects if s.code]
        masked = [r for r in self.store.records_of([f"name:{name_key(n)}" for n in names], everything)
                  if r.subject_code and any(masked_code_matches(r.subject_code, c) for c in codes)]
        merged = {r.id: r for r in [*by_code, *masked] if filters.visibility.allows(r)}
        return sorted(merged.values(), key=lambda r: r.decision_date or date.min, reverse=True)

    # -- suggestions ---------------------------------------------------------------------------------
    def suggest(self, q: str, viewer: Viewer, limit: int = 10) -> dict[str, Any]:
        """Subjects for what has been typed so far, that the viewer may see a record of, with the number of such
        records: first those whose names (or their pinyin) start with it, most records first, then those the name
        matcher finds it in (a 字号 typed without its region, 万马股份 for 浙江万马股份有限公司, or with one
        character off), best first. Court records published with a company's code masked are filed under its name:
        that name is offered once, with the company's full code when one company has it (two companies of one name
        stay apart)."""
        typed = normalize_name(q)
        if not typed:
            return {"query": typed, "items": []}
        visibility = visibility_for(viewer, self.settings.current_day())
        by_prefix = self.store.suggest(typed, SUGGEST_POOL)
        counts = self.store.visible_counts([s.key for s in by_prefix], visibility)
        found = sorted((replace(s, record_count=counts[s.key]) for s in by_prefix if s.key in counts),
                       key=lambda s: -s.record_count)
        # Suggestions keep up with typing: while the name index is first being built, only the prefixes serve.
        if len(typed) >= SUGGEST_MIN_MATCH and self.names.ready():
            seen = {s.key for s in found}
            parts = parse_name(typed)
            body = parts.core + parts.industry  # a slip is forgiven in the 字号, not in the region before it
            matched = [m for m in self.match_names(typed, viewer, limit=limit) if m.subject.key not in seen and (
                m.score >= self.settings.name_match_floor
                or (len(body) >= SUGGEST_MIN_SLIP_BODY and fuzz.partial_ratio(body, m.name) >= SUGGEST_SLIP))]
            counts = self.store.visible_counts([m.subject.key for m in matched], visibility)
            found += [replace(m.subject, name=m.name if filed_by_name(m.subject) else m.subject.name,
                              record_count=counts[m.subject.key]) for m in matched if m.subject.key in counts]
        by_name: dict[str, list[Subject]] = {}
        for subject in found:
            by_name.setdefault(subject.name, []).append(subject)
        items: list[dict[str, Any]] = []
        for name, same in by_name.items():
            shown = name if viewer.is_staff else mask_value(name)
            coded = [s for s in same if s.code and "*" not in s.code and s.category != "person"]
            if len({s.code for s in coded}) > 1:
                items.extend({"name": shown, "code": s.code, "record_count": s.record_count} for s in coded)
            else:
                items.append({"name": shown, "code": coded[0].code if coded else "",
                              "record_count": sum(s.record_count for s in same)})
        return {"query": typed, "items": items[:limit]}
