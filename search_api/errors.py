"""Errors as ``{"error": {"code", "message", "details"}}`` with stable codes and Chinese messages.

Every failure path ends here: a bad request gets a 4xx naming what is wrong, an unreachable store a 503,
and nothing a client sends can produce a bare 500.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from analyzers.encoders import EncoderUnavailable
from stores.base import StoreUnavailable

log = logging.getLogger("credit_search.api")

# Errors reported per request, and characters of a rejected value echoed back.
_MAX_REPORTED = 20
_ECHO_CHARS = 100
_FIELD_NAMES = {"q": "查询词", "type": "记录类型", "page": "页码", "size": "每页条数", "mode": "检索模式",
                "cursor": "游标", "date_from": "起始日期", "date_to": "截止日期", "code": "代码", "status": "状态",
                "items": "待筛查的行", "threshold": "匹配度阈值", "types": "记录类型", "name": "名称", "id": "行标识",
                "question": "问题", "session_id": "会话标识", "limit": "条数", "x-api-key": "API Key"}


class ApiError(Exception):
    """An error with a stable code, an HTTP status and a Chinese message."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape: ``details`` is always an object (``{}`` when there is nothing to add); invalid
    fields are listed under ``details.errors``."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _brief(value: Any) -> Any:
    """A rejected input as echoed in an error: short text (a 13 MB body is not sent back), valid UTF-8."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, dict | list | tuple):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif not isinstance(value, str | int | float | bool) and value is not None:
        value = str(value)
    if isinstance(value, str):
        value = value.encode("utf-8", "replace").decode("utf-8")
        if len(value) > _ECHO_CHARS:
            value = value[:_ECHO_CHARS] + "…"
    return value


def validation_message(errors: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """One Chinese sentence for pydantic's validation errors, and the error's details: ``errors``, one entry
    per field (the first _MAX_REPORTED of them)."""
    details = []
    parts = []
    for err in errors[:_MAX_REPORTED]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path", "header")]
        # items.3.name: the row, then the field; a list position alone names nothing a user typed.
        field = next((p for p in reversed(loc) if not p.isdigit()), "")
        rows = [int(p) + 1 for p in loc if p.isdigit()]
        label = _FIELD_NAMES.get(field, field or "请求体")
        if rows and field:
            label = f"第{rows[0]}行的{label}"
        kind = err.get("type", "")
        ctx = err.get("ctx") or {}
        if kind == "json_invalid":
            reason = f"不是有效的 JSON（{ctx.get('error', '')}）"
        elif kind == "missing" and not loc:
            reason = "不能为空：请以 JSON 提交"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            reason = "应为 JSON 对象"
        elif kind == "list_type":
            reason = "应为 JSON 数组"
        elif kind in ("string_type", "string_unicode"):
            reason = "应为文本"
        elif kind in ("float_parsing", "float_type"):
            reason = "应为数字"
        elif kind == "extra_forbidden":
            reason = "不是可用的字段"
        elif kind == "string_too_long":
            reason = f"长度不能超过{ctx.get('max_length')}个字符"
        elif kind in ("less_than_equal", "less_than"):
            reason = f"不能大于{ctx.get('le', ctx.get('lt'))}"
        elif kind in ("greater_than_equal", "greater_than"):
            reason = f"不能小于{ctx.get('ge', ctx.get('gt'))}"
        elif kind == "missing":
            reason = "为必填项"
        elif kind in ("int_parsing", "int_type"):
            reason = "应为整数"
        elif kind.startswith("date"):
            reason = "应为 YYYY-MM-DD 格式的日期"
        elif kind in ("enum", "literal_error"):
            # pydantic lists the choices in English ('a', 'b' or 'c'): name them the Chinese way.
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            reason = f"取值无效，可选：{'、'.join(choices) or ctx.get('expected', '')}"
        else:
            reason = "取值无效"
        parts.append(f"{label}{reason}")
        details.append({"field": ".".join(loc), "reason": reason, "input": _brief(err.get("input"))})
    if len(errors) > _MAX_REPORTED:
        parts.append(f"等共{len(errors)}处错误")
    return "；".join(parts) or "请求参数无效", {"errors": jsonable(details)}


_HTTP_MESSAGES = {400: ("bad_request", "请求无法解析"), 403: ("forbidden", "无权访问"),
                  404: ("not_found", "请求的地址不存在"), 405: ("method_not_allowed", "不支持该请求方法"),
                  413: ("payload_too_large", "请求内容过大"), 414: ("uri_too_long", "请求地址过长"),
                  415: ("unsupported_media_type", "不支持的请求内容类型")}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the error envelope."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = validation_message(list(exc.errors()))
        return JSONResponse(error_body("invalid_request", message, details), status_code=422)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("store unavailable: %s", exc)
        return JSONResponse(error_body("store_unavailable", "检索服务暂时不可用，请稍后重试"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(EncoderUnavailable)
    async def _no_encoder(_: Request, exc: EncoderUnavailable) -> JSONResponse:
        log.error("semantic model unavailable: %s", exc)
        return JSONResponse(error_body("semantic_unavailable", f"语义检索暂不可用：{exc}"), status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法处理"))
        if exc.status_code == 405:
            message = f"{request.url.path} 不支持 {request.method} 请求，可用：{(exc.headers or {}).get('Allow', '')}"
        elif exc.status_code == 400:
            message = f"请求无法解析：{exc.detail}"
        # Headers such as 405's Allow go with the answer.
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse(error_body("internal_error", "服务器内部错误，请稍后重试"), status_code=500)


def jsonable(value: Any) -> Any:
    """``value`` with anything JSON cannot hold turned into text (validation inputs can be bytes or objects)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
