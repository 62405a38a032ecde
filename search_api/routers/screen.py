"""POST /v1/screen: bulk screening of bidders and applicants, JSON or a CSV/XLSX upload, answered as JSON,
CSV or XLSX (by the Accept header or ``format``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from indexer.model import RecordType
from search_api.deps import CurrentViewer, Service, Settings
from search_api.errors import ApiError, validation_message
from search_api.schemas import BODY_ERRORS, inline_schema
from search_api.screen_files import ScreenFileError, ScreenFileTooLarge, read_items, to_csv, to_xlsx
from search_api.screening import ADVERSE_TYPES, Screener, ScreenItem, audit_log_path, policy_for, screen_and_audit
from stores.settings import StoreSettings

router = APIRouter(prefix="/v1", tags=["screening"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_UPLOAD = 20 * 1024 * 1024


class ScreenRow(BaseModel):
    id: str = Field("", max_length=100, description="调用方的行标识，原样返回")
    name: str = Field("", max_length=200, description="主体名称")
    code: str = Field("", max_length=40, description="统一社会信用代码、组织机构代码或工商注册号")


class ScreenRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "items": [{"id": "1", "name": "清远市恒达建筑工程有限公司"}, {"id": "2", "code": "91441802MA4UJ3XK72"}],
        "threshold": 0.9, "types": ["dishonest", "penalty"]}]}}

    items: list[ScreenRow] = Field(description="待筛查的行，每次最多 10000 行")
    threshold: float = Field(0.9, ge=0.5, le=1.0, description="确认为同一主体的最低匹配度")
    types: list[RecordType] = Field(default_factory=lambda: list(ADVERSE_TYPES),
                                    description="视为不良记录的类型")


_BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": inline_schema(ScreenRequest)},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV 或 XLSX，表头含名称或统一社会信用代码列"},
        "threshold": {"type": "number", "minimum": 0.5, "maximum": 1.0},
        "types": {"type": "string", "description": "逗号分隔，如 dishonest,penalty"}}}}}}}


async def _json_request(request: Request) -> tuple[ScreenRequest, list[ScreenItem], list[str], bytes]:
    raw = await request.body()
    try:
        body = ScreenRequest.model_validate_json(raw)
    except ValidationError as exc:
        message, details = validation_message(exc.errors())
        raise ApiError(422, "invalid_request", f"请求体无效：{message}", details) from None
    items = [ScreenItem(id=r.id, name=r.name, code=r.code) for r in body.items]
    return body, items, [], raw


async def _upload_request(request: Request, max_rows: int) -> tuple[ScreenRequest, list[ScreenItem], list[str], bytes]:
    try:
        form = await request.form(max_files=1, max_fields=10)
    except (MultiPartException, StarletteHTTPException) as exc:
        detail = getattr(exc, "detail", "") or getattr(exc, "message", "")
        raise ApiError(400, "invalid_multipart", f"上传内容不是有效的 multipart/form-data：{detail}") from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "invalid_request", "请在表单字段 file 中上传 CSV 或 XLSX 文件", {"field": "file"})
    data = await upload.read(_MAX_UPLOAD + 1)
    if len(data) > _MAX_UPLOAD:
        raise ApiError(413, "payload_too_large", "上传文件超过 20 MB，请拆分后分批筛查")
    try:
        headers, items = await run_in_threadpool(read_items, upload.filename or "", data, max_rows)
    except ScreenFileTooLarge as exc:
        raise ApiError(413, "payload_too_large", str(exc), {"file": upload.filename}) from exc
    except ScreenFileError as exc:
        raise ApiError(422, "invalid_file", str(exc), {"file": upload.filename}) from exc
    fields: dict[str, Any] = {}
    if isinstance(form.get("threshold"), str) and form.get("threshold"):
        fields["threshold"] = form.get("threshold")
    if isinstance(form.get("types"), str) and form.get("types"):
        fields["types"] = [t.strip() for t in str(form.get("types")).split(",") if t.strip()]
    try:
        body = ScreenRequest.model_validate({"items": [], **fields})
    except ValidationError as exc:
        message, details = validation_message(exc.errors())
        raise ApiError(422, "invalid_request", f"表单字段无效：{message}", details) from None
    return body, items, headers, data


@router.post("/screen", summary="批量筛查（招标投标、政府采购信用核查）", openapi_extra=_BODY_DOC,
             responses={**BODY_ERRORS,
                        200: {"content": {"application/json": {}, "text/csv": {}, XLSX: {}},
                              "description": "每行的结论（hit/clear/review/invalid）、匹配主体与不良记录证据"}})
async def screen(request: Request, service: Service, viewer: CurrentViewer, settings: Settings,
                 format: Annotated[Literal["json", "csv", "xlsx"] | None,
                                   Query(description="输出格式；也可用 Accept 请求头")] = None) -> Response:
    """A valid code decides identity; otherwise names are matched on the name index. Every screening is
    written to the audit log (who, when, rows, a hash of the input)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        body, items, headers, raw = await _upload_request(request, settings.max_screen_rows)
    elif content_type.startswith("application/json") or not content_type:
        body, items, headers, raw = await _json_request(request)
    else:
        raise ApiError(415, "unsupported_media_type", "请以 JSON 或 multipart/form-data（上传 CSV/XLSX）提交")
    if len(items) > settings.max_screen_rows:
        raise ApiError(413, "too_many_rows", f"每次最多筛查 {settings.max_screen_rows} 行，本次提交了 {len(items)} 行，"
                                             "请拆分后分批提交", {"rows": len(items)})
    if not items:
        raise ApiError(422, "invalid_request", "没有待筛查的行", {"field": "items"})
    store_settings: StoreSettings = request.app.state.store_settings
    outcome = await run_in_threadpool(
        screen_and_audit, Screener(service), items, viewer, policy_for(settings, body.threshold, tuple(body.types)),
        audit_log_path(settings, store_settings.data_dir), "api", raw, getattr(request.state, "request_id", ""))
    accept = request.headers.get("accept", "")
    wanted = format or ("xlsx" if XLSX in accept else "csv" if "text/csv" in accept else "json")
    if wanted == "json":
        return JSONResponse(outcome)
    disposition = {"Content-Disposition": f"attachment; filename=screening.{wanted}"}
    if wanted == "csv":
        return Response(to_csv(headers, items, outcome["results"]), media_type="text/csv; charset=utf-8",
                        headers=disposition)
    data = await run_in_threadpool(to_xlsx, headers, items, outcome["results"])
    return Response(data, media_type=XLSX, headers=disposition)
