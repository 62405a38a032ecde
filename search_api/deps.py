"""FastAPI dependencies: settings, the search service over the store, and who is asking."""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.datastructures import State

from search_api.conversation.answers import AskService
from search_api.conversation.sessions import SessionStore
from search_api.errors import ApiError
from search_api.publication import PUBLIC_ROLE, Viewer
from search_api.semantic import SemanticSearch
from search_api.service import SearchService
from search_api.settings import ApiSettings
from stores.factory import open_store
from stores.settings import StoreSettings

_open_lock = threading.Lock()
MAX_KEY_CHARS = 4096  # room for long generated keys and signed tokens


# The dependencies are coroutines although they never await: FastAPI runs a plain function dependency in
# the thread pool, and one hop per dependency cost more than a code lookup itself.


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


async def service_dependency(request: Request) -> SearchService:
    """:func:`open_service` as a dependency."""
    return open_service(request.app.state)


def open_service(state: State) -> SearchService:
    """The app's service, opened on first use so that a server started before its first index load, or
    while Elasticsearch is down, starts serving by itself once the store is there (opening it starts the
    name index build); raises :class:`~stores.base.StoreUnavailable` while the store cannot be opened, and
    :class:`~analyzers.encoders.EncoderUnavailable` when the configured model directory is missing."""
    service: SearchService | None = state.service
    if service is None:
        with _open_lock:
            if state.service is None:
                store_settings: StoreSettings = state.store_settings
                store = open_store(store_settings, create=False)
                semantic = SemanticSearch(store, state.encoder_settings, store_settings.data_dir)
                state.service = SearchService(store, state.api_settings, semantic)
            service = state.service
    return service


def open_ask(state: State) -> AskService:
    """The app's question answering, over :func:`open_service`; sessions live in the data directory so
    that every worker process sees them."""
    ask: AskService | None = state.ask
    if ask is None:
        service = open_service(state)
        with _open_lock:
            if state.ask is None:
                settings: ApiSettings = state.api_settings
                store_settings: StoreSettings = state.store_settings
                sessions = SessionStore(store_settings.data_dir / "sessions.sqlite3", settings.ask_session_ttl_seconds,
                                        settings.ask_max_sessions)
                state.ask = AskService(service, sessions)
            ask = state.ask
    return ask


def role_of(key: str, keys: dict[str, str]) -> str | None:
    """The role of a configured key, compared in constant time with every configured key, so that the answer's
    timing tells nothing about how much of a key was right."""
    given = key.encode()
    role = None
    for configured, configured_role in keys.items():
        if hmac.compare_digest(configured.encode(), given):
            role = configured_role
    return role


async def get_viewer(settings: Annotated[ApiSettings, Depends(get_settings)],
                     x_api_key: Annotated[str | None, Header(max_length=MAX_KEY_CHARS,
                                                             description="员工 API Key")] = None) -> Viewer:
    """No key: the public view; a configured key: its role; any other key: 401."""
    if not x_api_key:
        return Viewer(PUBLIC_ROLE)
    role = role_of(x_api_key, settings.api_keys)
    if role is None:
        raise ApiError(401, "invalid_api_key", "API Key 无效")
    # The audit log names the key by a fingerprint: a log must not become a place to steal keys from.
    return Viewer(role, who="key:" + hashlib.sha256(x_api_key.encode()).hexdigest()[:12])


Service = Annotated[SearchService, Depends(service_dependency)]
CurrentViewer = Annotated[Viewer, Depends(get_viewer)]
Settings = Annotated[ApiSettings, Depends(get_settings)]
