"""Elasticsearch (8 or 9) through its official client: the engine store's adapter, vectors as dense_vector
searched with the top-level ``knn`` option."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from stores.base import StoreUnavailable
from stores.engine_store import EngineStore


class ElasticClient:
    """The :class:`stores.engine_client.EngineClient` of Elasticsearch."""

    name = "Elasticsearch"
    errors: tuple[type[Exception], ...] = (TransportError, ApiError)
    not_found: type[Exception] = NotFoundError

    def __init__(self, url: str, api_key: str | None = None) -> None:
        self.es = Elasticsearch(url, api_key=api_key, request_timeout=30, retry_on_timeout=True, max_retries=3)

    def create_index(self, index: str, body: dict[str, Any]) -> None:
        self.es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])

    def index_exists(self, index: str) -> bool:
        return bool(self.es.indices.exists(index=index))

    def alias_exists(self, alias: str) -> bool:
        return bool(self.es.indices.exists_alias(name=alias))

    def alias_indices(self, alias: str) -> list[str]:
        return list(self.es.indices.get_alias(name=alias))

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        self.es.indices.update_aliases(actions=actions)

    def put_settings(self, index: str, settings: dict[str, Any]) -> None:
        self.es.indices.put_settings(index=index, settings=settings)

    def put_mapping(self, index: str, properties: dict[str, Any]) -> None:
        self.es.indices.put_mapping(index=index, properties=properties)

    def refresh(self, indices: Sequence[str]) -> None:
        self.es.indices.refresh(index=list(indices))

    def delete_index(self, index: str) -> None:
        self.es.indices.delete(index=index, ignore_unavailable=True)

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.es.search(index=index, body=body))

    def count(self, index: str, query: dict[str, Any]) -> int:
        return int(self.es.count(index=index, query=query)["count"])

    def get_source(self, index: str, doc_id: str, includes: Sequence[str] | None = None) -> dict[str, Any]:
        found = self.es.get(index=index, id=doc_id, source_includes=list(includes) if includes else None)
        return dict(found["_source"])

    def mget_sources(self, index: str, ids: Sequence[str],
                     includes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        found = self.es.mget(index=index, ids=list(ids), source_includes=list(includes) if includes else None)
        return {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}

    def update_doc(self, index: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.es.update(index=index, id=doc_id, doc=doc, refresh=True)

    def update_by_query(self, index: str, body: dict[str, Any]) -> None:
        self.es.update_by_query(index=index, query=body["query"], script=body["script"], conflicts="proceed",
                                refresh=True)

    def bulk(self, actions: Iterable[dict[str, Any]]) -> Iterator[tuple[bool, dict[str, Any]]]:
        # streaming_bulk retries documents rejected with 429 (queue full) with exponential back-off.
        yield from helpers.streaming_bulk(self.es, actions, max_retries=5, initial_backoff=1, max_backoff=30,
                                          raise_on_error=False, chunk_size=1000)

    def scan(self, index: str, source: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        yield from helpers.scan(self.es, index=index, _source=list(source) if source else True)

    def indexing_totals(self, index: str) -> tuple[int, int]:
        indexing = self.es.indices.stats(index=index, metric="indexing")["_all"]["primaries"]["indexing"]
        return int(indexing["index_total"]), int(indexing["delete_total"])

    def ping(self) -> bool:
        return bool(self.es.ping())

    def close(self) -> None:
        self.es.close()

    def vectors_unavailable(self) -> str:
        return ""

    def vector_settings(self) -> dict[str, Any]:
        return {}

    def vector_mapping(self, dims: int) -> dict[str, Any]:
        return {"type": "dense_vector", "dims": dims, "index": True, "similarity": "cosine"}

    def knn_body(self, vector: list[float], k: int, filter_query: dict[str, Any]) -> dict[str, Any]:
        return {"knn": {"field": "embedding", "query_vector": vector, "k": k, "num_candidates": max(100, 4 * k),
                        "filter": filter_query}}

    def cosine(self, score: float) -> float:
        return score * 2 - 1  # Elasticsearch scores cosine as (1 + cos) / 2


class ElasticStore(EngineStore):
    """The engine store on Elasticsearch at ``url`` (``CREDIT_SEARCH_ES_URL``)."""

    def __init__(self, url: str, alias: str, api_key: str | None = None, replicas: int = 1) -> None:
        if not url:
            raise StoreUnavailable("CREDIT_SEARCH_ES_URL is not set")
        super().__init__(ElasticClient(url, api_key), alias, replicas)
