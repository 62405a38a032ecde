"""A privacy crawl: every public path, over a corpus of expired, repaired, withdrawn and staff-only records and of ID
numbers spelt every way people write them, finds no unmasked ID number and no hidden subject, count or record."""

from __future__ import annotations

import io
import json
import random
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from indexer.analysis import AnalysedRecord, analyse
from indexer.fields import map_headers
from indexer.generate import make_id_number, make_uscc
from indexer.model import RecordType, Status
from indexer.rows import build_record
from stores.base import Store
from stores.embedded import EmbeddedStore
from stores.opensearch import OpenSearchStore
from tests.api.server import running_server
from tests.contract.test_store_contract import commitment, penalty

pytestmark = pytest.mark.slow
TODAY = "2026-11-01"
STAFF_KEY = "privacy-staff-key"
_RNG = random.Random(25)
IDS = [make_id_number(_RNG, region) for region in ("441802", "441823", "441881", "441803", "441821", "441826",
                                                   "441827")]
WIDE = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# Every spelling of an ID number that the crawl plants: glued to a name, after letters, before letters, in
# full-width digits, split by spaces, split by hyphens, and as a court record's code.
SPELLINGS = [f"张三{IDS[0]}", f"ID{IDS[1]}", f"{IDS[2]}abc", IDS[3].translate(WIDE),
             " ".join(IDS[4][i:i + 4] for i in range(0, 18, 4)), f"{IDS[5][:6]}-{IDS[5][6:14]}-{IDS[5][14:]}"]
HIDDEN = {"expired": ("清远市隐没贸易有限公司", make_uscc(_RNG, "441802")),
          "repaired": ("清远市修复建材有限公司", make_uscc(_RNG, "441802")),
          "withdrawn": ("清远市撤回物流有限公司", make_uscc(_RNG, "441803")),
          "staff_only": ("清远市内部承诺科技有限公司", make_uscc(_RNG, "441802"))}
MIXED = ("清远市可见食品有限公司", make_uscc(_RNG, "441802"))
SOLE_TRADER = (f"清城区张三{IDS[0]}五金店", make_uscc(_RNG, "441802", "92"))


def _dishonest(name: str, card: str, case: str) -> AnalysedRecord:
    row = {"失信被执行人姓名/名称": name, "身份证号码/组织机构代码": card, "执行法院": "清远市清城区人民法院",
           "案号": case, "发布时间": "2026-03-01", "失信被执行人行为具体情形": "有履行能力而拒不履行"}
    outcome = build_record(RecordType.DISHONEST, map_headers(RecordType.DISHONEST, row), row)
    assert outcome.record is not None, outcome.problems
    return analyse(outcome.record)


def _corpus() -> tuple[list[AnalysedRecord], dict[str, str]]:
    """The records, and the ids of those that corrections hide (repaired, withdrawn)."""
    docs = [
        penalty(*HIDDEN["expired"], "清城市监罚〔2018〕11号", "2018-01-05", "未取得许可擅自经营", until="2019-01-05"),
        penalty(*HIDDEN["repaired"], "清城市监罚〔2025〕12号", "2025-06-01", "销售不合格建材"),
        penalty(*HIDDEN["withdrawn"], "清新市监罚〔2026〕13号", "2026-02-01", "超限运输"),
        commitment(*HIDDEN["staff_only"], "44180220250301000099", "特定范围内公开"),
        penalty(*MIXED, "清城市监罚〔2026〕14号", "2026-04-01", "食品标签不合格"),
        penalty(*MIXED, "清城市监罚〔2017〕15号", "2017-04-01", "未明码标价", until="2018-04-01"),
        penalty(*SOLE_TRADER, "清城市监罚〔2026〕16号", "2026-05-01", "经营者身份证号" + "，".join(SPELLINGS[1:])),
        _dishonest("李四", IDS[6], "(2026)粤1802执100号"),
    ]
    return docs, {"repaired": docs[1].id, "withdrawn": docs[2].id}


@pytest.fixture(scope="module", params=["embedded", "opensearch"])
def privacy_base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the crawl's corpus, in the embedded store and once more in OpenSearch (the engine a
    deployment outgrowing one machine moves to applies the same publication rules)."""
    data = tmp_path_factory.mktemp("privacy-data")
    env = {"CREDIT_SEARCH_API_KEYS": f"{STAFF_KEY}:staff", "CREDIT_SEARCH_TODAY": TODAY,
           "CREDIT_SEARCH_ENCODER": "none"}
    store: Store
    if request.param == "opensearch":
        index = f"privacy-{uuid.uuid4().hex[:8]}"
        url = request.getfixturevalue("opensearch_url")
        store = OpenSearchStore(url, index, replicas=0)
        env |= {"CREDIT_SEARCH_STORE": "opensearch", "CREDIT_SEARCH_OPENSEARCH_URL": url,
                "CREDIT_SEARCH_OPENSEARCH_INDEX": index}
    else:
        store = EmbeddedStore(data)
    docs, corrected = _corpus()
    store.upsert(docs)
    store.flush()
    assert store.set_status(corrected["repaired"], Status.REPAIRED, "信用修复完成", date(2026, 7, 1))
    assert store.set_status(corrected["withdrawn"], Status.WITHDRAWN, "异议核实后撤销", date(2026, 7, 2))
    store.close()
    with running_server(data, env) as base:
        yield base


def _text(response: httpx.Response) -> str:
    """What a response shows, workbooks unpacked into the text of their parts."""
    if response.content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
    return response.text


def _digits(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())


def _crawl(client: httpx.Client) -> list[tuple[str, httpx.Response]]:
    """Every public path, asked about every subject by name, code, document number and words; each response with
    what was asked."""
    names = [n for n, _ in HIDDEN.values()] + [MIXED[0], SOLE_TRADER[0], "李四"]
    codes = [c for _, c in HIDDEN.values()] + [MIXED[1], SOLE_TRADER[1], IDS[6]]
    queries = [*names, *codes, "清城市监罚(2018)11号", "清新市监罚(2026)13号", "(2026)粤1802执100号", "身份证",
               "超限运输", "销售不合格建材", "张三", "五金店", *SPELLINGS]
    asked: list[tuple[str, httpx.Response]] = []

    def get(path: str, **params: Any) -> None:
        asked.append((json.dumps(params, ensure_ascii=False), client.get(path, params=params)))

    for q in queries:
        get("/v1/search", q=q)
        get("/v1/search", q=q, type="penalty,dishonest,commitment")
    for name in names:
        for part in {name[:2], name[:4], name[:6], name[3:7]} - {""}:
            get("/v1/suggest", q=part)
    for q in ("qy", "qingyuan", "zhangsan", "清远市", "清城区"):
        get("/v1/suggest", q=q)
    for code in codes:
        asked.append((code, client.get(f"/v1/entities/{code}")))
    for q in [*names, *codes]:
        body = {"question": f"{q}有没有行政处罚？"}
        asked.append((json.dumps(body, ensure_ascii=False), client.post("/v1/ask", json=body)))
    items = [{"id": str(n), "name": q} for n, q in enumerate(names)] + \
        [{"id": f"c{n}", "code": c} for n, c in enumerate(codes)]
    for fmt in ("json", "csv", "xlsx"):
        asked.append((json.dumps(items, ensure_ascii=False),
                      client.post("/v1/screen", json={"items": items}, params={"format": fmt})))
    for page in ("/", "/staff"):
        asked.append(("", client.get(page)))
    return asked


def test_public_paths_show_no_id_number_and_no_hidden_subject(privacy_base: str) -> None:
    with httpx.Client(base_url=privacy_base, timeout=60) as client:
        asked = _crawl(client)
    # 404: a hidden subject's profile; 422: a profile asked for by an ID number.
    assert len(asked) > 100 and all(r.status_code in (200, 404, 422) for _, r in asked), \
        [(q, r.status_code, r.text[:200]) for q, r in asked if r.status_code not in (200, 404, 422)]
    for question, response in asked:
        shown = _text(response)
        digits = _digits(shown)
        for number in IDS:
            assert number[4:14] not in digits, (question, shown[:500])
        # A hidden subject's name or code appears only where the question itself carried it (an echo).
        for name, code in HIDDEN.values():
            for secret in (name, code):
                assert secret not in shown or secret in question, (secret, question, shown[:500])

    by_question = {(q, r.url.path): r for q, r in asked}
    for name, code in HIDDEN.values():
        assert by_question[(code, f"/v1/entities/{code}")].status_code == 404
        results = {q: r for q, r in asked if r.url.path == "/v1/screen" and r.url.params.get("format") == "json"}
        for result in next(iter(results.values())).json()["results"]:
            if result["input"]["name"] == name or result["input"]["code"] == code:
                assert result["verdict"] == "clear" and not result["match"] and not result["candidates"], result


def test_public_counts_are_counts_of_public_records_and_staff_see_everything(privacy_base: str) -> None:
    with httpx.Client(base_url=privacy_base, timeout=60) as public, \
            httpx.Client(base_url=privacy_base, timeout=60, headers={"X-API-Key": STAFF_KEY}) as staff:
        public_items = public.get("/v1/suggest", params={"q": "清远市可见"}).json()["items"]
        staff_items = staff.get("/v1/suggest", params={"q": "清远市可见"}).json()["items"]
        assert [(i["name"], i["record_count"]) for i in public_items] == [(MIXED[0], 1)]
        assert [(i["name"], i["record_count"]) for i in staff_items] == [(MIXED[0], 2)]
        # The hidden subjects are there, for staff: the public answers above are not empty for want of data.
        for name, code in HIDDEN.values():
            assert staff.get(f"/v1/entities/{code}").status_code == 200
            assert name in {i["name"] for i in staff.get("/v1/suggest", params={"q": name[:5]}).json()["items"]}
            screened = staff.post("/v1/screen", json={"items": [{"code": code}]}).json()["results"][0]
            assert screened["match"]["name"] == name
        # A subject with a public penalty is a hit for the public, by name and by code.
        for item in ({"name": MIXED[0]}, {"code": MIXED[1]}):
            verdict = public.post("/v1/screen", json={"items": [item]}).json()["results"][0]
            assert verdict["verdict"] == "hit" and verdict["match"]["name"] == MIXED[0], verdict
        # Staff see the sole trader's name as registered; the public see it masked.
        registered = staff.get("/v1/search", params={"q": SOLE_TRADER[1]}).json()["items"][0]["subject"]["name"]
        shown = public.get("/v1/search", params={"q": SOLE_TRADER[1]}).json()["items"][0]["subject"]["name"]
        assert registered == SOLE_TRADER[0] and re.fullmatch(r"清城区张三4418\*{10}\d{3}[\dX]五金店", shown)
