"""What the internet sends: spreadsheet bombs, formulas in exported cells, odd and oversized requests. Each test
sends it to the real server and checks the answer a client gets, and that the server still answers after."""

from __future__ import annotations

import csv
import io
import json
import socket
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from tests.api.conftest import LONG_STAFF_KEY
from tests.e2e.cli import run

pytestmark = pytest.mark.slow
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a spreadsheet reads as the start of a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_NAMES = ['=HYPERLINK("http://evil.example/x","点我")', "=cmd|' /C calc'!A0", "+1+2", "-1+2",
                 "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _workbook(cells: dict[str, str]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bombs() -> dict[str, bytes]:
    """A sheet whose used range is the whole grid, and one of 100 columns by 100,000 rows; both a few KB."""
    wide = {f"{chr(64 + c // 26) if c >= 26 else ''}{chr(65 + c % 26)}1": f"列{c}" for c in range(100)}
    wide |= {"A1": "企业名称", "CV100000": "x"}
    return {"grid": _workbook({"A1": "企业名称", "A2": "清远市恒达建筑工程有限公司", "XFD1048576": "x"}),
            "wide": _workbook(wide)}


def test_spreadsheet_bombs_are_refused_and_the_server_keeps_answering(client: httpx.Client, tmp_path: Path,
                                                                      api_data: Path) -> None:
    for kind, data in _bombs().items():
        assert len(data) < 10_000
        response = client.post("/v1/screen", files={"file": (f"{kind}.xlsx", data, XLSX)})
        assert response.status_code == 413, response.text
        message = response.json()["error"]["message"]
        assert "工作表“Sheet”" in message and "超过上限" in message, message
        assert client.get("/v1/search", params={"q": "罚款"}).status_code == 200
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(data)
        screened = run("screen", path, "--out", tmp_path / "out.csv", "--data-dir", api_data)
        assert screened.returncode == 2 and "超过上限" in screened.stderr and "Traceback" not in screened.stderr
    # A department file of the same shape is refused by the load, which names the file and the sheet.
    indexed = run("index", tmp_path / "grid.xlsx", "--data-dir", tmp_path / "data", "--no-embed")
    assert indexed.returncode == 2 and "grid.xlsx" in indexed.stdout + indexed.stderr
    assert "工作表“Sheet”" in indexed.stdout + indexed.stderr


def _csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_exported_cells_are_never_formulas(staff: httpx.Client) -> None:
    items = [{"id": str(n), "name": name, "code": "=1+1" if n == 0 else ""} for n, name in enumerate(HOSTILE_NAMES)]
    as_csv = staff.post("/v1/screen", json={"items": items}, params={"format": "csv"})
    assert as_csv.status_code == 200, as_csv.text
    rows = _csv_cells(as_csv.content)
    assert [r[1] for r in rows[1:]] == ["'" + n for n in HOSTILE_NAMES]  # the text survives, defused
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or cell.lstrip("+-").replace(".", "").isdigit(), cell

    as_xlsx = staff.post("/v1/screen", json={"items": items}, params={"format": "xlsx"})
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    # The text survives as text (XML stores a carriage return as a line feed).
    assert [sheet.cell(row=r, column=2).value for r in range(2, len(HOSTILE_NAMES) + 2)] == \
        [n.replace("\r", "\n") for n in HOSTILE_NAMES]
    with zipfile.ZipFile(io.BytesIO(as_xlsx.content)) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_quoted_csv_fields_keep_their_quotes_and_commas(staff: httpx.Client) -> None:
    upload = '序号,企业名称\n1,"清远市""恒达""建筑工程有限公司"\n2,"清远市恒达建筑工程有限公司,清城分公司"\n'
    response = staff.post("/v1/screen", files={"file": ("名单.csv", upload.encode("gbk"), "text/csv")})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["input"]["name"] for r in results] == ['清远市"恒达"建筑工程有限公司',
                                                    "清远市恒达建筑工程有限公司,清城分公司"]
    assert all(r["verdict"] != "invalid" for r in results)


def _raw(base: str, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send a request head as bytes (clients refuse to build some of these) and read the answer."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=30) as conn:
        conn.sendall(head)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(line.decode("latin-1").lower().split(": ", 1) for line in header_block.split(b"\r\n") if line)
    return int(status_line.split()[1]), headers, body


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    error: dict[str, Any] = response.json()["error"]
    return error


def test_odd_requests_get_a_chinese_answer_naming_the_problem(client: httpx.Client, base_url: str) -> None:
    # A NUL byte is not an outage.
    assert client.get("/v1/search", params={"q": "扬尘\x00污染"}).status_code == 200
    json_body = {"Content-Type": "application/json"}
    cases = [
        (b'{"question": "\\ud800abc"}', 422, "代理项"),
        (b'{"question": "', 422, "不是有效的 JSON（第1行"),
        (b"[" * 30_000 + b"]" * 30_000, 422, "嵌套"),
        (b'{"question": "\xff\xfe"}', 422, "UTF-8"),
    ]
    for body, status, words in cases:
        error = _error(client.post("/v1/ask", content=body, headers=json_body), status)
        assert words in error["message"], error
    error = _error(client.post("/v1/screen", content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}),
                   400)
    assert "boundary" in error["message"]
    error = _error(client.post("/v1/screen", content=b"--b\r\n[None]--b--\r\n",
                               headers={"Content-Type": "multipart/form-data; boundary=b"}), 400)
    assert "multipart" in error["message"]
    error = _error(client.post("/v1/ask", json=[0]), 422)
    assert "请求体应为 JSON 对象" in error["message"]

    # 405 says which methods the path takes.
    refused = client.delete("/v1/search")
    assert _error(refused, 405)["code"] == "method_not_allowed" and refused.headers["allow"] == "GET"

    # A 900 KB URL: the error envelope in Chinese, not the HTTP server's English.
    status, headers, body = _raw(base_url, b"GET /v1/search?q=" + b"a" * 900_000 + b" HTTP/1.1\r\nHost: x\r\n"
                                 b"Connection: close\r\n\r\n")
    assert status == 414 and headers["content-type"] == "application/json"
    assert "请求地址过长" in json.loads(body)["error"]["message"]


def test_bodies_have_limits_and_errors_do_not_echo_them(client: httpx.Client, staff: httpx.Client) -> None:
    error = _error(client.post("/v1/ask", content=b'{"question": "' + b"x" * 50 * 2**20 + b'"}',
                               headers={"Content-Type": "application/json"}), 413)
    assert "64 KB" in error["message"]

    def chunks() -> Any:  # no Content-Length: the body is counted as it arrives
        for _ in range(22):
            yield b"x" * 2**20

    error = _error(client.post("/v1/screen", content=chunks(), headers={"Content-Type": "application/json"}), 413)
    assert "21 MB" in error["message"]

    invalid = client.post("/v1/screen", json={"items": "行" * 4_000_000})
    assert len(invalid.content) < 10_000 and _error(invalid, 422)["details"]["errors"][0]["input"].endswith("…")
    many = client.post("/v1/screen", json={"items": [{"name": 1}] * 5000})
    assert len(many.content) < 20_000 and "等共5000处错误" in _error(many, 422)["message"]
    # A long configured key works, compared in constant time; a wrong one of the same length does not.
    assert staff.get("/v1/search", params={"q": "罚款"}, headers={"X-API-Key": LONG_STAFF_KEY}).status_code == 200
    assert client.get("/v1/search", params={"q": "罚款"},
                      headers={"X-API-Key": LONG_STAFF_KEY[:-1] + "j"}).status_code == 401



def test_every_error_has_one_shape_and_names_the_real_problem(client: httpx.Client) -> None:
    """Whatever fails, ``details`` is an object; a body of the wrong JSON kind is named as such."""
    cases = [
        (client.get("/v1/search", params={"q": "x", "size": "many"}), 422, "每页条数应为整数"),
        (client.post("/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"}), 422,
         "不是有效的 JSON"),
        (client.post("/v1/ask", json=["清远市恒达建筑工程有限公司有没有处罚"]), 422, "请求体应为 JSON 对象"),
        (client.post("/v1/ask", json={"question": 1}), 422, "问题应为文本"),
        (client.get("/v1/nowhere"), 404, "不存在"),
        (client.delete("/v1/search"), 405, "不支持 DELETE"),
        (client.get("/v1/entities/123"), 422, "代码无效"),
    ]
    for response, status, words in cases:
        error = _error(response, status)
        assert isinstance(error["details"], dict) and words in error["message"], error
        assert "0取值无效" not in error["message"]
    listed = _error(cases[0][0], 422)["details"]["errors"]
    assert listed == [{"field": "size", "reason": "应为整数", "input": "many"}]
