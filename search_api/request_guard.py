"""Bounds on what a request may send, checked before any route reads it: the length of the URL, the size of the
body (per path), well-formed JSON and multipart bodies. A request past a bound gets the error envelope with a
Chinese message naming the bound, never a generic or an English answer, and the server never holds more of a
body than its path allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_api.errors import error_body

# A URL carries a query of at most 200 characters and a few filters; 8 KiB leaves room for percent-encoding.
MAX_URL_BYTES = 8 * 1024
# Bodies: a screening list of 10,000 rows as JSON or as a 20 MB upload with its multipart framing; everything else
# is a question or nothing.
SCREEN_BODY_BYTES = 21 * 2**20
DEFAULT_BODY_BYTES = 64 * 1024
# Deepest JSON nesting orjson parses; any request body of this API is three levels deep.
_JSON_DEPTH_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The largest URL and the largest body per path (``default_body`` elsewhere)."""

    url_bytes: int = MAX_URL_BYTES
    default_body: int = DEFAULT_BODY_BYTES
    bodies: Mapping[str, int] = field(default_factory=lambda: {"/v1/screen": SCREEN_BODY_BYTES})

    def body_bytes(self, path: str) -> int:
        return self.bodies.get(path, self.default_body)


def _size(n: int) -> str:
    return f"{n // 2**20} MB" if n >= 2**20 else f"{n // 1024} KB"


def json_problem(body: bytes) -> str | None:
    """What makes a JSON body unreadable, in Chinese (None when it parses): invalid UTF-8, a lone surrogate
    escape, nesting past orjson's limit, or a syntax error, with where it is."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        where = f"（第{exc.lineno}行第{exc.colno}列）"
        message = str(exc.msg)
        if "UTF-8" in message:
            return "请求体不是有效的 UTF-8 文本" + where
        if "surrogate" in message:
            return "请求体含有无效的 Unicode 转义（不成对的代理项）" + where
        if "depth" in message or "recursion" in message:
            return f"请求体 JSON 嵌套超过{_JSON_DEPTH_LIMIT}层"
        return "请求体不是有效的 JSON" + where
    return None


class RequestGuard:
    """Checks the URL, reads the body up to its path's limit and checks its framing, then hands the buffered body
    to the app. A plain ASGI middleware, so that nothing upstream reads an unbounded body first."""

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url_bytes > self.limits.url_bytes:
            await _reject(send, 414, "uri_too_long",
                          f"请求地址过长（{_size(url_bytes)}，上限 {_size(self.limits.url_bytes)}），请缩短查询词",
                          {"limit_bytes": self.limits.url_bytes})
            return
        headers = dict(scope["headers"])
        limit = self.limits.body_bytes(scope["path"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            await _reject(send, 413, "payload_too_large", f"请求体超过上限 {_size(limit)}", {"limit_bytes": limit})
            return
        chunks: list[bytes] = []
        size = 0
        more = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reject(send, 413, "payload_too_large", f"请求体超过上限 {_size(limit)}", {"limit_bytes": limit})
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if body and content_type.startswith("application/json") and (problem := json_problem(body)):
            await _reject(send, 422, "invalid_json", problem)
            return
        if content_type.startswith("multipart/form-data") and "boundary=" not in content_type:
            await _reject(send, 400, "invalid_multipart",
                          "multipart/form-data 请求缺少 boundary 参数，无法读取上传的文件")
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the buffered body once, then waits on the client as the app would have."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reject(send: Send, status: int, code: str, message: str, details: dict[str, object] | None = None) -> None:
    payload = orjson.dumps(error_body(code, message, details))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
