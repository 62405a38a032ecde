"""GET /v1/entities/{code}: a subject's credit profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from search_api.deps import CurrentViewer, Service
from search_api.schemas import ERRORS, EntityResponse, ErrorResponse

router = APIRouter(prefix="/v1", tags=["entities"])


@router.get("/entities/{code}", response_model=EntityResponse, summary="主体信用档案",
            responses={**ERRORS, 404: {"model": ErrorResponse, "description": "未找到该主体"}})
def entity(service: Service, viewer: CurrentViewer,
           code: Annotated[str, Path(max_length=40, description="统一社会信用代码、组织机构代码或工商注册号",
                                     openapi_examples={"uscc": {"value": "91441802MA4UJ3XK72"}})]) -> dict[str, object]:
    """Every visible record of the subject grouped by type, newest first, with flags and sources."""
    return service.entity(code, viewer)
