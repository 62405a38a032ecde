"""Index mappings and request bodies for the search engines (Elasticsearch, OpenSearch), built once from the
record model and ``synonyms/``: documents carry the tokens that ``analyzers`` made (whitespace tokenizer, so no
Chinese plugin is needed) and a synonym_graph search analyser expands the domain terms.

Both engines speak the same query DSL for everything here except vectors, which each engine's client
(:mod:`stores.engine_client`) maps and queries its own way. Bodies are built with ``elasticsearch.dsl``, which
checks their shape as they are built, and handed on as plain dicts; the builders are plain functions, testable
without a cluster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from elasticsearch.dsl import (
    A,
    Binary,
    Date,
    Integer,
    Keyword,
    Mapping,
    Object,
    Q,
    ScaledFloat,
    Search,
    Text,
    analyzer,
    token_filter,
)

from indexer.analysis import AnalysedRecord, with_status
from indexer.model import Status, iso_date
from stores.base import Clause, Filters
from synonyms import load_domain_terms

KEYWORDS = ("id", "record_type", "subject_key", "subject_code", "org_code", "reg_no", "document_number",
            "authority", "district", "category", "status", "audience", "content_hash", "suggest_forms",
            "semantic_key", "embedding_encoder", "subject_category")
VECTOR_FIELD = "embedding"
# Stored fields that readers never need back: a hit returns its body, not its vector and token streams.
NOT_RETURNED = [VECTOR_FIELD, "semantic_text", "name_tokens", "text_tokens", "suggest_forms"]
FACETS = ("record_type", "district", "authority", "category")
# Sets every matching record's vector from params.vectors (semantic key → vector) and names its encoder.
_ATTACH_SCRIPT = (f"ctx._source.{VECTOR_FIELD} = params.vectors[ctx._source.semantic_key]; "
                  "ctx._source.embedding_encoder = params.encoder")


def synonym_rules() -> list[str]:
    """Solr-format equivalence rules from ``synonyms/domain_terms.txt``."""
    return [", ".join(group.terms) for group in load_domain_terms()]


def _analysers() -> tuple[Any, Any]:
    index_side = analyzer("pre_tokenized", tokenizer="whitespace", filter=["lowercase"])
    search_side = analyzer("pre_tokenized_synonyms", tokenizer="whitespace",
                           filter=["lowercase", token_filter("credit_synonyms", "synonym_graph",
                                                             synonyms=synonym_rules(), lenient=True)])
    return index_side, search_side


def records_mapping() -> Mapping:
    """The records mapping, generated from the record model's stored fields. The vector field is added by the
    engine's client when the first vectors arrive: only then are their dimensions known."""
    index_side, search_side = _analysers()
    m = Mapping()
    for name in KEYWORDS:
        m.field(name, Keyword())
    m.field("subject_name", Keyword())
    m.field("category_terms", Text(analyzer=index_side))
    m.field("decision_date", Date(format="strict_date"))
    m.field("publish_until", Date(format="strict_date"))
    m.field("status_date", Date(format="strict_date"))
    m.field("amount", ScaledFloat(scaling_factor=100))
    m.field("status_reason", Keyword(index=False))
    m.field("name_tokens", Text(analyzer=index_side))
    m.field("text_tokens", Text(analyzer=index_side, search_analyzer=search_side))
    m.field("body", Object(enabled=False))
    m.field("semantic_text", Keyword(index=False, doc_values=False))
    return m


def vectors_mapping() -> Mapping:
    """The vector cache: one document per (encoder, semantic key), vectors as float32 bytes so that
    encoders of any dimension share the index."""
    m = Mapping()
    m.field("encoder", Keyword())
    m.field("key", Keyword())
    m.field("vector", Binary())
    return m


def subjects_mapping() -> Mapping:
    m = Mapping()
    for name in ("key", "code", "org_code", "reg_no", "category", "suggest_forms", "names"):
        m.field(name, Keyword())
    m.field("name", Keyword())
    m.field("record_count", Integer())
    return m


def index_body(mapping: Mapping, shards: int = 1, replicas: int = 1,
               extra_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings and mappings for a new index generation. See docs/deploy-search-engines.md for sizing."""
    index_side, search_side = _analysers()
    analysis: dict[str, Any] = {}
    for a in (index_side, search_side):
        for section, entries in a.get_analysis_definition().items():
            analysis.setdefault(section, {}).update(entries)
    settings = {"number_of_shards": shards, "number_of_replicas": replicas, "analysis": analysis,
                **(extra_settings or {})}
    return {"settings": settings, "mappings": mapping.to_dict()}


def clause_query(clause: Clause) -> Any:
    """One clause: every group (``all``) or one group (``any``) must match; a group is its terms OR'ed."""
    field = "name_tokens" if clause.field == "name" else "text_tokens"
    groups = [Q("match", **{field: {"query": " ".join(g), "operator": "or"}}) for g in clause.groups if g]
    if clause.require == "all":
        return Q("bool", must=groups)
    return Q("bool", should=groups, minimum_should_match=1)


def filter_queries(filters: Filters) -> list[Any]:
    """Filters, visibility first, as filter-context queries."""
    vis = filters.visibility
    out = [Q("terms", audience=sorted(a.value for a in vis.audiences))]
    if vis.statuses is not None:
        out.append(Q("terms", status=sorted(s.value for s in vis.statuses)))
    if vis.published_on is not None:
        out.append(Q("bool", should=[Q("bool", must_not=[Q("exists", field="publish_until")]),
                                     Q("range", publish_until={"gte": vis.published_on.isoformat()})],
                     minimum_should_match=1))
    if filters.record_types:
        out.append(Q("terms", record_type=[t.value for t in filters.record_types]))
    if filters.authority:
        out.append(Q("term", authority=filters.authority))
    if filters.district:
        out.append(Q("term", district=filters.district))
    if filters.districts:
        out.append(Q("terms", district=list(filters.districts)))
    if filters.subject_categories:
        out.append(Q("terms", subject_category=[c.value for c in filters.subject_categories]))
    if filters.amount_min is not None or filters.amount_max is not None:
        amount = {k: v for k, v in (("gte", filters.amount_min), ("lte", filters.amount_max)) if v is not None}
        out.append(Q("range", amount=amount))
    if filters.category:
        out.append(Q("match_phrase", category_terms=filters.category))
    if filters.authority_contains:
        out.append(Q("wildcard", authority={"value": f"*{filters.authority_contains}*"}))
    if filters.date_from or filters.date_to:
        bounds = {k: v.isoformat() for k, v in (("gte", filters.date_from), ("lte", filters.date_to)) if v}
        out.append(Q("range", decision_date=bounds))
    if filters.ended_before:
        out.append(Q("range", publish_until={"lt": filters.ended_before.isoformat()}))
    if filters.subject_keys:
        out.append(Q("terms", subject_key=list(filters.subject_keys)))
    return out


def filter_body(filters: Filters) -> dict[str, Any]:
    """The filters as one bool query (for a k-NN search's filter)."""
    return dict(Q("bool", filter=filter_queries(filters)).to_dict())


def search_body(clauses: Sequence[Clause], filters: Filters, limit: int, after: str | None,
                facets: bool) -> dict[str, Any]:
    """The request of a store's ``search``: clauses OR'ed, ranked by score, or newest first without clauses."""
    queries = [clause_query(c) for c in clauses if any(c.groups)]
    query = Q("bool", should=queries, minimum_should_match=1, filter=filter_queries(filters)) if queries \
        else Q("bool", filter=filter_queries(filters))
    s = Search().query(query).source(excludes=NOT_RETURNED).extra(size=limit, track_total_hits=True)
    s = s.sort("_score", "id") if queries else s.sort({"decision_date": {"order": "desc"}}, "id")
    if after:
        s = s.extra(search_after=json.loads(after))
    if facets:
        for name in FACETS:
            s.aggs.bucket(name, A("terms", field=name, size=20))
        s.aggs.bucket("year", A("date_histogram", field="decision_date", calendar_interval="year", format="yyyy",
                                min_doc_count=1))
    return dict(s.to_dict())


def filtered_body(filters: Filters, *more: Any, size: int, newest_first: bool = False) -> dict[str, Any]:
    """Records the filters and ``more`` queries allow, without their token streams."""
    s = Search().query(Q("bool", filter=[*filter_queries(filters), *more])).source(excludes=NOT_RETURNED)
    if newest_first:
        s = s.sort({"decision_date": {"order": "desc"}})
    return dict(s.extra(size=size).to_dict())


# Subjects refreshed per aggregation: each brings one bucket, one per code column, and up to FORMS_PER_SUBJECT
# autocomplete forms and as many names; the engines refuse a search that makes more than 65,535 buckets
# (search.max_buckets), which a batch of a few thousand subjects would.
FORMS_PER_SUBJECT = 50
SUBJECTS_PER_REFRESH = 65_535 // (1 + 3 + 2 * FORMS_PER_SUBJECT)


def subjects_refresh_body(keys: Sequence[str]) -> dict[str, Any]:
    """Per subject key (at most SUBJECTS_PER_REFRESH of them): its newest record's name and category, codes,
    autocomplete forms and names."""
    s = Search().filter("terms", subject_key=sorted(keys)).extra(size=0)
    bucket = s.aggs.bucket("subjects", A("terms", field="subject_key", size=len(keys)))
    bucket.metric("latest", A("top_hits", size=1, sort=[{"decision_date": {"order": "desc"}}],
                              _source=["subject_name", "body.subject_category"]))
    for name in ("subject_code", "org_code", "reg_no"):
        bucket.metric(name, A("terms", field=name, size=1, order={"_key": "desc"}))
    bucket.metric("forms", A("terms", field="suggest_forms", size=FORMS_PER_SUBJECT))
    bucket.metric("names", A("terms", field="subject_name", size=FORMS_PER_SUBJECT))
    return dict(s.to_dict())


def frequencies_body(column: str, terms: Sequence[str]) -> dict[str, Any]:
    s = Search().extra(size=0)
    s.aggs.bucket("df", A("filters", filters={t: {"term": {column: t}} for t in terms}))
    return dict(s.to_dict())


def visible_counts_body(filters: Filters, keys: Sequence[str]) -> dict[str, Any]:
    s = Search().query(Q("bool", filter=filter_queries(filters))).extra(size=0)
    s.aggs.bucket("subjects", A("terms", field="subject_key", size=len(keys)))
    return dict(s.to_dict())


def subjects_by_code_body(codes: Sequence[str]) -> dict[str, Any]:
    return dict(Search().query(Q("bool", should=[
        Q("terms", code=list(codes)), Q("terms", org_code=list(codes)), Q("terms", reg_no=list(codes))],
        minimum_should_match=1)).extra(size=100).to_dict())


def subject_names_body(key: str) -> dict[str, Any]:
    s = Search().filter("term", subject_key=key).extra(size=0)
    s.aggs.bucket("names", A("terms", field="subject_name", size=50)).metric(
        "seen", A("max", field="decision_date", format="strict_date"))
    return dict(s.to_dict())


def suggest_body(prefix: str, limit: int) -> dict[str, Any]:
    s = Search().query(Q("bool", filter=[Q("prefix", suggest_forms=prefix)]))
    return dict(s.sort({"record_count": {"order": "desc"}}, "name").extra(size=limit).to_dict())


def text_count_body() -> dict[str, Any]:
    s = Search().exclude("term", semantic_key="").extra(size=0)
    # Approximate above the threshold (HyperLogLog): enough to tell when a corpus has doubled.
    s.aggs.metric("texts", A("cardinality", field="semantic_key", precision_threshold=40000))
    return dict(s.to_dict())


def pending_body(encoder_id: str, limit: int, after: dict[str, Any] | None) -> dict[str, Any]:
    """One page of distinct semantic keys (with a text) of records that lack this encoder's vector."""
    s = Search().query(Q("bool", filter=[Q("exists", field="semantic_key")],
                         must_not=[Q("term", embedding_encoder=encoder_id)])).extra(size=0)
    paging: dict[str, Any] = {"after": after} if after else {}  # the first page has no after key
    composite = A("composite", size=limit, sources=[{"key": A("terms", field="semantic_key")}], **paging)
    s.aggs.bucket("keys", composite).metric("text", A("top_hits", size=1, _source=["semantic_text"]))
    return dict(s.to_dict())


def attach_body(encoder_id: str, vectors: dict[str, list[float]]) -> dict[str, Any]:
    """An update-by-query setting the vector of every record whose semantic key is in ``vectors``."""
    return {"query": Q("terms", semantic_key=sorted(vectors)).to_dict(),
            "script": {"source": _ATTACH_SCRIPT, "lang": "painless",
                       "params": {"vectors": vectors, "encoder": encoder_id}}}


def document(doc: AnalysedRecord, status: Status, reason: str, when: date | None) -> dict[str, Any]:
    """The stored document of an analysed record with its status."""
    body = json.loads(with_status(doc.body, status, reason, when))
    return {
        "id": doc.id, "record_type": doc.record_type, "subject_key": doc.subject_key,
        "subject_name": doc.subject_name, "subject_code": doc.subject_code, "org_code": doc.org_code,
        "reg_no": doc.reg_no, "document_number": doc.document_number, "authority": doc.authority,
        "district": doc.district, "category": doc.category, "subject_category": doc.subject_category,
        "category_terms": " ".join(doc.category.replace("、", " ").replace(",", " ").split()),
        "decision_date": doc.decision_date, "publish_until": doc.publish_until,
        "status_date": iso_date(when), "amount": doc.amount, "status": status.value,
        "status_reason": reason, "audience": doc.audience, "content_hash": doc.content_hash,
        "name_tokens": doc.name_tokens.decode(), "text_tokens": doc.text_tokens.decode(),
        "suggest_forms": list(doc.suggest_forms),
        "semantic_key": doc.semantic_key, "semantic_text": doc.semantic_text, "body": body,
    }


def facet_values(source: dict[str, Any]) -> tuple[str, ...]:
    return (source.get("record_type", ""), source.get("district", ""), source.get("authority", ""),
            source.get("category", ""), (source.get("decision_date") or "")[:4])
