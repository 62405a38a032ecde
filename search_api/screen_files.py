"""Screening spreadsheets: rows in from an uploaded CSV/XLSX (columns found by their Chinese or English
headers), results out as CSV (UTF-8 with BOM, so Excel opens it) or XLSX with the input columns first."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unicodedata import east_asian_width

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from indexer.fields import normalize_header
from indexer.readers import InputTooLarge, UnreadableInput, open_tables
from indexer.sheet_extent import SheetLimits
from search_api.publication import mask_value
from search_api.screening import Cell, ScreenItem

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
# Long result texts wrap inside a column of at most _MAX_WIDTH characters instead of running across the sheet.
_WRAPPED = ("结论说明", "不良记录摘要")
_MIN_WIDTH, _MAX_WIDTH = 8, 50
# What spreadsheets read as the start of a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SERIAL = re.compile(r"[1-9]\d{0,8}")  # a row number typed as text, written back as a number
_SERIAL_HEADERS = frozenset({"序号", "行号", "编号", "序", "no", "行"})


# Rows of a list to screen beyond its data rows (a title above the header, blank rows), and the widest list read.
_SPARE_ROWS = 100
_MAX_COLUMNS = 200
_MAX_CELLS = 2_000_000
_MAX_XML_BYTES = 200 * 2**20


class ScreenFileError(ValueError):
    """An upload that cannot be screened; the message says why, in Chinese."""


class ScreenFileTooLarge(ScreenFileError):
    """An upload with more rows, columns or cells than a screening reads."""


def upload_limits(max_rows: int) -> SheetLimits:
    """The largest worksheet read for a screening of at most ``max_rows`` rows."""
    rows = max_rows + _SPARE_ROWS
    return SheetLimits(rows=rows, columns=_MAX_COLUMNS, cells=min(_MAX_CELLS, rows * _MAX_COLUMNS),
                       xml_bytes=_MAX_XML_BYTES)


def read_items(filename: str, data: bytes, max_rows: int) -> tuple[list[str], list[ScreenItem]]:
    """The headers and rows of the first table of an uploaded CSV or XLSX, reading no more than ``max_rows``
    rows (and, of a workbook, no sheet larger than :func:`upload_limits` allows)."""
    suffix = Path(filename or "upload.csv").suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise ScreenFileError(f"不支持的文件格式“{suffix or '无扩展名'}”，请上传 CSV 或 XLSX 文件")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            table = next(iter(open_tables(path, limits=upload_limits(max_rows))), None)
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
            items: list[ScreenItem] = []
            for row in table.rows:
                cells = {h: _cell(v) for h, v in (row.values or {}).items()}
                values = {h: _text(v) for h, v in cells.items()}
                if not any(values.values()) and not row.error:
                    continue  # a blank line in the sheet
                if len(items) == max_rows:
                    raise ScreenFileTooLarge(f"文件超过每次筛查的上限 {max_rows} 行（第{row.number}行起未读取），"
                                             "请拆分后分批筛查")
                items.append(ScreenItem(id=values.get(id_col, "") if id_col else str(row.number),
                                        name=values.get(name_col, "") if name_col else "",
                                        code=values.get(code_col, "") if code_col else "", columns=cells))
        except InputTooLarge as exc:
            raise ScreenFileTooLarge(str(exc)) from exc
        except (UnreadableInput, UnicodeDecodeError, OSError, ValueError) as exc:
            if isinstance(exc, ScreenFileError):
                raise
            raise ScreenFileError(f"文件无法读取：{exc}") from exc
    return headers, items


def _cell(value: Any) -> Cell:
    """A spreadsheet cell as read, with numbers kept numbers (an integral float, as calamine reads every number,
    becomes an int) and dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value).strip()


def _text(value: Cell) -> str:
    return value if isinstance(value, str) else str(value)


def _masked(value: Cell) -> Cell:
    """An echoed cell with any resident ID number in it masked (a list may carry one in any column, as text or
    as a number); output files travel further than the JSON answer."""
    text = _text(value)
    masked = mask_value(text)
    return value if masked == text else masked


def _result_cells(result: dict[str, Any]) -> list[Cell]:
    match = result.get("match") or {}
    return [result["verdict_label"], result["reason"], match.get("name", ""), match.get("code", ""),
            round(float(match["score"]), 4) if match else "", match.get("explanation", ""),
            result["evidence_summary"]]


def _serial(header: str, value: Cell) -> Cell:
    """A row number that a CSV gave as text (序号 1) as the number a spreadsheet would have kept."""
    if isinstance(value, str) and header.strip().rstrip(".").lower() in _SERIAL_HEADERS and _SERIAL.fullmatch(value):
        return int(value)
    return value


def _rows(headers: list[str], items: list[ScreenItem], results: list[dict[str, Any]]) -> list[list[Cell]]:
    input_headers = headers or ["序号", "名称", "统一社会信用代码"]
    out: list[list[Cell]] = [[*input_headers, *RESULT_COLUMNS]]
    for item, result in zip(items, results, strict=True):
        given: list[Cell] = [_serial(h, item.columns.get(h, "")) for h in headers] if headers else [
            int(item.id) if _SERIAL.fullmatch(item.id) else item.id, item.name, item.code]
        out.append([*map(_masked, given), *_result_cells(result)])
    return out


def defuse(text: str) -> str:
    """A text cell that a spreadsheet cannot run as a formula (OWASP CSV injection): one starting with = + - @,
    a tab or a carriage return gets a leading apostrophe, unless it is a plain number."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_csv(headers: list[str], items: list[ScreenItem], results: list[dict[str, Any]]) -> bytes:
    """The input columns plus the verdict columns, as CSV in UTF-8 with a BOM, every cell defused."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([defuse(_text(v)) for v in row] for row in _rows(headers, items, results))
    return buffer.getvalue().encode("utf-8-sig")


def _width(value: Cell) -> int:
    """Display width of a cell: CJK characters take two columns."""
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in _text(value))


def to_xlsx(headers: list[str], items: list[ScreenItem], results: list[dict[str, Any]]) -> bytes:
    """The input columns plus the verdict columns as a workbook that reads well at first open: numbers as numbers,
    text never run as a formula, columns as wide as their contents, a frozen header with filters, the verdicts
    coloured; it prints on landscape pages as wide as the table."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "筛查结果"
    rows = _rows(headers, items, results)
    widths = [0] * len(rows[0])
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters, which XLSX cannot hold
            written = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith(_FORMULA_START):
                # A string cell, shown with Excel's text marker: openpyxl would store "=…" as a formula.
                written.data_type = "s"
                written.quotePrefix = True
            widths[c - 1] = max(widths[c - 1], _width(value))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_result = len(rows[0]) - len(RESULT_COLUMNS) + 1
    score_column = first_result + RESULT_COLUMNS.index("匹配度")
    wrapped = {first_result + RESULT_COLUMNS.index(h) for h in _WRAPPED}
    for index, result in enumerate(results, start=2):
        sheet.cell(row=index, column=first_result).fill = PatternFill("solid", fgColor=_FILLS[result["verdict"]])
        sheet.cell(row=index, column=score_column).number_format = "0.0000"
        for column in wrapped:
            sheet.cell(row=index, column=column).alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    # Printed for the file: landscape, every column on the page's width, the header on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
