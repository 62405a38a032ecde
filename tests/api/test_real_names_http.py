"""Screening and suggestions over HTTP on real names: a store of real registered and listed companies' names, each
with a penalty, indexed by the CLI and served; one uploaded XLSX holds a real short name, a real name with a
homophone typo, and a real name with another company's code."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator

import httpx
import pytest
from openpyxl import Workbook

from analyzers.names import parse_name
from analyzers.pinyin import readings
from bench import real_names
from tests.api.server import running_server
from tests.e2e.cli import run

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not real_names.available(),
                                 reason=f"the real name files are not on this machine ({real_names.REAL_DATA})")]
TODAY = "2026-11-01"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAFF = {"X-API-Key": "real-staff"}


def _population() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, code) of the companies indexed, and the listed companies' (short name, full name)."""
    rng = random.Random(5)
    registry = [(r["company_name"].strip(), r["uscc"].strip())
                for r in real_names._rows("company_names_registry_sample.csv")]
    listed = [(r["short_name"], r["full_name"]) for r in real_names._rows("pairs_sse_short_full.csv")]
    companies = dict(rng.sample(registry, 3000))
    for _, full in listed:
        companies.setdefault(full, real_names._code_for(full))
    return list(companies.items()), listed


def _unambiguous_short(names: list[str], listed: list[tuple[str, str]]) -> tuple[str, str]:
    """A listed company's four-character short name that any reader would pin on it: its characters stand in its full
    name in order, its first two side by side (the 字号) in no other indexed name, and the full name does not start
    with it (a region comes first)."""
    for short, full in sorted(listed):
        head = short[:2]
        if len(short) == 4 and not full.startswith(short) and head in full and \
                real_names.LCSseq.similarity(short, full) == 4 and sum(head in n for n in names) == 1:
            return short, full
    raise AssertionError("no unambiguous short name in the population")


def _homophone_typo(companies: list[tuple[str, str]]) -> tuple[str, str, str]:
    """(typed name, registered name, code): one character of a company's 字号 replaced by one read alike."""
    pool = sorted({c for n, _ in companies for c in n if "\u4e00" <= c <= "\u9fff"})
    keys = {parse_name(n).key for n, _ in companies}
    for name, code in companies:
        parts = parse_name(name)
        if not parts.legal_form or len(parts.core) < 2 or not parts.regions:
            continue
        for at, char in enumerate(parts.core):
            alike = [c for c in pool if c != char and readings(c) & readings(char)]
            for other in alike:
                core = parts.core[:at] + other + parts.core[at + 1:]
                if core + parts.industry not in keys:
                    return name.replace(parts.core, core, 1), name, code
    raise AssertionError("no homophone typo found")


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    work = tmp_path_factory.mktemp("real-names")
    companies, listed = _population()
    source = work / "处罚.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "处罚类别", "处罚决定日期",
                         "处罚机关", "违法事实"])
        for n, (name, code) in enumerate(companies, 1):
            writer.writerow([name, code, f"测试罚〔2026〕{n}号", "罚款", "2026-03-01", "清远市市场监督管理局",
                             "未按规定公示年度报告"])
    loaded = run("index", source, "--data-dir", work / "data", "--no-embed")
    assert loaded.returncode in (0, 3), loaded.stdout + loaded.stderr
    names = [n for n, _ in companies]
    facts: dict[str, object] = {"short": _unambiguous_short(names, listed), "typo": _homophone_typo(companies),
                                "companies": companies}
    env = {"CREDIT_SEARCH_API_KEYS": "real-staff:staff", "CREDIT_SEARCH_TODAY": TODAY, "CREDIT_SEARCH_ENCODER": "none"}
    with running_server(work / "data", env) as base:
        yield base, facts


def test_a_short_name_a_typo_and_a_mismatched_code_are_never_cleared(
        real_server: tuple[str, dict[str, object]]) -> None:
    base, facts = real_server
    short, full = facts["short"]  # type: ignore[misc]
    typed, registered, registered_code = facts["typo"]  # type: ignore[misc]
    companies: list[tuple[str, str]] = facts["companies"]  # type: ignore[assignment]
    (name_a, _), (_, code_b) = companies[0], companies[1]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["序号", "投标人名称", "统一社会信用代码"], [1, short, ""], [2, typed, ""], [3, name_a, code_b]):
        sheet.append(row)
    upload = io.BytesIO()
    book.save(upload)
    response = httpx.post(f"{base}/v1/screen", files={"file": ("投标人.xlsx", upload.getvalue(), XLSX)}, headers=STAFF,
                          timeout=60)
    assert response.status_code == 200, response.text
    by_short, by_typo, mismatched = response.json()["results"]
    assert by_short["verdict"] == "hit" and by_short["match"]["name"] == full, by_short
    assert by_typo["verdict"] == "review", by_typo
    assert by_typo["candidates"][0]["name"] == registered and by_typo["candidates"][0]["code"] == registered_code
    assert mismatched["verdict"] == "review" and "不符" in mismatched["reason"], mismatched
    assert {c["code"] for c in mismatched["candidates"]} >= {code_b}


def test_suggestions_find_a_short_name_inside_the_full_name(real_server: tuple[str, dict[str, object]]) -> None:
    base, facts = real_server
    short, full = facts["short"]  # type: ignore[misc]
    items = httpx.get(f"{base}/v1/suggest", params={"q": short}).json()["items"]
    assert full in [i["name"] for i in items], items
    slipped = short[:3] + ("有" if short[3] != "有" else "无")  # the last character mistyped
    assert full in [i["name"] for i in httpx.get(f"{base}/v1/suggest", params={"q": slipped}).json()["items"]]
