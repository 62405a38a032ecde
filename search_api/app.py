"""The FastAPI application: routers, CORS, gzip, request ids, metrics, error envelope."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analyzers.encoders import EncoderSettings
from search_api import errors
from search_api.deps import open_service
from search_api.request_guard import RequestGuard
from search_api.routers import ask, entities, health, pages, screen, search, suggest
from search_api.settings import ApiSettings
from stores.base import StoreUnavailable
from stores.settings import StoreSettings

log = logging.getLogger("credit_search.api")


class Metrics:
    """Request counters and latencies, in a registry of this app's own (tests build several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("credit_search_requests", "HTTP requests", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("credit_search_request_seconds", "HTTP request latency", ["route"],
                                 registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


class RequestContext:
    """Request ids, metrics and the access log, as a plain ASGI middleware: Starlette's BaseHTTPMiddleware
    adds a task and a body stream to every request, which cost more than a code lookup."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = given or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            log.info("request_id=%s method=%s path=%s status=%s ms=%.1f", request_id, scope["method"],
                     scope["path"], status, elapsed * 1000)


def create_app(store_settings: StoreSettings | None = None, api_settings: ApiSettings | None = None,
               encoder_settings: EncoderSettings | None = None) -> FastAPI:
    """Build the app; the store is opened at start-up, or by the first request that needs it when it is not
    there yet. A configured semantic model that is missing stops the start-up."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Open the store at start-up so the name index is built before the first name search or screening;
        # without an index yet, the first request after a load opens it instead.
        with suppress(StoreUnavailable):
            open_service(app.state)
        yield

    # /docs from assets installed with the package: a CDN is out of reach on government intranets. No /redoc:
    # its page fetches a logo from redoc.ly.
    app = FastAPIOffline(lifespan=lifespan, title="credit-search 公共信用信息检索", version="1.0.0",
                         static_url="/docs-assets", redoc_url=None,
                         description="行政许可、行政处罚、失信被执行人、信用承诺的统一检索与信用档案。"
                                     "无 API Key 为公众视图；员工在请求头 X-API-Key 中提供密钥。")
    app.state.store_settings = store_settings or StoreSettings()
    app.state.api_settings = api_settings or ApiSettings()
    app.state.encoder_settings = encoder_settings or EncoderSettings()
    app.state.service = None
    app.state.ask = None
    app.state.metrics = Metrics()
    errors.install(app)
    for router in (search.router, entities.router, suggest.router, screen.router, ask.router, health.router,
                   pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=pages.WEB), name="static")
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)  # level 9 costs 3× the CPU
    app.add_middleware(RequestGuard)  # inside CORS, so that a browser can read why its request was refused
    if app.state.api_settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=app.state.api_settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["X-API-Key", "Content-Type"],
                           expose_headers=["X-Request-ID"])

    app.add_middleware(RequestContext, metrics=app.state.metrics)
    return app
