"""Response models: they document the API in OpenAPI and keep the skeleton of each response stable.
Records carry more fields than listed (``extra="allow"``) so that every uploaded field reaches clients."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` written in place, for an OpenAPI body documented by hand (a
    ``#/$defs/…`` reference would point into the OpenAPI document, where it resolves to nothing)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


class Subject(BaseModel):
    name: str
    code: str = Field(description="统一社会信用代码；自然人不显示证件号码")
    category: str = ""


class RecordItem(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "record_type": "penalty", "record_type_label": "行政处罚", "id": "cf-3f2a9c1d5e6b7a80",
        "subject": {"name": "清远市恒达建筑工程有限公司", "code": "91441802MA4UJ3XK72", "category": "organization"},
        "document_number": "清城市监罚(2025)12号", "decision_date": "2025-02-11",
        "authority": "清远市清城区市场监督管理局", "amount": 2000.0, "status": "active", "status_label": "公示中"}]})

    record_type: str
    record_type_label: str
    id: str
    subject: Subject
    document_number: str
    decision_date: str | None = None
    publish_until: str | None = None
    authority: str = ""
    district: str = ""
    category: str = ""
    amount: float | None = None
    summary: str = ""
    status: str
    status_label: str
    details: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="本类记录各字段的中文名（如失信被执行人的 document_number 为“案号”）")


class QueryInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: str = Field(description="code, document_number, name, text 或 question（一句话提问）")
    normalized: str


class SearchResponse(BaseModel):
    query: QueryInfo
    total: int
    page: int | None
    size: int
    items: list[RecordItem]
    facets: dict[str, dict[str, int]]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多结果")
    answer: AskResponse | None = Field(None, description="query.kind 为 question 时：与 /v1/ask 相同的回答")


class SuggestItem(BaseModel):
    name: str
    code: str
    record_count: int


class SuggestResponse(BaseModel):
    query: str
    items: list[SuggestItem]


class EntityResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    identity: dict[str, Any]
    flags: dict[str, Any]
    records: dict[str, dict[str, Any]]
    sources: dict[str, int]


class Understanding(BaseModel):
    intent: str = Field(description="subject_records, commitment_status, count, faq 或 search")
    slots: dict[str, Any] = Field(description="主体、记录类型、时间、区县、部门、主题等")
    text: str = Field(description="已理解为：……")


class AskResponse(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "answer": "清远市恒达建筑工程有限公司共有2条行政处罚记录，最近一次为2025年2月11日（……）。",
        "session_id": "k3J9…", "turn": 1,
        "understood": {"intent": "subject_records", "slots": {"subject": {"name": "清远市恒达建筑工程有限公司",
                       "code": "91441802MA4UJ3XK72"}, "record_type": "penalty"},
                       "text": "已理解为：查询“清远市恒达建筑工程有限公司”的行政处罚记录"},
        "records": [], "total": 2}]})

    answer: str
    session_id: str
    turn: int
    understood: Understanding
    records: list[RecordItem]
    total: int
    candidates: list[dict[str, Any]] | None = Field(None, description="需要确认时的候选主体，回复序号即可")
    faq: dict[str, str] | None = Field(None, description="回答所依据的规则")


class ErrorDetail(BaseModel):
    code: str = Field(description="稳定的错误代码，如 invalid_request、invalid_json、not_ready")
    message: str = Field(description="中文说明，指出哪里有误")
    details: dict[str, Any] = Field(default_factory=dict,
                                    description="补充信息，总是对象；参数错误时 errors 列出每个字段"
                                                "（field、reason、input）")


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "API Key 无效"},
    403: {"model": ErrorResponse, "description": "仅员工可用的参数"},
    414: {"model": ErrorResponse, "description": "请求地址超过 8 KB"},
    422: {"model": ErrorResponse, "description": "参数无效（中文说明）"},
    503: {"model": ErrorResponse, "description": "检索服务暂时不可用"},
}
# What a request with a body may also get: a body that cannot be read as its content type says, or too large.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": ErrorResponse, "description": "请求体无法解析（如 multipart 格式错误）"},
    413: {"model": ErrorResponse, "description": "请求体、文件或行数超过上限"},
    415: {"model": ErrorResponse, "description": "不支持的请求内容类型"},
}
