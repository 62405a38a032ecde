"""Bulk screening through the real server: the labelled set's precision and recall, a 1,000-row XLSX upload
answered with an XLSX, the audit log, limits and formats, and the CLI twin."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from analyzers.codes import id_card_check_char, uscc_check_char
from bench.screening_set import KINDS, build_set, evaluate
from indexer.model import Audience, RecordType, Status, SubjectCategory
from search_api.screen_files import RESULT_COLUMNS
from stores.base import Filters, Visibility
from stores.embedded import EmbeddedStore
from tests.api.conftest import STAFF_KEY, TODAY
from tests.e2e.cli import run

pytestmark = pytest.mark.slow
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC = Visibility(frozenset({Status.ACTIVE}), frozenset({Audience.PUBLIC}), date.fromisoformat(TODAY))


def _audit_lines(data: Path) -> list[dict[str, object]]:
    path = data / "audit" / "screening.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _dishonest_company(store: EmbeddedStore, client: httpx.Client) -> str:
    """A company on the public dishonest list whose name alone identifies it (the generator reuses some
    names for several companies, and those rightly go to review)."""
    hits = store.search([], Filters(visibility=PUBLIC, record_types=(RecordType.DISHONEST,)), limit=5000).hits
    names = list(dict.fromkeys(h.record.subject_name for h in hits
                               if h.record.subject_category is not SubjectCategory.PERSON))[:50]
    results = client.post("/v1/screen", json={"items": [{"name": n} for n in names]}).json()["results"]
    return next(n for n, r in zip(names, results, strict=True) if r["verdict"] == "hit")


def test_labelled_set_meets_the_precision_and_recall_targets(staff: httpx.Client, store: EmbeddedStore) -> None:
    pairs = build_set(store.iter_subjects(), per_kind=40)
    assert {p.kind for p in pairs} >= set(KINDS) - {"former_name"} and len(pairs) >= 200
    response = staff.post("/v1/screen", json={"items": [{"id": str(i), "name": p.query} for i, p in enumerate(pairs)]})
    assert response.status_code == 200, response.text
    metrics = evaluate(pairs, response.json()["results"])
    assert metrics["recall_at_1"] >= 0.95, metrics
    assert metrics["precision"] >= 0.98, metrics


def test_xlsx_upload_of_1000_rows_returns_an_xlsx_and_is_audited(staff: httpx.Client, store: EmbeddedStore,
                                                                  api_data: Path) -> None:
    subjects = sorted((s for s in store.iter_subjects() if len(s.code) == 18 and "*" not in s.code),
                      key=lambda s: s.key)
    dishonest = _dishonest_company(store, staff)
    good = subjects[0].code
    bad_check = good[:-1] + next(c for c in "0123456789" if c != good[-1] and c != uscc_check_char(good[:17]))
    headers = ["序号", "供应商名称", "统一社会信用代码", "备注"]
    rows: list[list[str]] = [["1", dishonest, "", "失信企业"], ["2", "", bad_check, "代码错一位"],
                             ["3", "", "", "空行"], ["4", "清远市从未登记过的某某某公司", "", "查无此名"]]
    for n in range(5, 1001):
        s = subjects[n % len(subjects)]
        rows.append([str(n), s.name, s.code if n % 3 == 0 else "", ""])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [headers, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    upload = buffer.getvalue()
    before = len(_audit_lines(api_data)) if (api_data / "audit" / "screening.jsonl").exists() else 0

    response = staff.post("/v1/screen", files={"file": ("投标人名单.xlsx", upload, XLSX)}, headers={"Accept": XLSX},
                          timeout=120)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == XLSX
    result = load_workbook(io.BytesIO(response.content)).active
    assert result is not None
    cells = list(result.iter_rows(values_only=True))
    table = [[("" if v is None else str(v)) for v in row] for row in cells]
    assert table[0] == [*headers, *RESULT_COLUMNS]
    assert len(table) == 1001
    assert [r[:4] for r in table[1:]] == rows  # every input column comes back as it was sent
    verdict = {r[0]: r[4] for r in table[1:]}
    reason = {r[0]: r[5] for r in table[1:]}
    assert verdict["1"] == "命中不良记录" and "失信被执行人" in table[1][10]
    assert verdict["2"] == "无法筛查" and "校验" in reason["2"]
    assert verdict["3"] == "无法筛查" and verdict["4"] == "未发现不良记录"
    assert {r[4] for r in table[5:]} <= {"命中不良记录", "未发现不良记录", "需人工复核"}
    by_code = [r for r in cells[5:] if r[2]]
    # A valid code decides identity; the score is a number, as Excel can sort and filter it.
    assert by_code and all(r[7] == r[2] and r[8] == 1 and isinstance(r[8], int | float) for r in by_code)

    lines = _audit_lines(api_data)
    assert len(lines) == before + 1
    entry = lines[-1]
    assert entry["rows"] == 1000 and entry["channel"] == "api" and entry["role"] == "staff"
    assert entry["input_sha256"] == hashlib.sha256(upload).hexdigest()
    assert str(entry["who"]).startswith("key:") and STAFF_KEY not in json.dumps(entry)


def test_json_rows_limits_and_formats(client: httpx.Client) -> None:
    too_many = client.post("/v1/screen", json={"items": [{"name": "清远市恒达建筑工程有限公司"}] * 10001})
    assert too_many.status_code == 413 and "10000" in too_many.json()["error"]["message"]
    id_number = "44180219800101" + "0012"
    id_number = id_number[:17] + id_card_check_char(id_number[:17])
    mixed = client.post("/v1/screen", json={"items": [{"id": "a", "name": ""}, {"id": "b", "code": "9144180"},
                                                      {"id": "c", "name": "清远市从未登记过的某某某公司"},
                                                      {"id": "d", "code": id_number}]})
    assert mixed.status_code == 200
    body = mixed.json()
    assert [r["verdict"] for r in body["results"]] == ["invalid", "invalid", "clear", "invalid"]
    assert [r["id"] for r in body["results"]] == ["a", "b", "c", "d"]
    assert body["summary"] == {"rows": 4, "hit": 0, "clear": 1, "review": 0, "invalid": 3}
    assert id_number not in mixed.text and "身份证" in body["results"][3]["reason"]
    as_csv = client.post("/v1/screen", json={"items": [{"name": "清远市从未登记过的某某某公司"}]},
                         headers={"Accept": "text/csv"})
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert header[-len(RESULT_COLUMNS):] == list(RESULT_COLUMNS)
    assert client.post("/v1/screen", content=b"name", headers={"Content-Type": "text/plain"}).status_code == 415
    bad_file = client.post("/v1/screen", files={"file": ("x.csv", "甲,乙\n1,2\n".encode(), "text/csv")})
    assert bad_file.status_code == 422 and "未找到名称列" in bad_file.json()["error"]["message"]
    bad_threshold = client.post("/v1/screen", json={"items": [], "threshold": 2})
    assert bad_threshold.status_code == 422 and "匹配度阈值不能大于" in bad_threshold.json()["error"]["message"]
    missing = client.post("/v1/screen", json={"threshold": 0.9})
    assert missing.status_code == 422 and "待筛查的行为必填项" in missing.json()["error"]["message"]


def test_cli_screen_writes_the_verdicts_next_to_the_input(store: EmbeddedStore, staff: httpx.Client,
                                                          api_data: Path, tmp_path: Path) -> None:
    dishonest = _dishonest_company(store, staff)
    source = tmp_path / "bidders.csv"
    source.write_text("序号,企业名称\n1," + dishonest + "\n2,清远市从未登记过的某某某公司\n", encoding="gbk")
    out = tmp_path / "result.csv"
    done = run("screen", source, "--out", out, "--data-dir", api_data, env={"CREDIT_SEARCH_TODAY": TODAY})
    assert done.returncode == 0, done.stderr
    assert "命中 1" in done.stdout
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["序号", "企业名称"] and [r[2] for r in rows[1:]] == ["命中不良记录", "未发现不良记录"]
    entry = _audit_lines(api_data)[-1]
    assert entry["channel"] == "cli" and entry["rows"] == 2 and str(entry["who"]).startswith("cli:")
    missing = run("screen", tmp_path / "none.csv", "--out", out, "--data-dir", api_data)
    assert missing.returncode == 2 and "文件不存在" in missing.stderr
    no_index = run("screen", source, "--out", out, "--data-dir", tmp_path / "empty")
    assert no_index.returncode == 2 and "没有索引，请先运行 credit-search index" in no_index.stderr
