"""The store for a search engine cluster (Elasticsearch or OpenSearch, through a :class:`EngineClient`): one
versioned index per generation behind an alias, so that a rebuild is served only once it is complete, and a
vector cache that outlives rebuilds."""

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

from indexer.analysis import AnalysedRecord
from indexer.model import Record, RecordType, Status, iso_date, record_from_dict, record_to_dict
from stores import engine_queries as eq
from stores.base import Clause, Filters, Hit, HitPage, StoreUnavailable, Subject, UpsertCounts, Visibility
from stores.engine_client import EngineClient


def _hit(h: dict[str, Any], score: float, cursor: str) -> Hit:
    source = h["_source"]
    day = date.fromisoformat(source["decision_date"]) if source.get("decision_date") else None
    return Hit(source["subject_name"], day, score, cursor, source["body"], source["subject_key"], h["_id"],
               eq.facet_values(source))


def _subject(source: dict[str, Any]) -> Subject:
    return Subject(key=source["key"], name=source["name"], code=source.get("code", ""),
                   category=source.get("category", ""), record_count=int(source.get("record_count", 0)),
                   names=tuple(source.get("names") or (source["name"],)))


class EngineStore:
    """Records and subjects in two aliased indices, ``ALIAS`` and ``ALIAS-subjects``, and vectors cached in
    ``ALIAS-vectors``."""

    def __init__(self, client: EngineClient, alias: str, replicas: int = 1) -> None:
        self.client = client
        self.alias = alias
        self.subjects_alias = f"{alias}-subjects"
        self.vectors_index = f"{alias}-vectors"  # not versioned: cached vectors outlive index rebuilds
        self.replicas = replicas
        self._write_records = alias
        self._write_subjects = self.subjects_alias
        self._ensured = False
        self._vector_fields: set[str] = set()  # indices known to map the vector field

    def _unavailable(self, what: str, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"{self.client.name} {what}: {exc}")

    # -- index generations ---------------------------------------------------------------------------
    def _create_generation(self) -> tuple[str, str]:
        stamp = time.strftime("%Y%m%d%H%M%S") + f"{time.time_ns() % 1000000:06d}"
        records, subjects = f"{self.alias}-v{stamp}", f"{self.subjects_alias}-v{stamp}"
        self.client.create_index(records, eq.index_body(eq.records_mapping(), replicas=self.replicas,
                                                        extra_settings=self.client.vector_settings()))
        self.client.create_index(subjects, eq.index_body(eq.subjects_mapping(), replicas=self.replicas))
        return records, subjects

    def _ensure(self) -> None:
        if self._ensured:
            return
        try:
            if not self.client.alias_exists(self.alias):
                records, subjects = self._create_generation()
                self.client.update_aliases([{"add": {"index": records, "alias": self.alias}},
                                            {"add": {"index": subjects, "alias": self.subjects_alias}}])
            if not self.client.index_exists(self.vectors_index):
                self.client.create_index(self.vectors_index,
                                         eq.index_body(eq.vectors_mapping(), replicas=self.replicas))
        except self.client.errors as exc:
            raise self._unavailable("unreachable", exc) from exc
        self._ensured = True

    def begin_rebuild(self) -> None:
        """Write the following loads into a new generation; readers keep the old one until
        :meth:`finish_rebuild` swaps the aliases."""
        self._ensure()
        self._write_records, self._write_subjects = self._create_generation()
        # Bulk loads run several times faster without periodic refreshes; upsert refreshes explicitly where
        # it needs to read its own writes.
        self.client.put_settings(self._write_records, {"index": {"refresh_interval": "-1"}})

    def finish_rebuild(self) -> None:
        """Swap both aliases to the new generation in one atomic call and drop the old generation."""
        old = self.client.alias_indices(self.alias) + self.client.alias_indices(self.subjects_alias)
        self.client.put_settings(self._write_records, {"index": {"refresh_interval": "1s"}})
        self.client.refresh([self._write_records, self._write_subjects])
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": a}} for i in old
                                         for a in (self.alias, self.subjects_alias) if i.startswith(a + "-v")]
        actions += [{"add": {"index": self._write_records, "alias": self.alias}},
                    {"add": {"index": self._write_subjects, "alias": self.subjects_alias}}]
        self.client.update_aliases(actions)
        for index in old:
            self.client.delete_index(index)
        self._write_records, self._write_subjects = self.alias, self.subjects_alias

    # -- writing -------------------------------------------------------------------------------------
    def _bulk(self, actions: list[dict[str, Any]], missing_ok: bool = False) -> None:
        for ok, item in self.client.bulk(actions):
            if not ok and not (missing_ok and item.get("delete", {}).get("status") == 404):
                raise StoreUnavailable(f"{self.client.name} bulk write failed: {item}")

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        # The engines have no transactions: each batch is its own bulk request and subject refresh.
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
        existing = self.client.mget_sources(self._write_records, list(latest),
                                            ["content_hash", "subject_key", "status", "status_reason",
                                             "status_date"])
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
                            "_source": eq.document(doc, status, reason, when)})
        self._bulk(actions)
        self.client.refresh([self._write_records])
        self._refresh_subjects(touched)
        return counts

    def _refresh_subjects(self, keys: set[str]) -> None:
        if not keys:
            return
        ordered = sorted(keys)
        buckets: list[dict[str, Any]] = []
        for start in range(0, len(ordered), eq.SUBJECTS_PER_REFRESH):
            body = eq.subjects_refresh_body(ordered[start:start + eq.SUBJECTS_PER_REFRESH])
            buckets += self._search(self._write_records, body)["aggregations"]["subjects"]["buckets"]
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
        self._bulk(actions, missing_ok=True)
        self.client.refresh([self._write_subjects])

    def flush(self) -> None:
        """Subjects are refreshed with each batch here: aggregations over the batch's keys are cheap."""

    def set_status(self, record_id: str, status: Status, reason: str, when: date | None) -> bool:
        record = self.get(record_id)
        if record is None:
            return False
        record.status, record.status_reason, record.status_date = status, reason, when
        self.client.update_doc(self.alias, record_id, {
            "status": status.value, "status_reason": reason, "status_date": iso_date(when),
            "body": record_to_dict(record)})
        source = self.client.get_source(self.alias, record_id, ["subject_key"])
        self._refresh_subjects({source["subject_key"]})
        return True

    # -- reading -------------------------------------------------------------------------------------
    def _search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.client.search(index, body)
        except self.client.errors as exc:
            raise self._unavailable("search failed", exc) from exc

    def get(self, record_id: str) -> Record | None:
        self._ensure()
        try:
            source = self.client.get_source(self.alias, record_id, ["body"])
        except self.client.not_found:
            return None
        return record_from_dict(source["body"])

    def count(self, record_type: RecordType | None = None) -> int:
        self._ensure()
        query = {"term": {"record_type": record_type.value}} if record_type else {"match_all": {}}
        return self.client.count(self.alias, query)

    def checksum(self) -> str:
        self._ensure()
        rows = sorted(
            (h["_source"]["id"], h["_source"]["content_hash"], h["_source"]["status"], h["_source"]["status_reason"])
            for h in self.client.scan(self.alias, ["id", "content_hash", "status", "status_reason"]))
        digest = hashlib.sha256()
        for row in rows:
            digest.update("|".join(map(str, row)).encode() + b"\n")
        return digest.hexdigest()

    def search(self, clauses: Sequence[Clause], filters: Filters, limit: int, after: str | None = None,
               facets: bool = False) -> HitPage:
        self._ensure()
        response = self._search(self.alias, eq.search_body(clauses, filters, limit, after, facets))
        hits = [_hit(h, float(h["_score"] or 0.0), json.dumps(list(h["sort"]))) for h in response["hits"]["hits"]]
        facet_map: dict[str, dict[str, int]] = {}
        if facets:
            aggregations = response["aggregations"]
            for name in (*eq.FACETS, "year"):
                facet_map[name] = {str(b["key_as_string"] if name == "year" else b["key"]): int(b["doc_count"])
                                   for b in aggregations[name]["buckets"]}
        return HitPage(hits, int(response["hits"]["total"]["value"]), facet_map)

    def document_frequencies(self, field: Literal["name", "text"], terms: Sequence[str]) -> dict[str, int]:
        if not terms:
            return {}
        self._ensure()
        column = "name_tokens" if field == "name" else "text_tokens"
        buckets = self._search(self.alias, eq.frequencies_body(column, terms))["aggregations"]["df"]["buckets"]
        return {t: int(buckets[t]["doc_count"]) for t in terms}

    def records_of(self, subject_keys: Sequence[str], filters: Filters) -> list[Record]:
        if not subject_keys:
            return []
        self._ensure()
        body = eq.filtered_body(filters, {"terms": {"subject_key": list(subject_keys)}}, size=1000,
                                newest_first=True)
        return [record_from_dict(h["_source"]["body"]) for h in self._search(self.alias, body)["hits"]["hits"]]

    def visible_counts(self, subject_keys: Sequence[str], visibility: Visibility) -> dict[str, int]:
        if not subject_keys:
            return {}
        self._ensure()
        keys = list(dict.fromkeys(subject_keys))
        body = eq.visible_counts_body(Filters(visibility=visibility, subject_keys=tuple(keys)), keys)
        buckets = self._search(self.alias, body)["aggregations"]["subjects"]["buckets"]
        return {str(b["key"]): int(b["doc_count"]) for b in buckets}

    def by_document_number(self, number: str, filters: Filters) -> list[Record]:
        self._ensure()
        body = eq.filtered_body(filters, {"term": {"document_number": number}}, size=100)
        return [record_from_dict(h["_source"]["body"]) for h in self._search(self.alias, body)["hits"]["hits"]]

    def subjects_by_code(self, codes: Sequence[str]) -> list[Subject]:
        if not codes:
            return []
        self._ensure()
        hits = self._search(self.subjects_alias, eq.subjects_by_code_body(codes))["hits"]["hits"]
        return [_subject(h["_source"]) for h in hits]

    def subject(self, key: str) -> Subject | None:
        self._ensure()
        try:
            return _subject(self.client.get_source(self.subjects_alias, key))
        except self.client.not_found:
            return None

    def subject_names(self, key: str) -> list[tuple[str, str]]:
        self._ensure()
        buckets = self._search(self.alias, eq.subject_names_body(key))["aggregations"]["names"]["buckets"]
        names = [(str(b["key"]), str(b["seen"].get("value_as_string") or "")) for b in buckets]
        return sorted(names, key=lambda n: n[1], reverse=True)

    def suggest(self, prefix: str, limit: int) -> list[Subject]:
        if not prefix:
            return []
        self._ensure()
        hits = self._search(self.subjects_alias, eq.suggest_body(prefix, limit))["hits"]["hits"]
        return [_subject(h["_source"]) for h in hits]

    def iter_subjects(self) -> Iterator[Subject]:
        self._ensure()
        for hit in self.client.scan(self.subjects_alias):
            yield _subject(hit["_source"])

    def subjects_complete(self) -> bool:
        """Always: each bulk batch refreshes its subjects before the next one is written."""
        return True

    def subjects_generation(self) -> str:
        self._ensure()
        try:
            indexed, deleted = self.client.indexing_totals(self.subjects_alias)
        except self.client.errors as exc:
            raise self._unavailable("unreachable", exc) from exc
        return f"{indexed}:{deleted}"

    # -- vectors -------------------------------------------------------------------------------------
    def vectors_unavailable(self) -> str:
        return self.client.vectors_unavailable()

    def _semantic_pages(self, index: str, encoder_id: str, limit: int) -> Iterator[list[tuple[str, str]]]:
        after: dict[str, Any] | None = None
        while True:
            agg = self._search(index, eq.pending_body(encoder_id, min(limit, 1000), after))["aggregations"]["keys"]
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
        return int(self._search(self.alias, eq.text_count_body())["aggregations"]["texts"]["value"])

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
        or a rebuilt index) are attached here instead of being listed. Nothing when the engine cannot hold
        vectors."""
        self._ensure()
        if self.client.vectors_unavailable():
            return []
        while True:
            page = next(self._semantic_pages(self._write_records, encoder_id, limit), [])
            if not page:
                return []
            found = self.client.mget_sources(self.vectors_index, [self._vector_id(encoder_id, k) for k, _ in page])
            cached = {s["key"]: np.frombuffer(base64.b64decode(s["vector"]), dtype=np.float32).tolist()
                      for s in found.values()}
            missing = [(k, t) for k, t in page if k not in cached]
            if cached:
                self._attach(encoder_id, cached)
            if missing:
                return missing

    @staticmethod
    def _vector_id(encoder_id: str, key: str) -> str:
        return f"{encoder_id}:{key}"

    def _attach(self, encoder_id: str, vectors: dict[str, list[float]]) -> None:
        index = self._write_records
        try:
            if index not in self._vector_fields:
                # The first vectors set the field's dimensions (another encoder with other dimensions needs
                # `credit-search index --rebuild`).
                dims = len(next(iter(vectors.values())))
                self.client.put_mapping(index, {eq.VECTOR_FIELD: self.client.vector_mapping(dims)})
                self._vector_fields.add(index)
            self.client.update_by_query(index, eq.attach_body(encoder_id, vectors))
        except self.client.errors as exc:
            raise self._unavailable("attaching vectors failed", exc) from exc

    def put_embeddings(self, encoder_id: str, keys: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        self._ensure()
        if reason := self.client.vectors_unavailable():
            raise StoreUnavailable(reason)
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
        self.client.refresh([self._write_records])
        return self.vector_count(encoder_id)

    def stored_vector_count(self, encoder_id: str) -> int:
        self._ensure()
        return self.client.count(self.vectors_index, {"term": {"encoder": encoder_id}})

    def vector_count(self, encoder_id: str) -> int:
        self._ensure()
        if self.client.vectors_unavailable():
            return 0
        return self.client.count(self.alias, {"term": {"embedding_encoder": encoder_id}})

    def vector_search(self, encoder_id: str, vector: npt.NDArray[np.float32], filters: Filters,
                      limit: int) -> list[Hit]:
        self._ensure()
        if reason := self.client.vectors_unavailable():
            raise StoreUnavailable(reason)
        query = eq.filter_body(filters)
        query["bool"]["filter"].append({"term": {"embedding_encoder": encoder_id}})
        body = {**self.client.knn_body([float(x) for x in vector], limit, query),
                "_source": {"excludes": eq.NOT_RETURNED}, "size": limit}
        return [_hit(h, self.client.cosine(float(h["_score"] or 0.0)), f"v:{h['_id']}")
                for h in self._search(self.alias, body)["hits"]["hits"]]

    def ping(self) -> None:
        try:
            if not self.client.ping():
                raise StoreUnavailable(f"{self.client.name} did not answer")
        except self.client.errors as exc:
            raise self._unavailable("unreachable", exc) from exc
        self._ensure()

    def close(self) -> None:
        self.client.close()
