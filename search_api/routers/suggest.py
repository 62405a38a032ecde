"""GET /v1/suggest: autocomplete for the search box."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from search_api.deps import CurrentViewer, Service
from search_api.schemas import ERRORS, SuggestResponse

router = APIRouter(prefix="/v1", tags=["suggest"])


@router.get("/suggest", response_model=SuggestResponse, responses=ERRORS, summary="名称联想")
def suggest(service: Service, viewer: CurrentViewer,
            q: Annotated[str, Query(min_length=1, max_length=50, description="名称前缀、全拼或拼音首字母",
                                    openapi_examples={"prefix": {"value": "清远恒"}, "initials": {"value": "qyhd"}})],
            limit: Annotated[int, Query(ge=1, le=10)] = 10) -> dict[str, object]:
    """Up to ten subject names that the caller may see records of, most records first."""
    return service.suggest(q, viewer, limit)
