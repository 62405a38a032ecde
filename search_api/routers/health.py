"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from search_api.deps import open_service
from search_api.errors import ApiError
from stores.base import StoreUnavailable

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="进程存活")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="可以提供服务（存储可达且有索引）")
def readyz(request: Request) -> dict[str, object]:
    try:
        service = open_service(request.app.state)
        service.store.ping()
        records = service.store.count()
    except StoreUnavailable as exc:
        raise ApiError(503, "not_ready", "检索服务尚未就绪：存储不可达或尚未建立索引", {"reason": str(exc)}) from exc
    if records == 0:
        raise ApiError(503, "not_ready", "检索服务尚未就绪：索引为空", {"records": 0})
    try:
        names = service.names.current(wait_seconds=10)
    except StoreUnavailable as exc:
        raise ApiError(503, "not_ready", "检索服务尚未就绪：名称索引正在建立", {"reason": str(exc)}) from exc
    if not service.store.subjects_complete():
        # Searches are answered meanwhile, but screening and name matching would miss every subject.
        raise ApiError(503, "not_ready", "检索服务尚未就绪：首次数据加载尚未完成，主体名录尚未建立",
                       {"records": records})
    semantic = service.semantic.status() if service.semantic else {"available": False}
    return {"status": "ready", "records": records, "subjects": len(names.subjects), "semantic": semantic}


@router.get("/metrics", summary="Prometheus 指标", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
