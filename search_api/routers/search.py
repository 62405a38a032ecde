"""GET /v1/search: the one search box."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from indexer.model import RecordType, Status
from search_api.conversation.answers import AskService
from search_api.deps import CurrentViewer, Service, open_ask
from search_api.errors import ApiError
from search_api.publication import Viewer, mask_tree
from search_api.schemas import ERRORS, SearchResponse
from search_api.service import SearchParams
from search_api.understanding import QueryKind, understand

router = APIRouter(prefix="/v1", tags=["search"])
_TYPES = {t.value for t in RecordType}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: pydantic would also read a number as seconds since 1970."""
    if not (isinstance(value, str) and _ISO_DAY.fullmatch(value)) and not isinstance(value, date):
        raise PydanticCustomError("date_parsing", "expected YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


def _types(value: str | None) -> tuple[RecordType, ...]:
    if not value:
        return ()
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in _TYPES]
    if bad:
        listed = "、".join(bad)
        raise ApiError(422, "invalid_request",
                       f"记录类型“{listed}”无效，可选：licensing、penalty、dishonest、commitment",
                       {"field": "type", "input": value})
    return tuple(RecordType(n) for n in names)


@router.get("/search", response_model=SearchResponse, responses=ERRORS, summary="统一检索（代码、名称、文书号、全文）")
async def search(
    request: Request,
    service: Service,
    viewer: CurrentViewer,
    q: Annotated[str, Query(min_length=1, max_length=200, description="查询词：统一社会信用代码、名称、文书号或一句话",
                            openapi_examples={"name": {"value": "清远恒达建筑"},
                                              "code": {"value": "91441802MA4UJ3XK72"},
                                              "text": {"value": "施工工地扬尘"}})],
    type: Annotated[str | None, Query(max_length=60, description="记录类型，逗号分隔")] = None,
    authority: Annotated[str, Query(max_length=100, description="决定机关")] = "",
    district: Annotated[str, Query(max_length=30, description="区县，如 清城区")] = "",
    category: Annotated[str, Query(max_length=30, description="类别，如 罚款、警告")] = "",
    date_from: Annotated[Day | None, Query(description="决定日期起（YYYY-MM-DD）")] = None,
    date_to: Annotated[Day | None, Query(description="决定日期止（YYYY-MM-DD）")] = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=50)] = 10,
    cursor: Annotated[str | None, Query(max_length=500, description="深度翻页游标（next_cursor）")] = None,
    mode: Annotated[Literal["keyword", "semantic", "hybrid"] | None,
                    Query(description="全文检索模式：keyword 关键词、semantic 语义、hybrid 两者融合（默认）。"
                                      "代码、文书号的精确结果总在最前；名称按名称匹配")] = None,
    status: Annotated[Status | None,
                      Query(description="按状态筛选（仅员工）：active、expired、repaired、withdrawn")] = None,
) -> JSONResponse:
    """Understands the query (``query.kind``; ``query.mode`` for text), applies the publication rules and
    masks personal data. A question (``query.kind: "question"``) is answered as ``/v1/ask`` answers it: the
    answer under ``answer``, its records as ``items``; the filter parameters do not apply to it."""
    params = SearchParams(q=q.strip() or q, types=_types(type), authority=authority.strip(), district=district.strip(),
                          category=category.strip(), date_from=date_from, date_to=date_to, page=page, size=size,
                          cursor=cursor, status=status, mode=mode)
    # The service builds the documented shape itself (the API tests validate it against SearchResponse);
    # validating it again on every request would cost more than a name search. Code and name lookups take
    # a few milliseconds of Python, less than the hand-over to the thread pool costs (and threads would not
    # run them in parallel anyway); full-text searches go to the pool so they never hold up the event loop.
    understood = understand(params.q)
    if understood.kind is QueryKind.QUESTION:
        return JSONResponse(await run_in_threadpool(_answer, open_ask(request.app.state), params, viewer))
    if service.is_quick(understood, mode) and (result := service.search(params, viewer, understood, quick_only=True)):
        return JSONResponse(result)
    return JSONResponse(await run_in_threadpool(service.search, params, viewer, understood))


def _answer(ask: AskService, params: SearchParams, viewer: Viewer) -> dict[str, Any]:
    """A question typed into the box, answered as /v1/ask answers it (in a new session, which the page may
    continue), with the records behind the answer as the items."""
    answer = ask.ask(params.q, None, viewer)
    query = {"kind": QueryKind.QUESTION.value, "normalized": params.q, "intent": answer["understood"]["intent"]}
    return {"query": query if viewer.is_staff else mask_tree(query), "total": answer["total"], "page": 1,
            "size": params.size, "items": answer["records"][:params.size], "facets": {}, "next_cursor": None,
            "answer": answer}
