"""Open the store that the settings name."""

from __future__ import annotations

from stores.base import Store, StoreUnavailable
from stores.settings import StoreSettings


def open_store(settings: StoreSettings, create: bool = True) -> Store:
    """The configured store; ``create=False`` refuses to start on an empty embedded data directory. Raises
    :class:`StoreUnavailable` with a Chinese message for settings that name no usable store."""
    if problem := settings.problem():
        raise StoreUnavailable(problem)
    # Each engine's client is only imported where it is used.
    if settings.store == "elasticsearch":
        from stores.elastic import ElasticStore

        return ElasticStore(settings.es_url, settings.es_index, api_key=settings.es_api_key or None)
    if settings.store == "opensearch":
        from stores.opensearch import OpenSearchStore

        return OpenSearchStore(settings.opensearch_url, settings.opensearch_index, settings.opensearch_user,
                               settings.opensearch_password, settings.opensearch_verify_certs)
    from stores.embedded import EmbeddedStore

    return EmbeddedStore(settings.data_dir, create=create)
