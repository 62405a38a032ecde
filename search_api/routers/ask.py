"""POST /v1/ask: a question in Chinese, with follow-ups in a session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from search_api.deps import CurrentViewer, open_ask
from search_api.errors import ApiError
from search_api.schemas import BODY_ERRORS, AskResponse

router = APIRouter(prefix="/v1", tags=["ask"])


class AskRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [
        {"question": "清远市恒达建筑工程有限公司有没有行政处罚？"},
        {"question": "它有失信记录吗？", "session_id": "上一轮返回的 session_id"}]}}

    question: str = Field(min_length=1, max_length=200, description="问题（中文）")
    session_id: str | None = Field(None, max_length=64, description="会话标识：追问时传入上一轮返回的 session_id")


@router.post("/ask", response_model=AskResponse, responses=BODY_ERRORS, summary="一句话问答（可追问）")
async def ask(body: AskRequest, request: Request, viewer: CurrentViewer) -> JSONResponse:
    """Understands the question (intent and slots, shown as ``understood.text``), answers it from the records
    the caller may see, and remembers the subject for the next question of the session."""
    question = body.question.strip()
    if not question:
        raise ApiError(422, "invalid_request", "问题不能为空", {"field": "question"})
    service = open_ask(request.app.state)
    return JSONResponse(await run_in_threadpool(service.ask, question, body.session_id, viewer))
