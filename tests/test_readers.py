"""Readers: encodings, workbooks with several sheets, JSON shapes, unreadable input."""

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from indexer.readers import InputTooLarge, UnreadableInput, detect_encoding, open_tables
from indexer.sheet_extent import Extent, SheetLimits, SheetTooLarge, check_xlsx

ROWS = [["行政相对人名称", "处罚决定日期"], ["清远市恒达建筑工程有限公司", "2023-05-01"],
        ["淸遠市宏圖商貿有限公司", "2023/5/2"]]


def _csv(path: Path, encoding: str) -> Path:
    path.write_text("\r\n".join(",".join(r) for r in ROWS) + "\r\n", encoding=encoding)
    return path


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                    ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_csv_encodings(tmp_path: Path, encoding: str, detected: str) -> None:
    path = _csv(tmp_path / "a.csv", encoding)
    assert detect_encoding(path) == detected
    (table,) = open_tables(path)
    assert table.headers == ROWS[0]
    rows = list(table.rows)
    assert [r.number for r in rows] == [2, 3]
    assert rows[1].values == {"行政相对人名称": "淸遠市宏圖商貿有限公司", "处罚决定日期": "2023/5/2"}


def test_xlsx_all_sheets_or_one(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "一月"
    for row in ROWS:
        book.active.append(row)
    second = book.create_sheet("二月")
    second.append([])
    for row in ROWS[:2]:
        second.append(row)
    path = tmp_path / "b.xlsx"
    book.save(path)
    tables = list(open_tables(path))
    assert [t.source for t in tables] == ["b.xlsx#一月", "b.xlsx#二月"]
    assert [r.number for r in tables[1].rows] == [3]
    (only,) = open_tables(path, sheet="二月")
    assert only.source == "b.xlsx#二月"
    with pytest.raises(UnreadableInput, match="没有名为“三月”的工作表"):
        list(open_tables(path, sheet="三月"))


def test_json_array_object_and_jsonl(tmp_path: Path) -> None:
    items = [{"iname": "张三"}, {"iname": "李四"}]
    (tmp_path / "a.json").write_text(json.dumps({"result": items}, ensure_ascii=False), encoding="utf-8")
    (table,) = open_tables(tmp_path / "a.json")
    assert [r.values for r in table.rows] == items
    (tmp_path / "b.jsonl").write_text('{"iname": "张三"}\n{broken\n[1]\n', encoding="utf-8")
    (table,) = open_tables(tmp_path / "b.jsonl")
    rows = list(table.rows)
    assert rows[0].values == {"iname": "张三"}
    assert rows[1].values is None and "不是有效的 JSON" in rows[1].error and rows[1].number == 2
    assert rows[2].values is None and "不是 JSON 对象" in rows[2].error


def test_unusable_input_says_why(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match="文件不存在"):
        open_tables(tmp_path / "missing.csv")
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(UnreadableInput, match=r"不支持的文件格式“\.pdf”"):
        open_tables(tmp_path / "a.pdf")
    (tmp_path / "c.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableInput, match="不是有效的 JSON"):
        list(open_tables(tmp_path / "c.json"))


def test_a_row_with_extra_cells_is_reported_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("名称,日期\n甲,2023-01-01\n乙,2023-01-02,多余\n", encoding="utf-8")
    (table,) = open_tables(path)
    rows = list(table.rows)
    assert rows[1].values is None and rows[1].number == 3 and "多于表头" in rows[1].error


def test_quoted_fields_keep_doubled_quotes_and_delimiters(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('名称,日期\n"清远市""恒达""建筑工程有限公司",2023-01-01\n"甲,乙",2023-01-02\n', encoding="gbk")
    (table,) = open_tables(path)
    assert [r.values for r in table.rows] == [{"名称": '清远市"恒达"建筑工程有限公司', "日期": "2023-01-01"},
                                              {"名称": "甲,乙", "日期": "2023-01-02"}]
    tabbed = tmp_path / "t.tsv"
    tabbed.write_text('名称\t日期\n"a""b"\t2023-01-01\n', encoding="utf-8")
    assert [r.values for r in next(open_tables(tabbed)).rows] == [{"名称": 'a"b', "日期": "2023-01-01"}]


def _sheet_xml(path: Path, sheet_data: str) -> Path:
    """A workbook whose first sheet's cells are written by hand (prefixes, missing positions, empty cells)."""
    book = openpyxl.Workbook()
    book.active.title = "数据"
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = f"<x:worksheet {ns}><x:sheetData>{sheet_data}</x:sheetData></x:worksheet>"
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def test_sheet_extent_counts_filled_cells_wherever_they_stand(tmp_path: Path) -> None:
    limits = SheetLimits(rows=100, columns=10, cells=500, xml_bytes=2**20)
    # Cells without a position follow the previous one; empty (self-closing) cells do not count.
    path = _sheet_xml(tmp_path / "a.xlsx", '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>'
                      '<x:row><x:c r="C2"><x:v>3</x:v></x:c><x:c r="Z99999" s="1"/></x:row>')
    assert check_xlsx(path, limits) == {"数据": Extent(rows=2, columns=3)}
    far = _sheet_xml(tmp_path / "b.xlsx", '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
                     '<x:row r="101"><x:c r="B101"><x:v>1</x:v></x:c></x:row>')
    with pytest.raises(SheetTooLarge, match="工作表“数据”的数据范围至少为101行×2列"):
        check_xlsx(far, limits)
    wide = _sheet_xml(tmp_path / "c.xlsx", '<x:row r="1"><x:c r="K1"><x:v>1</x:v></x:c></x:row>')
    with pytest.raises(SheetTooLarge, match="1行×11列"):
        check_xlsx(wide, limits)
    with pytest.raises(InputTooLarge, match=r"b\.xlsx"):
        list(open_tables(far, limits=limits))
    (tmp_path / "d.xlsx").write_bytes(b"PK not a zip")
    with pytest.raises(UnreadableInput, match="不是有效的 XLSX"):
        list(open_tables(tmp_path / "d.xlsx"))
