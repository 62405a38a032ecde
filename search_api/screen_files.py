"""Screening spreadsheets: rows in from an uploaded CSV/XLSX (columns found by their Chinese or English
headers), results out as CSV (UTF-8 with BOM, so Excel opens it) or XLSX with the input columns first."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from indexer.fields import normalize_header
from indexer.readers import UnreadableInput, open_tables
from search_api.screening import ScreenItem

NAME_HEADERS = frozenset(normalize_header(h) for h in (
    "名称", "企业名称", "单位名称", "主体名称", "供应商名称", "供应商", "投标人", "投标人名称", "投标单位", "申请人",
    "申请人名称", "申请单位", "公司名称", "姓名", "姓名或名称", "当事人",
    "name", "company", "company_name", "supplier"))
CODE_HEADERS = frozenset(normalize_header(h) for h in (
    "统一社会信用代码", "社会信用代码", "信用代码", "代码", "组织机构代码", "注册号", "工商注册号", "uscc", "code",
    "credit_code", "unified_social_credit_code"))
ID_HEADERS = frozenset(normalize_header(h) for h in ("序号", "编号", "行号", "id", "no", "no."))
RESULT_COLUMNS = ("筛查结论", "结论说明", "匹配名称", "匹配代码", "匹配度", "匹配依据", "不良记录摘要")
_FILLS = {"hit": "F8CBAD", "review": "FFE699", "clear": "C6EFCE", "invalid": "D9D9D9"}


class ScreenFileError(ValueError):
    """An upload that cannot be screened; the message says why, in Chinese."""


def read_items(filename: str, data: bytes) -> tuple[list[str], list[ScreenItem]]:
    """The headers and rows of the first table of an uploaded CSV or XLSX."""
    suffix = Path(filename or "upload.csv").suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise ScreenFileError(f"不支持的文件格式“{suffix or '无扩展名'}”，请上传 CSV 或 XLSX 文件")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            table = next(iter(open_tables(path)), None)
            if table is None:
                raise ScreenFileError("文件中没有工作表或数据")
            headers = [str(h) for h in table.headers]
            columns = {normalize_header(h): h for h in headers}
            name_col = next((h for k, h in columns.items() if k in NAME_HEADERS), None)
            code_col = next((h for k, h in columns.items() if k in CODE_HEADERS), None)
            id_col = next((h for k, h in columns.items() if k in ID_HEADERS), None)
            if name_col is None and code_col is None:
                raise ScreenFileError("未找到名称列或统一社会信用代码列（表头如：企业名称、供应商名称、"
                                      f"统一社会信用代码）：现有表头为 {'、'.join(headers) or '空'}")
            items = []
            for row in table.rows:
                values = {h: "" if v is None else str(v).strip() for h, v in (row.values or {}).items()}
                if not any(values.values()) and not row.error:
                    continue  # a blank line in the sheet
                items.append(ScreenItem(id=values.get(id_col, "") if id_col else str(row.number),
                                        name=values.get(name_col, "") if name_col else "",
                                        code=values.get(code_col, "") if code_col else "", columns=values))
        except (UnreadableInput, UnicodeDecodeError, OSError, ValueError) as exc:
            if isinstance(exc, ScreenFileError):
                raise
            raise ScreenFileError(f"文件无法读取：{exc}") from exc
    return headers, items


def _result_row(result: dict[str, Any]) -> list[str]:
    match = result.get("match") or {}
    return [result["verdict_label"], result["reason"], match.get("name", ""), match.get("code", ""),
            f"{match['score']:.2f}" if match else "", match.get("explanation", ""), result["evidence_summary"]]


def _rows(headers: list[str], items: list[ScreenItem], results: list[dict[str, Any]]) -> list[list[str]]:
    input_headers = headers or ["序号", "名称", "统一社会信用代码"]
    out = [[*input_headers, *RESULT_COLUMNS]]
    for item, result in zip(items, results, strict=True):
        given = [item.columns.get(h, "") for h in headers] if headers else [item.id, item.name, item.code]
        out.append([*given, *_result_row(result)])
    return out


def to_csv(headers: list[str], items: list[ScreenItem], results: list[dict[str, Any]]) -> bytes:
    """The input columns plus the verdict columns, as CSV in UTF-8 with a BOM."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(_rows(headers, items, results))
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(headers: list[str], items: list[ScreenItem], results: list[dict[str, Any]]) -> bytes:
    """The input columns plus the verdict columns, as a workbook with the verdicts coloured."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "筛查结果"
    rows = _rows(headers, items, results)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    verdict_column = len(rows[0]) - len(RESULT_COLUMNS) + 1
    for index, result in enumerate(results, start=2):
        sheet.cell(row=index, column=verdict_column).fill = PatternFill("solid", fgColor=_FILLS[result["verdict"]])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
