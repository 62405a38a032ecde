"""The Elasticsearch store: one versioned index per generation behind an alias, documents carrying the
tokens that ``analyzers`` made (whitespace tokenizer, so no Chinese plugin is needed), a synonym_graph
search analyser fed from ``synonyms/``, and a dense_vector slot for semantic search.

Mappings and queries are built with the client's own DSL (``elasticsearch.dsl``), which checks their shape
as they are built; the builders are plain functions so they can be tested without a cluster.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers
from elasticsearch.dsl import (
    A,
    Binary,
    Date,
    DenseVector,
    Integer,
    Keyword,
    Mapping,
    Object,
    Q,
    ScaledFloat,
    Search,
    Text,
    UpdateByQuery,
    analyzer,
    token_filter,
)

from indexer.analysis import AnalysedRecord, with_status
from indexer.model import Record, RecordType, Status, iso_date, record_from_dict, record_to_dict
from stores.base import Clause, Filters, Hit, HitPage, StoreUnavailable, Subject, UpsertCounts, Visibility
from synonyms import load_domain_terms

_KEYWORDS = ("id", "record_type", "subject_key", "subject_code", "org_code", "reg_no", "document_number",
             "authority", "district", "category", "status", "audience", "content_hash", "suggest_forms",
             "semantic_key", "embedding_encoder", "subject_category")
# Stored fields that readers never need back: a hit returns its body, not its vector and token streams.
_NOT_RETURNED = ["embedding", "semantic_text", "name_tokens", "text_tokens", "suggest_forms"]
# Sets every matching record's vector from params.vectors (semantic key → vector) and names its encoder.
_ATTACH_SCRIPT = ("ctx._source.embedding = params.vectors[ctx._source.semantic_key]; "
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
    """The records mapping, generated from the record model's stored fields."""
    index_side, search_side = _analysers()
    m = Mapping()
    for name in _KEYWORDS:
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
    # No dims: the first vector sets them, so any encoder fits a new index (another encoder with other
    # dimensions needs `credit-search index --rebuild`).
    m.field("embedding", DenseVector(index=True, similarity="cosine"))
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


def index_body(mapping: Mapping, shards: int = 1, replicas: int = 1) -> dict[str, Any]:
    """Settings and mappings for a new index generation. See docs/deploy-elasticsearch.md for sizing."""
    index_side, search_side = _analysers()
    analysis: dict[str, Any] = {}
    for a in (index_side, search_side):
        for section, entries in a.get_analysis_definition().items():
            analysis.setdefault(section, {}).update(entries)
    return {"settings": {"number_of_shards": shards, "number_of_replicas": replicas, "analysis": analysis},
            "mappings": mapping.to_dict()}


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


def build_search(index: str, clauses: Sequence[Clause], filters: Filters, limit: int, after: str | None,
                 facets: bool) -> Search:
    """The search request for :meth:`ElasticStore.search`."""
    queries = [clause_query(c) for c in clauses if any(c.groups)]
    query = Q("bool", should=queries, minimum_should_match=1, filter=filter_queries(filters)) if queries \
        else Q("bool", filter=filter_queries(filters))
    s = Search(index=index).query(query).source(excludes=_NOT_RETURNED).extra(size=limit, track_total_hits=True)
    s = s.sort("_score", "id") if queries else s.sort({"decision_date": {"order": "desc"}}, "id")
    if after:
        s = s.extra(search_after=json.loads(after))
    if facets:
        for name in ("record_type", "district", "authority", "category"):
            s.aggs.bucket(name, A("terms", field=name, size=20))
        s.aggs.bucket("year", A("date_histogram", field="decision_date", calendar_interval="year", format="yyyy",
                                min_doc_count=1))
    return s


def _document(doc: AnalysedRecord, status: Status, reason: str, when: date | None) -> dict[str, Any]:
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


def build_pending(index: str, encoder_id: str, limit: int, after: dict[str, Any] | None) -> Search:
    """One page of distinct semantic keys (with a text) of records that lack this encoder's vector."""
    s = Search(index=index).query(Q("bool", filter=[Q("exists", field="semantic_key")],
                                    must_not=[Q("term", embedding_encoder=encoder_id)])).extra(size=0)
    paging: dict[str, Any] = {"after": after} if after else {}  # the first page has no after key
    composite = A("composite", size=limit, sources=[{"key": A("terms", field="semantic_key")}], **paging)
    s.aggs.bucket("keys", composite).metric("text", A("top_hits", size=1, _source=["semantic_text"]))
    return s


def build_knn(index: str, encoder_id: str, vector: Sequence[float], filters: Filters, limit: int) -> Search:
    """Approximate nearest neighbours among the records the filters allow, with this encoder's vectors."""
    wanted = [*filter_queries(filters), Q("term", embedding_encoder=encoder_id)]
    return Search(index=index).knn(field="embedding", k=limit, num_candidates=max(100, 4 * limit),
                                   query_vector=list(vector), filter=Q("bool", filter=wanted)
                                   ).source(excludes=_NOT_RETURNED).extra(size=limit)


def build_attach(index: str, encoder_id: str, vectors: dict[str, list[float]]) -> UpdateByQuery:
    """Set the vector of every record whose semantic key is in ``vectors``."""
    return UpdateByQuery(index=index).query(Q("terms", semantic_key=sorted(vectors))).script(
        source=_ATTACH_SCRIPT, params={"vectors": vectors, "encoder": encoder_id}).params(conflicts="proceed")


def _facet_values(source: dict[str, Any]) -> tuple[str, ...]:
    return (source.get("record_type", ""), source.get("district", ""), source.get("authority", ""),
            source.get("category", ""), (source.get("decision_date") or "")[:4])


def _hits(response: Any) -> list[dict[str, Any]]:
    """The raw hits of a DSL response as plain dicts (the DSL's attribute wrappers are not dicts)."""
    return list(response.to_dict()["hits"]["hits"])


class ElasticStore:
    """Records and subjects in two aliased indices: ``ALIAS`` and ``ALIAS-subjects``."""

    def __init__(self, url: str, alias: str, api_key: str | None = None, replicas: int = 1) -> None:
        if not url:
            raise StoreUnavailable("CREDIT_SEARCH_ES_URL is not set")
        self.client = Elasticsearch(url, api_key=api_key, request_timeout=30, retry_on_timeout=True, max_retries=3)
        self.alias = alias
        self.subjects_alias = f"{alias}-subjects"
        self.vectors_index = f"{alias}-vectors"  # not versioned: cached vectors outlive index rebuilds
        self.replicas = replicas
        self._write_records = alias
        self._write_subjects = self.subjects_alias
        self._ensured = False

    # -- index generations ---------------------------------------------------------------------------
    def _create_generation(self) -> tuple[str, str]:
        stamp = time.strftime("%Y%m%d%H%M%S") + f"{time.time_ns() % 1000000:06d}"
        records, subjects = f"{self.alias}-v{stamp}", f"{self.subjects_alias}-v{stamp}"
        self.client.indices.create(index=records, body=index_body(records_mapping(), replicas=self.replicas))
        self.client.indices.create(index=subjects, body=index_body(subjects_mapping(), replicas=self.replicas))
        return records, subjects

    def _ensure(self) -> None:
        if self._ensured:
            return
        try:
            if not self.client.indices.exists_alias(name=self.alias):
                records, subjects = self._create_generation()
                self.client.indices.update_aliases(actions=[
                    {"add": {"index": records, "alias": self.alias}},
                    {"add": {"index": subjects, "alias": self.subjects_alias}}])
            if not self.client.indices.exists(index=self.vectors_index):
                self.client.indices.create(index=self.vectors_index,
                                           body=index_body(vectors_mapping(), replicas=self.replicas))
        except TransportError as exc:
            raise StoreUnavailable(f"Elasticsearch unreachable: {exc}") from exc
        self._ensured = True

    def begin_rebuild(self) -> None:
        """Write the following loads into a new generation; readers keep the old one until
        :meth:`finish_rebuild` swaps the aliases."""
        self._ensure()
        self._write_records, self._write_subjects = self._create_generation()
        # Bulk loads run several times faster without periodic refreshes; upsert refreshes explicitly where
        # it needs to read its own writes.
        self.client.indices.put_settings(index=self._write_records, settings={"index": {"refresh_interval": "-1"}})

    def finish_rebuild(self) -> None:
        """Swap both aliases to the new generation in one atomic call and drop the old generation."""
        old = list(self.client.indices.get_alias(name=self.alias)) + \
            list(self.client.indices.get_alias(name=self.subjects_alias))
        self.client.indices.put_settings(index=self._write_records, settings={"index": {"refresh_interval": "1s"}})
        self.client.indices.refresh(index=[self._write_records, self._write_subjects])
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": a}} for i in old
                                         for a in (self.alias, self.subjects_alias) if i.startswith(a + "-v")]
        actions += [{"add": {"index": self._write_records, "alias": self.alias}},
                    {"add": {"index": self._write_subjects, "alias": self.subjects_alias}}]
        self.client.indices.update_aliases(actions=actions)
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)
        self._write_records, self._write_subjects = self.alias, self.subjects_alias

    # -- writing -------------------------------------------------------------------------------------
    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        # streaming_bulk retries documents rejected with 429 (queue full) with exponential back-off.
        for ok, item in helpers.streaming_bulk(self.client, actions, max_retries=5, initial_backoff=1,
                                               max_backoff=30, raise_on_error=False, chunk_size=1000):
            if not ok:
                raise StoreUnavailable(f"bulk write failed: {item}")

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        # Elasticsearch has no transactions: each batch is its own bulk request and subject refresh.
        counts = UpsertCounts()
        for docs in batches:
            counts.add(self.upsert(docs))
        return counts

    def upsert(self, docs: Sequence[AnalysedRecord]) -> UpsertCounts:
        self._ensure()
        counts = UpsertCounts()
        latest = {d.id: d for d in docs}
        counts.unchanged += len(docs) - len(latest)
        if not latest:
            return counts
        found = self.client.mget(index=self._write_records, ids=list(latest),
                                 source_includes=["content_hash", "subject_key", "status", "status_reason",
                                                  "status_date"])
        existing = {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}
        actions: list[dict[str, Any]] = []
        touched: set[str] = set()
        for doc in latest.values():
            old = existing.get(doc.id)
            if old is not None and old["content_hash"] == doc.content_hash:
                counts.unchanged += 1
                continue
            status, reason, when = Status.ACTIVE, "", None
            if old is not None and old["status"] != Status.ACTIVE:
                status, reason = Status(old["status"]), old.get("status_reason", "")
                when = date.fromisoformat(old["status_date"]) if old.get("status_date") else None
            if old is None:
                counts.inserted += 1
            else:
                counts.updated += 1
                touched.add(old["subject_key"])
            touched.add(doc.subject_key)
            actions.append({"_op_type": "index", "_index": self._write_records, "_id": doc.id,
                            "_source": _document(doc, status, reason, when)})
        self._bulk(actions)
        self.client.indices.refresh(index=self._write_records)
        self._refresh_subjects(touched)
        return counts

    def _refresh_subjects(self, keys: set[str]) -> None:
        if not keys:
            return
        s = Search(using=self.client, index=self._write_records).filter("terms", subject_key=sorted(keys)).extra(size=0)
        bucket = s.aggs.bucket("subjects", A("terms", field="subject_key", size=len(keys)))
        bucket.metric("latest", A("top_hits", size=1, sort=[{"decision_date": {"order": "desc"}}],
                                  _source=["subject_name", "body.subject_category"]))
        for name in ("subject_code", "org_code", "reg_no"):
            bucket.metric(name, A("terms", field=name, size=1, order={"_key": "desc"}))
        bucket.metric("forms", A("terms", field="suggest_forms", size=50))
        bucket.metric("names", A("terms", field="subject_name", size=50))
        buckets = s.execute().to_dict()["aggregations"]["subjects"]["buckets"]
        actions: list[dict[str, Any]] = []
        seen = set()
        for b in buckets:
            seen.add(b["key"])
            top = b["latest"]["hits"]["hits"][0]["_source"]
            first = {name: str(b[name]["buckets"][0]["key"]) if b[name]["buckets"] else ""
                     for name in ("subject_code", "org_code", "reg_no")}
            actions.append({"_op_type": "index", "_index": self._write_subjects, "_id": b["key"], "_source": {
                "key": b["key"], "name": top["subject_name"], "code": first["subject_code"],
                "org_code": first["org_code"], "reg_no": first["reg_no"],
                "category": top.get("body", {}).get("subject_category", ""), "record_count": b["doc_count"],
                "suggest_forms": [f["key"] for f in b["forms"]["buckets"]],
                "names": [n["key"] for n in b["names"]["buckets"]]}})
        actions += [{"_op_type": "delete", "_index": self._write_subjects, "_id": k} for k in keys - seen]
        for ok, item in helpers.streaming_bulk(self.client, actions, raise_on_error=False, max_retries=5):
            if not ok and item.get("delete", {}).get("status") != 404:
                raise StoreUnavailable(f"subject update failed: {item}")
        self.client.indices.refresh(index=self._write_subjects)

    def flush(self) -> None:
        """Subjects are refreshed with each batch here: aggregations over the batch's keys are cheap."""

    def set_status(self, record_id: str, status: Status, reason: str, when: date | None) -> bool:
        record = self.get(record_id)
        if record is None:
            return False
        record.status, record.status_reason, record.status_date = status, reason, when
        self.client.update(index=self.alias, id=record_id, refresh=True, doc={
            "status": status.value, "status_reason": reason, "status_date": iso_date(when),
            "body": record_to_dict(record)})
        source = self.client.get(index=self.alias, id=record_id, source_includes=["subject_key"])["_source"]
        self._refresh_subjects({source["subject_key"]})
        return True

    # -- reading -------------------------------------------------------------------------------------
    def get(self, record_id: str) -> Record | None:
        self._ensure()
        try:
            found = self.client.get(index=self.alias, id=record_id, source_includes=["body"])
        except NotFoundError:
            return None
        return record_from_dict(found["_source"]["body"])

    def count(self, record_type: RecordType | None = None) -> int:
        self._ensure()
        query = {"term": {"record_type": record_type.value}} if record_type else {"match_all": {}}
        return int(self.client.count(index=self.alias, query=query)["count"])

    def checksum(self) -> str:
        self._ensure()
        rows = sorted(
            (h["_source"]["id"], h["_source"]["content_hash"], h["_source"]["status"], h["_source"]["status_reason"])
            for h in helpers.scan(self.client, index=self.alias,
                                  _source=["id", "content_hash", "status", "status_reason"]))
        digest = hashlib.sha256()
        for row in rows:
            digest.update("|".join(map(str, row)).encode() + b"\n")
        return digest.hexdigest()

    def _run(self, s: Search) -> Any:
        try:
            return s.using(self.client).execute()
        except (TransportError, ApiError) as exc:
            raise StoreUnavailable(f"Elasticsearch search failed: {exc}") from exc

    def search(self, clauses: Sequence[Clause], filters: Filters, limit: int, after: str | None = None,
               facets: bool = False) -> HitPage:
        self._ensure()
        response = self._run(build_search(self.alias, clauses, filters, limit, after, facets))
        hits = [Hit(h["_source"]["subject_name"],
                    date.fromisoformat(h["_source"]["decision_date"]) if h["_source"].get("decision_date") else None,
                    float(h["_score"] or 0.0), json.dumps(list(h["sort"])), h["_source"]["body"],
                    h["_source"]["subject_key"], h["_id"], _facet_values(h["_source"]))
                for h in _hits(response)]
        facet_map: dict[str, dict[str, int]] = {}
        if facets:
            for name in ("record_type", "district", "authority", "category", "year"):
                agg = getattr(response.aggregations, name)
                facet_map[name] = {str(b.key_as_string if name == "year" else b.key): int(b.doc_count)
                                   for b in agg.buckets}
        return HitPage(hits, int(response.hits.total.value), facet_map)

    def document_frequencies(self, field: Literal["name", "text"], terms: Sequence[str]) -> dict[str, int]:
        if not terms:
            return {}
        self._ensure()
        column = "name_tokens" if field == "name" else "text_tokens"
        s = Search(index=self.alias).extra(size=0)
        s.aggs.bucket("df", A("filters", filters={t: {"term": {column: t}} for t in terms}))
        buckets = self._run(s).aggregations.df.buckets
        return {t: int(buckets[t].doc_count) for t in terms}

    def records_of(self, subject_keys: Sequence[str], filters: Filters) -> list[Record]:
        if not subject_keys:
            return []
        self._ensure()
        s = Search(index=self.alias).query(Q("bool", filter=[*filter_queries(filters),
                                                             Q("terms", subject_key=list(subject_keys))]))
        s = s.source(excludes=_NOT_RETURNED)
        s = s.sort({"decision_date": {"order": "desc"}}).extra(size=1000)
        return [record_from_dict(h["_source"]["body"]) for h in _hits(self._run(s))]

    def visible_counts(self, subject_keys: Sequence[str], visibility: Visibility) -> dict[str, int]:
        if not subject_keys:
            return {}
        self._ensure()
        keys = list(dict.fromkeys(subject_keys))
        s = Search(index=self.alias).query(Q("bool", filter=filter_queries(
            Filters(visibility=visibility, subject_keys=tuple(keys))))).extra(size=0)
        s.aggs.bucket("subjects", A("terms", field="subject_key", size=len(keys)))
        return {str(b.key): int(b.doc_count) for b in self._run(s).aggregations.subjects.buckets}

    def by_document_number(self, number: str, filters: Filters) -> list[Record]:
        self._ensure()
        s = Search(index=self.alias).query(Q("bool", filter=[*filter_queries(filters),
                                                             Q("term", document_number=number)])).extra(size=100)
        s = s.source(excludes=_NOT_RETURNED)
        return [record_from_dict(h["_source"]["body"]) for h in _hits(self._run(s))]

    @staticmethod
    def _subject(source: dict[str, Any]) -> Subject:
        return Subject(key=source["key"], name=source["name"], code=source.get("code", ""),
                       category=source.get("category", ""), record_count=int(source.get("record_count", 0)),
                       names=tuple(source.get("names") or (source["name"],)))

    def subjects_by_code(self, codes: Sequence[str]) -> list[Subject]:
        if not codes:
            return []
        self._ensure()
        s = Search(index=self.subjects_alias).query(Q("bool", should=[
            Q("terms", code=list(codes)), Q("terms", org_code=list(codes)), Q("terms", reg_no=list(codes))],
            minimum_should_match=1)).extra(size=100)
        return [self._subject(h["_source"]) for h in _hits(self._run(s))]

    def subject(self, key: str) -> Subject | None:
        self._ensure()
        try:
            return self._subject(self.client.get(index=self.subjects_alias, id=key)["_source"])
        except NotFoundError:
            return None

    def subject_names(self, key: str) -> list[tuple[str, str]]:
        self._ensure()
        s = Search(index=self.alias).filter("term", subject_key=key).extra(size=0)
        s.aggs.bucket("names", A("terms", field="subject_name", size=50)).metric(
            "seen", A("max", field="decision_date", format="strict_date"))
        buckets = self._run(s).aggregations.names.buckets
        names = [(str(b.key), str(b.seen.value_as_string or "")) for b in buckets]
        return sorted(names, key=lambda n: n[1], reverse=True)

    def suggest(self, prefix: str, limit: int) -> list[Subject]:
        if not prefix:
            return []
        self._ensure()
        s = Search(index=self.subjects_alias).query(Q("bool", filter=[Q("prefix", suggest_forms=prefix)]))
        s = s.sort({"record_count": {"order": "desc"}}, "name").extra(size=limit)
        return [self._subject(h["_source"]) for h in _hits(self._run(s))]

    def iter_subjects(self) -> Iterator[Subject]:
        self._ensure()
        for hit in helpers.scan(self.client, index=self.subjects_alias):
            yield self._subject(hit["_source"])

    def subjects_complete(self) -> bool:
        """Always: each bulk batch refreshes its subjects before the next one is written."""
        return True

    def subjects_generation(self) -> str:
        self._ensure()
        try:
            stats = self.client.indices.stats(index=self.subjects_alias, metric="indexing")
        except TransportError as exc:
            raise StoreUnavailable(f"Elasticsearch unreachable: {exc}") from exc
        indexing = stats["_all"]["primaries"]["indexing"]
        return f"{indexing['index_total']}:{indexing['delete_total']}"

    # -- vectors -------------------------------------------------------------------------------------
    def _semantic_pages(self, index: str, encoder_id: str, limit: int) -> Iterator[list[tuple[str, str]]]:
        after: dict[str, Any] | None = None
        while True:
            response = self._run(build_pending(index, encoder_id, min(limit, 1000), after))
            agg = response.to_dict()["aggregations"]["keys"]
            page = [(str(b["key"]["key"]), str(b["text"]["hits"]["hits"][0]["_source"].get("semantic_text", "")))
                    for b in agg["buckets"]]
            if not page:
                return
            yield page
            after = agg.get("after_key")
            if not after:
                return

    def semantic_text_count(self) -> int:
        self._ensure()
        s = Search(using=self.client, index=self.alias).exclude("term", semantic_key="").extra(size=0)
        # Approximate above the threshold (HyperLogLog): enough to tell when a corpus has doubled.
        s.aggs.metric("texts", A("cardinality", field="semantic_key", precision_threshold=40000))
        try:
            response = s.execute()
        except TransportError as exc:
            raise StoreUnavailable(f"Elasticsearch unreachable: {exc}") from exc
        return int(response.aggregations.texts.value)

    def semantic_texts(self, limit: int) -> list[str]:
        self._ensure()
        texts: list[str] = []
        # No encoder has the empty id, so this lists every distinct text.
        for page in self._semantic_pages(self.alias, "", limit):
            texts.extend(t for _, t in page)
            if len(texts) >= limit:
                break
        return texts[:limit]

    def pending_embeddings(self, encoder_id: str, limit: int) -> list[tuple[str, str]]:
        """Texts without a vector; vectors cached by an earlier load (the same text in a changed record,
        or a rebuilt index) are attached here instead of being listed."""
        self._ensure()
        while True:
            page = next(self._semantic_pages(self._write_records, encoder_id, limit), [])
            if not page:
                return []
            ids = [self._vector_id(encoder_id, k) for k, _ in page]
            found = self.client.mget(index=self.vectors_index, ids=ids)["docs"]
            cached = {d["_source"]["key"]: np.frombuffer(base64.b64decode(d["_source"]["vector"]),
                                                         dtype=np.float32).tolist()
                      for d in found if d.get("found")}
            missing = [(k, t) for k, t in page if k not in cached]
            if cached:
                self._attach(encoder_id, cached)
            if missing:
                return missing

    @staticmethod
    def _vector_id(encoder_id: str, key: str) -> str:
        return f"{encoder_id}:{key}"

    def _attach(self, encoder_id: str, vectors: dict[str, list[float]]) -> None:
        try:
            build_attach(self._write_records, encoder_id, vectors).using(self.client).params(refresh=True).execute()
        except (TransportError, ApiError) as exc:
            raise StoreUnavailable(f"attaching vectors failed: {exc}") from exc

    def put_embeddings(self, encoder_id: str, keys: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        self._ensure()
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors")
        rows = [np.asarray(v, dtype=np.float32) for v in vectors]
        self._bulk([{"_op_type": "index", "_index": self.vectors_index, "_id": self._vector_id(encoder_id, k),
                     "_source": {"encoder": encoder_id, "key": k,
                                 "vector": base64.b64encode(v.tobytes()).decode("ascii")}}
                    for k, v in zip(keys, rows, strict=True)])
        self._attach(encoder_id, {k: v.tolist() for k, v in zip(keys, rows, strict=True)})

    def publish_vectors(self, encoder_id: str) -> int:
        self._ensure()
        self.client.indices.refresh(index=self._write_records)
        return self.vector_count(encoder_id)

    def stored_vector_count(self, encoder_id: str) -> int:
        self._ensure()
        return int(self.client.count(index=self.vectors_index, query={"term": {"encoder": encoder_id}})["count"])

    def vector_count(self, encoder_id: str) -> int:
        self._ensure()
        return int(self.client.count(index=self.alias, query={"term": {"embedding_encoder": encoder_id}})["count"])

    def vector_search(self, encoder_id: str, vector: npt.NDArray[np.float32], filters: Filters,
                      limit: int) -> list[Hit]:
        self._ensure()
        response = self._run(build_knn(self.alias, encoder_id, [float(x) for x in vector], filters, limit))
        return [Hit(h["_source"]["subject_name"],
                    date.fromisoformat(h["_source"]["decision_date"]) if h["_source"].get("decision_date") else None,
                    float(h["_score"] or 0.0) * 2 - 1,  # Elasticsearch scores cosine as (1 + cos) / 2
                    f"v:{h['_id']}", h["_source"]["body"], h["_source"]["subject_key"], h["_id"],
                    _facet_values(h["_source"]))
                for h in _hits(response)]

    def ping(self) -> None:
        try:
            if not self.client.ping():
                raise StoreUnavailable("Elasticsearch did not answer")
        except TransportError as exc:
            raise StoreUnavailable(f"Elasticsearch unreachable: {exc}") from exc
        self._ensure()

    def close(self) -> None:
        self.client.close()
