"""Readers for what departments upload: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX (every sheet or a
named one), JSON (an array, or an object holding one) and JSONL.

Each file yields tables; each table yields raw rows numbered as a person would count them (the header of
a CSV or sheet is row 1, so the first record is row 2; a JSON array's first item is row 1).
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import charset_normalizer

from indexer.sheet_extent import LOAD_LIMITS, SheetLimits, SheetTooLarge, check_xlsx

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_SAMPLE = 1 << 20


class UnreadableInput(Exception):
    """A file that cannot be read at all; the message says why, in Chinese."""


class InputTooLarge(UnreadableInput):
    """A file whose tables are larger than the reader's limits allow; the message names the table and the limit."""


@dataclass(slots=True)
class RawRow:
    number: int
    values: dict[str, Any] | None  # None when the row itself could not be read
    error: str = ""


@dataclass(slots=True)
class Table:
    source: str  # the file, plus the sheet for workbooks
    headers: list[str]
    rows: Iterator[RawRow]


def detect_encoding(path: Path) -> str:
    """The text encoding of a CSV export: a BOM decides, then strict UTF-8, then GB18030 (a superset of
    GBK that older Excel exports use), then charset-normalizer's best guess."""
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            # An incremental decoder tolerates a character cut at the end of the sample.
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise UnreadableInput(f"无法识别文件 {path.name} 的字符编码（不是 UTF-8 或 GBK 文本）")
    return str(best.encoding)


class _DecodedLines:
    """Lines of a file decoded one at a time, so that a corrupt byte spoils only its own row (which is
    reported) instead of the rest of the file. A newline byte never occurs inside a multi-byte character
    of UTF-8, GBK or GB18030, so splitting the bytes at newlines first is safe."""

    def __init__(self, fh: BinaryIO, encoding: str) -> None:
        self._fh = fh
        self._encoding = encoding
        self.spoiled = False  # set when a line since the last check could not be decoded

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        raw = next(self._fh)
        try:
            return raw.decode(self._encoding)
        except UnicodeDecodeError:
            self.spoiled = True
            return raw.decode(self._encoding, errors="replace")


def _delimiter(header: str) -> str:
    """The delimiter of a CSV export, sniffed from its header line. Only the delimiter is taken from the sniffer:
    the rest follows Excel (a quote inside a quoted field is doubled), because the sniffer's other guesses come
    from one line that rarely holds a quote, and its guess of no doubled quotes read "清远市""恒达""建筑" as
    清远市"恒达""建筑."""
    try:
        return csv.Sniffer().sniff(header, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _csv_tables(path: Path) -> Iterator[Table]:
    encoding = detect_encoding(path)
    fh = path.open("rb")
    lines = _DecodedLines(fh, encoding)
    try:
        first = next(lines, "")
        delimiter = _delimiter(first)
        headers = next(csv.reader([first], delimiter=delimiter), None)
        if not headers or not any(h.strip() for h in headers) or lines.spoiled:
            raise UnreadableInput(f"文件 {path.name} 没有可读的表头行")
    except BaseException:
        fh.close()
        raise
    reader = csv.reader(lines, delimiter=delimiter)

    def rows() -> Iterator[RawRow]:
        with fh:
            number = 1
            try:
                for cells in reader:
                    number += 1
                    if lines.spoiled:
                        lines.spoiled = False
                        yield RawRow(number, None, f"该行含有无法按 {encoding} 解码的字节")
                        continue
                    if not any(c.strip() for c in cells):
                        continue
                    if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers):]):
                        yield RawRow(number, None, f"该行有{len(cells)}列，多于表头的{len(headers)}列")
                        continue
                    yield RawRow(number, dict(zip(headers, cells, strict=False)))
            except csv.Error as exc:
                raise UnreadableInput(f"文件 {path.name} 第{number + 1}行 CSV 格式错误：{exc}") from exc

    yield Table(path.name, headers, rows())


def _xlsx_tables(path: Path, sheet: str | None, limits: SheetLimits) -> Iterator[Table]:
    # calamine (Rust) reads sheets about ten times faster than openpyxl: with openpyxl, workbooks were the
    # slowest part of a load. It builds each sheet as a dense grid, so the sheets' extents are checked first.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        check_xlsx(path, limits)
    except SheetTooLarge as exc:
        raise InputTooLarge(f"Excel 文件 {path.name}：{exc}") from exc
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableInput(f"无法打开 Excel 文件 {path.name}：不是有效的 XLSX 文件（{exc}）") from exc
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except (CalamineError, OSError, ValueError) as exc:
        raise UnreadableInput(f"无法打开 Excel 文件 {path.name}：{exc}") from exc
    if sheet is not None and sheet not in names:
        raise UnreadableInput(f"Excel 文件 {path.name} 中没有名为“{sheet}”的工作表（现有：{'、'.join(names)}）")
    for name in [sheet] if sheet else names:
        try:
            ws = book.get_sheet_by_name(name)
        except CalamineError as exc:
            raise UnreadableInput(f"无法读取 Excel 文件 {path.name} 的工作表“{name}”：{exc}") from exc
        it = iter(ws.iter_rows())  # from the sheet's first row, empty rows included
        number = 0
        headers: list[str] = []
        for cells in it:
            number += 1
            if any(_filled(c) for c in cells):
                headers = ["" if c is None else str(c) for c in cells]
                break
        if not headers:
            continue

        def rows(it: Iterator[list[Any]] = it, start: int = number,
                 headers: list[str] = headers) -> Iterator[RawRow]:
            number = start
            for cells in it:
                number += 1
                if not any(_filled(c) for c in cells):
                    continue
                yield RawRow(number, dict(zip(headers, cells, strict=False)))

        yield Table(f"{path.name}#{name}", headers, rows())


def _filled(cell: Any) -> bool:
    return cell is not None and cell != "" and (not isinstance(cell, str) or bool(cell.strip()))


def _headers_of(items: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items[:1000]:
        if isinstance(item, dict):
            seen.update(dict.fromkeys(item))
    return list(seen)


def _json_tables(path: Path) -> Iterator[Table]:
    try:
        data = json.loads(path.read_text(encoding=detect_encoding(path)))
    except json.JSONDecodeError as exc:
        raise UnreadableInput(f"文件 {path.name} 不是有效的 JSON：第{exc.lineno}行第{exc.colno}列 {exc.msg}") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise UnreadableInput(f"JSON 文件 {path.name} 应为记录数组，或只含一个记录数组的对象")
        data = lists[0]
    if not isinstance(data, list):
        raise UnreadableInput(f"JSON 文件 {path.name} 应为记录数组")
    items: list[Any] = data

    def rows() -> Iterator[RawRow]:
        for number, item in enumerate(items, start=1):
            if isinstance(item, dict):
                yield RawRow(number, item)
            else:
                yield RawRow(number, None, "该条目不是 JSON 对象")

    yield Table(path.name, _headers_of(items), rows())


def _jsonl_tables(path: Path) -> Iterator[Table]:
    encoding = detect_encoding(path)
    head: list[Any] = []
    with path.open("r", encoding=encoding) as fh:
        for line in fh:
            if len(head) >= 1000:
                break
            try:
                head.append(json.loads(line))
            except json.JSONDecodeError:
                continue

    def rows() -> Iterator[RawRow]:
        with path.open("r", encoding=encoding) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield RawRow(number, None, f"不是有效的 JSON：{exc.msg}")
                    continue
                if isinstance(item, dict):
                    yield RawRow(number, item)
                else:
                    yield RawRow(number, None, "该行不是 JSON 对象")

    yield Table(path.name, _headers_of(head), rows())


def open_tables(path: Path, sheet: str | None = None, limits: SheetLimits = LOAD_LIMITS) -> Iterator[Table]:
    """The tables of one file. Raises :class:`UnreadableInput` for a missing file or unknown format, and
    :class:`InputTooLarge` for a workbook with a sheet past ``limits``."""
    if not path.is_file():
        raise UnreadableInput(f"文件不存在：{path}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        suffix = path.suffix or "无扩展名"
        raise UnreadableInput(f"不支持的文件格式“{suffix}”（支持 CSV、XLSX、JSON、JSONL）：{path.name}")
    if fmt == "csv":
        return _csv_tables(path)
    if fmt == "xlsx":
        return _xlsx_tables(path, sheet, limits)
    if fmt == "json":
        return _json_tables(path)
    return _jsonl_tables(path)
