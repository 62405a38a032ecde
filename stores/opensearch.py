"""OpenSearch (2.x) through ``opensearch-py``: the engine store's adapter. Vectors are ``knn_vector`` fields
searched with the ``knn`` query where the k-NN plugin is installed (the production distributions have it);
without it, semantic search says so and keyword search serves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from typing import Any

from opensearchpy import NotFoundError, OpenSearch, OpenSearchException, helpers

from stores.base import StoreUnavailable
from stores.engine_store import EngineStore

NO_KNN = "此 OpenSearch 未安装 k-NN 插件，语义检索不可用（关键词检索正常）"


class OpenSearchClient:
    """The :class:`stores.engine_client.EngineClient` of OpenSearch."""

    name = "OpenSearch"
    errors: tuple[type[Exception], ...] = (OpenSearchException,)
    not_found: type[Exception] = NotFoundError

    def __init__(self, url: str, user: str = "", password: str = "", verify_certs: bool = True) -> None:
        auth = (user, password) if user else None
        self.os = OpenSearch(url, http_auth=auth, verify_certs=verify_certs, timeout=30, retry_on_timeout=True,
                             max_retries=3)

    def create_index(self, index: str, body: dict[str, Any]) -> None:
        self.os.indices.create(index=index, body=body)

    def index_exists(self, index: str) -> bool:
        return bool(self.os.indices.exists(index=index))

    def alias_exists(self, alias: str) -> bool:
        return bool(self.os.indices.exists_alias(name=alias))

    def alias_indices(self, alias: str) -> list[str]:
        return list(self.os.indices.get_alias(name=alias))

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        self.os.indices.update_aliases(body={"actions": actions})

    def put_settings(self, index: str, settings: dict[str, Any]) -> None:
        self.os.indices.put_settings(index=index, body=settings)

    def put_mapping(self, index: str, properties: dict[str, Any]) -> None:
        self.os.indices.put_mapping(index=index, body={"properties": properties})

    def refresh(self, indices: Sequence[str]) -> None:
        self.os.indices.refresh(index=",".join(indices))

    def delete_index(self, index: str) -> None:
        self.os.indices.delete(index=index, ignore_unavailable=True)

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.os.search(index=index, body=body))

    def count(self, index: str, query: dict[str, Any]) -> int:
        return int(self.os.count(index=index, body={"query": query})["count"])

    def get_source(self, index: str, doc_id: str, includes: Sequence[str] | None = None) -> dict[str, Any]:
        params = {"_source_includes": ",".join(includes)} if includes else {}
        return dict(self.os.get(index=index, id=doc_id, params=params)["_source"])

    def mget_sources(self, index: str, ids: Sequence[str],
                     includes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        params = {"_source_includes": ",".join(includes)} if includes else {}
        found = self.os.mget(index=index, body={"ids": list(ids)}, params=params)
        return {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}

    def update_doc(self, index: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.os.update(index=index, id=doc_id, body={"doc": doc}, params={"refresh": "true"})

    def update_by_query(self, index: str, body: dict[str, Any]) -> None:
        self.os.update_by_query(index=index, body=body, params={"conflicts": "proceed", "refresh": "true"})

    def bulk(self, actions: Iterable[dict[str, Any]]) -> Iterator[tuple[bool, dict[str, Any]]]:
        # streaming_bulk retries documents rejected with 429 (queue full) with exponential back-off.
        yield from helpers.streaming_bulk(self.os, actions, max_retries=5, initial_backoff=1, max_backoff=30,
                                          raise_on_error=False, chunk_size=1000)

    def scan(self, index: str, source: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        query = {"_source": list(source)} if source else None
        yield from helpers.scan(self.os, query=query, index=index)

    def indexing_totals(self, index: str) -> tuple[int, int]:
        indexing = self.os.indices.stats(index=index, metric="indexing")["_all"]["primaries"]["indexing"]
        return int(indexing["index_total"]), int(indexing["delete_total"])

    def ping(self) -> bool:
        return bool(self.os.ping())

    def close(self) -> None:
        self.os.close()

    @cached_property
    def _has_knn(self) -> bool:
        plugins = self.os.cat.plugins(params={"format": "json"})
        return any(p.get("component") == "opensearch-knn" for p in plugins)

    def vectors_unavailable(self) -> str:
        return "" if self._has_knn else NO_KNN

    def vector_settings(self) -> dict[str, Any]:
        return {"knn": True} if self._has_knn else {}

    def vector_mapping(self, dims: int) -> dict[str, Any]:
        return {"type": "knn_vector", "dimension": dims,
                "method": {"name": "hnsw", "engine": "lucene", "space_type": "cosinesimil"}}

    def knn_body(self, vector: list[float], k: int, filter_query: dict[str, Any]) -> dict[str, Any]:
        # The lucene engine applies the filter while it searches the graph, so k results survive the filter.
        return {"query": {"knn": {"embedding": {"vector": vector, "k": k, "filter": filter_query}}}}

    def cosine(self, score: float) -> float:
        return score * 2 - 1  # the lucene engine scores cosinesimil as (1 + cos) / 2


class OpenSearchStore(EngineStore):
    """The engine store on OpenSearch at ``url`` (``CREDIT_SEARCH_OPENSEARCH_URL``)."""

    def __init__(self, url: str, alias: str, user: str = "", password: str = "", verify_certs: bool = True,
                 replicas: int = 1) -> None:
        if not url:
            raise StoreUnavailable("CREDIT_SEARCH_OPENSEARCH_URL is not set")
        super().__init__(OpenSearchClient(url, user, password, verify_certs), alias, replicas)
