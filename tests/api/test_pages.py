"""The web pages in a real browser (Debian's chromium, headless, driven by Playwright) against the real server:
the public search box with suggestions, results, the credit profile and the question mode; the staff desk
uploading a list and downloading the XLSX. Screenshots go to test-artifacts/."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from analyzers.codes import uscc_check_char
from indexer.model import Audience, Record, RecordType, Status, SubjectCategory
from stores.base import Filters, Visibility
from stores.embedded import EmbeddedStore
from tests.api.conftest import STAFF_KEY, TODAY, unmasked_ids

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("CREDIT_SEARCH_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking switches chromium keeps calling home, which this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PUBLIC = Visibility(frozenset({Status.ACTIVE}), frozenset({Audience.PUBLIC}), date.fromisoformat(TODAY))
MOBILE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: the README set-up installs Debian's chromium "
                    "(apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport=MOBILE, accept_downloads=True, locale="zh-CN")
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.requested = []
    tab.on("request", lambda request: tab.requested.append(request.url))
    yield tab
    context.close()


def _records(store: EmbeddedStore) -> list[Record]:
    return [h.record for h in store.search([], Filters(visibility=PUBLIC), limit=100000).hits]


def _company(records: list[Record], kind: RecordType) -> Record:
    """A company with a public record of this kind, a full code and a name no other subject has."""
    codes: dict[str, set[str]] = {}
    for r in records:
        codes.setdefault(r.subject_name, set()).add(r.subject_code)
    return next(r for r in records if r.record_type is kind and len(r.subject_code) == 18 and "*" not in r.subject_code
                and r.subject_category is SubjectCategory.ORGANIZATION and len(codes[r.subject_name]) == 1
                and r.subject_name.startswith("清远市"))


def test_type_a_partial_name_pick_a_suggestion_and_open_the_profile(page: Any, base_url: str,
                                                                   store: EmbeddedStore) -> None:
    company = _company(_records(store), RecordType.PENALTY)
    page.goto(base_url + "/")
    box = page.get_by_role("combobox", name="查询内容")
    box.press_sequentially(company.subject_name[:7], delay=40)
    option = page.get_by_role("option", name=re.compile(re.escape(company.subject_name)))
    option.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    # Keyboard only: arrow down to the option, Enter picks it.
    names = [o.inner_text() for o in page.get_by_role("option").all()]
    position = next(i for i, n in enumerate(names) if company.subject_name in n)
    for _ in range(position + 1):
        box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == f"suggestion-{position}"
    box.press("Enter")
    page.locator("section.group").first.wait_for()
    assert "已理解为" in page.locator(".understood").inner_text()
    assert company.subject_name in page.locator(".understood").inner_text()
    badges = page.locator("section.group > h2 .badge").all_inner_texts()
    assert "行政处罚" in badges and set(badges) <= {"失信被执行人", "行政处罚", "行政许可", "信用承诺"}
    page.screenshot(path=str(ARTIFACTS / "public-search.png"), full_page=True)
    page.locator("a.profile-link").first.click()
    page.locator(".identity").wait_for()
    assert page.locator(".identity h2").inner_text() == company.subject_name
    assert company.subject_code in page.locator(".identity").inner_text()
    assert page.locator(".flags li").count() == 3
    penalties = [r for r in _records(store) if r.subject_code == company.subject_code
                 and r.record_type is RecordType.PENALTY]
    heading = page.locator("section.profile").filter(has_text="行政处罚").locator("h2").inner_text()
    assert f"{len(penalties)} 条" in heading
    page.screenshot(path=str(ARTIFACTS / "public-profile.png"), full_page=True)
    page.get_by_role("button", name="← 返回").click()
    page.locator(".understood").wait_for()
    assert page.errors == []


def _first_result(page: Any, typed: str) -> dict[str, str]:
    """Type into the default box, press Enter, and read the first record card and the understood line."""
    box = page.get_by_role("combobox", name="查询内容")
    box.fill(typed)
    box.press("Enter")
    page.locator(".understood").filter(has_text=typed[:6]).wait_for()
    first = page.locator("article.record").first
    return {"understood": page.locator(".understood").inner_text(), "card": first.inner_text()}


def test_the_default_box_finds_a_name_a_code_and_a_document_number_first(page: Any, base_url: str,
                                                                        store: EmbeddedStore) -> None:
    records = _records(store)
    company = _company(records, RecordType.PENALTY)
    penalty = next(r for r in records if r.record_type is RecordType.PENALTY and "(" in r.document_number
                   and r.subject_code != company.subject_code)
    issuer, rest = penalty.document_number.split("(", 1)
    year, serial = rest.split(")", 1)
    page.goto(base_url + "/")
    named = _first_result(page, company.subject_name)
    assert "企业或个人名称" in named["understood"] and company.subject_name in named["card"]
    coded = _first_result(page, company.subject_code)
    assert "统一社会信用代码" in coded["understood"] and company.subject_code in coded["card"]
    # As departments write it without brackets (清环罚2026第96号): still the document, first.
    numbered = _first_result(page, f"{issuer}{year}第{serial}")
    assert "决定书文号或案号" in numbered["understood"] and penalty.document_number in numbered["card"]
    assert "行政处罚决定书文号" in numbered["card"]  # the record's own label
    # Words are searched by keywords and meaning: the line says what its numbers count.
    topic = httpx.get(f"{base_url}/v1/search", params={"q": "扬尘污染"}).json()
    assert topic["query"]["mode"] == "hybrid"
    _first_result(page, "扬尘污染")
    assert page.locator("#total").inner_text() == (f"关键词匹配 {topic['query']['keyword_total']} 条记录；"
                                                   f"按关键词与语义综合排序，可查看前 {topic['total']} 条")
    assert page.errors == []


def test_a_question_in_the_default_box_gets_the_answer_view(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    box = page.get_by_role("combobox", name="查询内容")
    box.fill("清远市有哪些企业被列入失信被执行人？")
    box.press("Enter")
    answer = page.get_by_role("region", name="回答")
    answer.wait_for()
    text = answer.locator(".answer-text").inner_text()
    assert "清远市（含所辖县区）" in text and "家" in text and "1. " in text
    assert "列出" in answer.locator(".rule").inner_text()
    cards = answer.locator("article.record")
    assert cards.count() > 0 and set(cards.locator(".badge").all_inner_texts()) <= {"失信被执行人"}
    page.screenshot(path=str(ARTIFACTS / "public-question-in-box.png"), full_page=True)
    answer.get_by_role("button", name="继续追问").click()
    assert page.get_by_role("radio", name="问答").is_checked()
    box.fill("今天天气怎么样")
    box.press("Enter")
    page.locator(".chat li.a").filter(has_text="不在本平台的服务范围内").wait_for()
    assert page.errors == []


def test_person_records_show_masked_id_numbers(page: Any, base_url: str, store: EmbeddedStore) -> None:
    person = next(r for r in _records(store) if r.subject_category is SubjectCategory.PERSON
                  and r.details.get("id_number") and "*" not in r.details["id_number"])
    page.goto(f"{base_url}/#/search?q={person.details['id_number'][:0]}{person.subject_name}")
    page.locator("section.group").first.wait_for()
    text = page.locator("main").inner_text()
    assert person.subject_name in text
    assert person.details["id_number"] not in text and not unmasked_ids(text)


def test_ask_mode_answers_a_question_and_a_follow_up(page: Any, base_url: str, store: EmbeddedStore) -> None:
    company = _company(_records(store), RecordType.PENALTY)
    page.goto(base_url + "/")
    page.get_by_label("问答").check()
    box = page.get_by_role("combobox", name="查询内容")
    box.fill(f"{company.subject_name}有没有行政处罚？")
    box.press("Enter")
    answers = page.locator(".chat li.a")
    answers.first.filter(has_text="已理解为").wait_for()
    assert "条行政处罚记录" in answers.first.inner_text()
    box.fill("它有失信记录吗？")
    page.get_by_role("button", name="查询").click()
    answers.nth(1).filter(has_text="已理解为").wait_for()
    assert company.subject_name in answers.nth(1).inner_text()
    assert "失信被执行人" in answers.nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / "public-ask.png"), full_page=True)
    assert page.errors == []


# How many lines the text of an element takes.
LINES = """(e) => { const range = document.createRange(); range.selectNodeContents(e);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"""


def _upload_rows(records: list[Record]) -> tuple[bytes, dict[str, str]]:
    """A bidder list as an officer exports it: a company fined this year or last, a company with licences
    only, a bad code. Returns the CSV and the verdict expected for each name."""
    fined = [r for r in records if r.record_type is RecordType.PENALTY and "罚款" in r.category
             and r.decision_date and r.decision_date.year >= date.fromisoformat(TODAY).year - 1]
    dishonest = _company(fined, RecordType.PENALTY)  # a fine within three years: a hit
    adverse = {r.subject_code for r in records if r.record_type in (RecordType.DISHONEST, RecordType.PENALTY)}
    clear = next(r for r in records if r.record_type is RecordType.LICENSING and len(r.subject_code) == 18
                 and "*" not in r.subject_code and r.subject_code not in adverse)
    bad_code = dishonest.subject_code[:-1] + ("0" if dishonest.subject_code[-1] != "0" else "1")
    assert uscc_check_char(bad_code[:17]) != bad_code[17]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "投标人名称", "统一社会信用代码"])
    writer.writerow(["1", dishonest.subject_name, dishonest.subject_code])
    writer.writerow(["2", clear.subject_name, clear.subject_code])
    writer.writerow(["3", "无效代码的投标人", bad_code])
    return out.getvalue().encode("utf-8-sig"), {dishonest.subject_name: "hit", clear.subject_name: "clear",
                                                "无效代码的投标人": "invalid"}


def test_staff_upload_a_list_and_download_the_xlsx(page: Any, base_url: str, store: EmbeddedStore,
                                                   tmp_path: Path) -> None:
    data, expected = _upload_rows(_records(store))
    upload = tmp_path / "投标人名单.csv"
    upload.write_bytes(data)
    page.set_viewport_size({"width": 1280, "height": 900})  # the desk is used at an office screen
    page.goto(base_url + "/staff")
    page.get_by_label("API Key（工作人员密钥）").fill(STAFF_KEY)
    page.get_by_label("上传名单文件（CSV / XLSX）").set_input_files(str(upload))
    page.get_by_role("button", name="开始筛查").click()
    rows = page.locator("table.results tbody tr")
    rows.nth(2).wait_for()
    shown = {row.locator("td").nth(1).inner_text(): row.get_attribute("data-verdict") for row in rows.all()}
    assert shown == expected
    assert page.locator("table.results .verdict.hit").count() == 1
    page.screenshot(path=str(ARTIFACTS / "staff-results.png"), full_page=True)
    # At an office screen a name takes at most two lines and a code one; on a phone a name keeps ten characters a line.
    name_cell, code_cell = rows.first.locator("td").nth(1), rows.first.locator("td").nth(2)
    assert name_cell.evaluate(LINES) <= 2 and code_cell.evaluate(LINES) == 1
    page.set_viewport_size(MOBILE)
    font = float(name_cell.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))
    assert name_cell.bounding_box()["width"] >= 10 * font and code_cell.evaluate(LINES) == 1
    page.screenshot(path=str(ARTIFACTS / "staff-results-mobile.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as download:
        page.get_by_role("button", name="下载 XLSX 结果").click()
    saved = tmp_path / "result.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(saved).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["序号", "投标人名称", "统一社会信用代码"] and "筛查结论" in header
    verdicts = {row[1]: row[header.index("筛查结论")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    labels = {"hit": "命中不良记录", "clear": "未发现不良记录", "invalid": "无法筛查"}
    assert verdicts == {name: labels[v] for name, v in expected.items()}
    # It reads well at first open: numbers are numbers, columns fit their contents, the header stays put and
    # filters, and it prints on landscape pages as wide as the table.
    first = [c.value for c in sheet[2]]
    assert first[0] == 1 and isinstance(first[0], int)
    scores = [row[header.index("匹配度")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(v, float | int) and v > 0 for v in scores) and not any(isinstance(v, str) for v in scores)
    widths = {c: sheet.column_dimensions[c].width for c in "ABC"}
    longest = max(len(n) for n in expected)
    assert widths["B"] >= 2 * longest * 0.9 and widths["C"] >= 18 and widths["A"] < widths["B"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions
    assert sheet.page_setup.orientation == "landscape"
    _render(saved, ARTIFACTS / "staff-result-xlsx.png", tmp_path)
    assert page.errors == []


def _render(workbook: Path, png: Path, work: Path) -> None:
    """The workbook as LibreOffice Calc prints it (its first page, as PNG): how an office suite opens it."""
    profile = work / "libreoffice-profile"
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(work), str(workbook)], check=True, capture_output=True, timeout=180)
    pdf = work / f"{workbook.stem}.pdf"
    # The top of the first page at 150 dpi, where a short list sits.
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-H", "500", "-singlefile", str(pdf),
                    str(png.with_suffix(""))], check=True, capture_output=True, timeout=60)
    assert png.stat().st_size > 5000


def test_staff_pasted_list_is_screened_in_batches_with_progress(page: Any, base_url: str,
                                                                store: EmbeddedStore) -> None:
    names = sorted({r.subject_name for r in _records(store) if r.subject_category is SubjectCategory.ORGANIZATION})
    pasted = (names * (1200 // len(names) + 1))[:1200]
    page.goto(base_url + "/staff")
    page.get_by_label("API Key（工作人员密钥）").fill(STAFF_KEY)
    page.get_by_label(re.compile("粘贴名单")).fill("\n".join(pasted))
    # Every status the page shows, as it shows it: a batch's progress lasts only until the next one.
    page.evaluate("""() => { window.statuses = []; new MutationObserver(() => window.statuses.push(
        document.getElementById("status").innerText)).observe(document.getElementById("status"),
        {childList: true, subtree: true, characterData: true}); }""")
    page.get_by_role("button", name="开始筛查").click()
    page.get_by_text("筛查完成：共 1200 行").wait_for(timeout=120000)
    statuses = page.evaluate("window.statuses")
    assert [s for s in statuses if s.startswith("已筛查")] == ["已筛查 500 / 1200 行……", "已筛查 1000 / 1200 行……",
                                                           "已筛查 1200 / 1200 行……"]
    assert page.locator("table.results tbody tr").count() == 1200
    assert page.locator("table.results tbody tr").nth(1199).locator("td").first.inner_text() == "1200"


# The contrast ratio (WCAG 2) of text on its ground, for elements of the given classes made on the page.
CONTRAST = """(probes) => {
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+/g).slice(0, 3).map((v) => Number(v) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return probes.map(([tag, cls]) => {
    const e = document.createElement(tag);
    e.className = cls;
    e.textContent = "样";
    document.body.append(e);
    const style = getComputedStyle(e);
    const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
    e.remove();
    return [cls || tag, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""
UNLABELLED = """() => [...document.querySelectorAll("input, textarea, select, button")]
  .filter((e) => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                 && !(e.textContent || "").trim())
  .map((e) => e.outerHTML)"""


def test_pages_are_light_self_contained_labelled_and_readable(page: Any, base_url: str) -> None:
    sizes: dict[str, int] = {}
    page.on("response", lambda response: sizes.__setitem__(response.url, len(response.body())) if response.ok
            else None)
    for path in ("/", "/staff"):
        page.requested.clear()
        sizes.clear()
        page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
        assert all(url.startswith(base_url) for url in page.requested), page.requested  # no CDN, works offline
        assert sum(sizes.values()) <= 200 * 1024, sizes
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.evaluate(UNLABELLED) == []
    # Text on coloured grounds keeps at least 4.5:1 contrast (WCAG AA): badges, verdicts, buttons.
    probes = [["span", f"badge {kind}"] for kind in ("penalty", "dishonest", "licensing", "commitment", "status")]
    probes += [["span", f"verdict {verdict}"] for verdict in ("hit", "clear", "review", "invalid")]
    probes += [["button", ""], ["button", "secondary"]]
    low = [(name, round(ratio, 2)) for name, ratio in page.evaluate(CONTRAST, probes) if ratio < 4.5]
    assert low == []


def test_api_docs_render_without_any_external_request(page: Any, base_url: str) -> None:
    """Government intranets reach no CDN: the API page loads its assets from this server alone."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base_url + "/docs")
    page.get_by_text("/v1/search").first.wait_for(timeout=30000)
    page.get_by_text("credit-search 公共信用信息检索").first.wait_for()
    assert page.requested and all(url.startswith(base_url) for url in page.requested), page.requested
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    assert page.errors == []
