"""What the engine store needs from a search engine's client: one small adapter per engine (Elasticsearch,
OpenSearch), as yente keeps one provider class per engine. Requests and responses are plain dicts built by
:mod:`stores.engine_queries`; an adapter only knows its client's calling conventions and how its engine maps
and searches vectors.

Adapters raise the client's own errors; the store turns the ones listed in ``errors`` into
:class:`stores.base.StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol


class EngineClient(Protocol):
    name: str  # the engine's name, for messages
    errors: tuple[type[Exception], ...]  # what the client raises when the engine cannot answer
    not_found: type[Exception]  # what it raises for a missing document

    def create_index(self, index: str, body: dict[str, Any]) -> None: ...

    def index_exists(self, index: str) -> bool: ...

    def alias_exists(self, alias: str) -> bool: ...

    def alias_indices(self, alias: str) -> list[str]: ...

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        """Apply alias actions in one atomic call."""

    def put_settings(self, index: str, settings: dict[str, Any]) -> None: ...

    def put_mapping(self, index: str, properties: dict[str, Any]) -> None: ...

    def refresh(self, indices: Sequence[str]) -> None: ...

    def delete_index(self, index: str) -> None:
        """Delete an index; no error when it is already gone."""

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def count(self, index: str, query: dict[str, Any]) -> int: ...

    def get_source(self, index: str, doc_id: str, includes: Sequence[str] | None = None) -> dict[str, Any]:
        """A document's source; raises ``not_found`` when there is none."""

    def mget_sources(self, index: str, ids: Sequence[str],
                     includes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """The sources of the documents that exist, by id."""

    def update_doc(self, index: str, doc_id: str, doc: dict[str, Any]) -> None:
        """Merge ``doc`` into a document and make it visible to searches at once."""

    def update_by_query(self, index: str, body: dict[str, Any]) -> None:
        """Run a scripted update over the matching documents, visible to searches when it returns."""

    def bulk(self, actions: Iterable[dict[str, Any]]) -> Iterator[tuple[bool, dict[str, Any]]]:
        """Bulk actions, retried with back-off when the engine is busy; one (ok, item) per action."""

    def scan(self, index: str, source: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every document of an index, as hits."""

    def indexing_totals(self, index: str) -> tuple[int, int]:
        """Documents indexed and deleted in the index since it was made: they change with every write."""

    def ping(self) -> bool: ...

    def close(self) -> None: ...

    def vectors_unavailable(self) -> str:
        """Why this engine cannot store and search vectors (Chinese, for /readyz), or "" when it can."""

    def vector_settings(self) -> dict[str, Any]:
        """Index settings that a records index with a vector field needs at creation."""

    def vector_mapping(self, dims: int) -> dict[str, Any]:
        """The mapping of the vector field for vectors of ``dims`` dimensions, compared by cosine."""

    def knn_body(self, vector: list[float], k: int, filter_query: dict[str, Any]) -> dict[str, Any]:
        """A search body for the ``k`` nearest records among those ``filter_query`` allows."""

    def cosine(self, score: float) -> float:
        """The cosine similarity that a k-NN hit's score stands for."""
