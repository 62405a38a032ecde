"""Stores: one narrow interface (:class:`stores.base.Store`), an embedded and an Elasticsearch backend."""
