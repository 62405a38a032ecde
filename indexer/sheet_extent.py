"""The used extent of every worksheet of an XLSX file, found by streaming its XML before a reader loads it.

Spreadsheet readers (calamine, openpyxl) build each sheet as a dense grid from its first to its last filled
cell, so a 2 KB file with cells at A1 and XFD1048576 asks for 17 billion cells. The extent is read here from
the cells' positions alone, in bounded memory, and a sheet past the caller's :class:`SheetLimits` is refused
with a message that names it, before any grid is built.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

_CHUNK = 1 << 20
# An element start tag of a row or a cell, with or without a namespace prefix. Empty cells (<c r="Z9" s="1"/>,
# formatting only) are written self-closing and readers leave them out of the grid, so they do not count.
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(\s[^>]*)?>")
_ROW_ATTR = re.compile(rb'\sr="(\d+)"')
_CELL_ATTR = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True, slots=True)
class SheetLimits:
    """The largest worksheet a reader may build: rows and columns of its used range (counted from A1), cells of
    that range, and bytes of XML in the file once uncompressed."""

    rows: int
    columns: int
    cells: int
    xml_bytes: int


# Department files: a million rows of a few dozen columns, as many as a sheet holds.
LOAD_LIMITS = SheetLimits(rows=1_048_576, columns=1_000, cells=64_000_000, xml_bytes=4 << 30)


class SheetTooLarge(ValueError):
    """A worksheet (or the whole file) past the limits; the message says which sheet and which limit, in Chinese."""


@dataclass(frozen=True, slots=True)
class Extent:
    rows: int
    columns: int


def column_number(letters: bytes) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _sheet_names(book: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name (xl/worksheets/sheet1.xml) → the sheet's name as Excel shows it."""
    try:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {r.get("Id"): str(r.get("Target", "")) for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
    names: dict[str, str] = {}
    for sheet in workbook.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{_REL_NS}id"), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        names[part] = str(sheet.get("name", part))
    return names


def _scan(stream: IO[bytes], limits: SheetLimits, label: str) -> Extent:
    """The used extent of one worksheet's XML, stopping as soon as it passes a limit."""
    rows = columns = cells = 0
    row = column = 0
    tail = b""
    while True:
        chunk = stream.read(_CHUNK)
        data = tail + chunk
        # Tags are matched up to the last '<' of what has been read: a tag cut by the chunk boundary waits.
        cut = data.rfind(b"<") if chunk else len(data)
        for m in _TAG.finditer(data, 0, cut if cut >= 0 else 0):
            attrs = m.group(2) or b""
            if m.group(1) == b"row":
                found = _ROW_ATTR.search(attrs)
                row, column = (int(found.group(1)) if found else row + 1), 0
                continue
            found = _CELL_ATTR.search(attrs)
            if found:
                column, row = column_number(found.group(1)), int(found.group(2))
            else:
                column += 1
            if attrs.endswith(b"/"):
                continue  # an empty cell
            cells += 1
            rows, columns = max(rows, row), max(columns, column)
            if rows > limits.rows or columns > limits.columns or rows * columns > limits.cells:
                raise SheetTooLarge(_too_large(label, rows, columns, limits))
        if not chunk:
            return Extent(rows, columns)
        tail = data[cut:] if cut >= 0 else b""


def _too_large(label: str, rows: int, columns: int, limits: SheetLimits) -> str:
    return (f"工作表“{label}”的数据范围至少为{rows}行×{columns}列，超过上限（{limits.rows}行、{limits.columns}列、"
            f"共{limits.cells}个单元格）：请删除多余的行列，或拆分后分批上传")


def check_xlsx(path: Path, limits: SheetLimits) -> dict[str, Extent]:
    """The used extent of each worksheet of ``path`` by sheet name; raises :class:`SheetTooLarge` for a sheet
    past ``limits`` and ``zipfile.BadZipFile`` for a file that is not a workbook."""
    with zipfile.ZipFile(path) as book:
        infos = book.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > limits.xml_bytes:
            raise SheetTooLarge(f"文件解压后为{declared // 2**20} MB，超过上限 {limits.xml_bytes // 2**20} MB："
                                "请拆分后分批上传")
        names = _sheet_names(book)
        extents: dict[str, Extent] = {}
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                label = names.get(info.filename, info.filename)
                with book.open(info) as stream:
                    extents[label] = _scan(stream, limits, label)
        return extents
