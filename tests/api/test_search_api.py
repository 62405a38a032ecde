"""The search API through a real uvicorn server over an indexed generated corpus."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from analyzers.names import analyze_name
from analyzers.pinyin import pinyin_forms
from indexer.model import Audience, Record, RecordType, Status, SubjectCategory
from search_api.schemas import SearchResponse
from stores.base import Filters, Visibility
from stores.embedded import EmbeddedStore
from tests.api.conftest import unmasked_ids

pytestmark = pytest.mark.slow
PUBLIC = Visibility(frozenset({Status.ACTIVE}), frozenset({Audience.PUBLIC}), date(2026, 11, 1))
EVERYTHING = Visibility(None, frozenset(Audience), None)


def _records(store: EmbeddedStore, visibility: Visibility = PUBLIC) -> list[Record]:
    return [h.record for h in store.search([], Filters(visibility=visibility), limit=100000).hits]


def _company(store: EmbeddedStore) -> Record:
    """A company with a visible penalty, a full region prefix and a limited-company legal form."""
    for r in _records(store):
        parts = analyze_name(r.subject_name)
        if r.record_type is RecordType.PENALTY and r.subject_name.startswith("清远市") and \
                parts.legal_form == "有限公司" and parts.industry and len(r.subject_code) == 18 and \
                r.subject_name.endswith("有限公司") and "(" not in r.subject_name:
            return r
    raise AssertionError("corpus has no suitable company")


def _search(client: httpx.Client, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    SearchResponse.model_validate(body)  # the endpoint returns the service's dict without re-validating it
    return body


def test_code_lookup_accepts_case_spaces_and_hyphens(client: httpx.Client, store: EmbeddedStore) -> None:
    record = _company(store)
    code = record.subject_code
    for typed in (code, code.lower(), f"{code[:6]} {code[6:12]} {code[12:]}", f"{code[8:16]}-{code[16]}"):
        body = _search(client, typed)
        assert body["query"]["kind"] == "code"
        assert body["total"] >= 1
        assert {i["subject"]["code"] for i in body["items"]} == {code}
        assert record.id in {i["id"] for i in _search(client, typed, size=50)["items"]}


def test_did_you_mean_for_a_code_with_one_wrong_character(client: httpx.Client, store: EmbeddedStore) -> None:
    code = _company(store).subject_code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    body = _search(client, wrong)
    assert body["query"]["kind"] == "code" and body["query"]["valid"] is False
    assert "校验位" in body["query"]["reason"]
    assert code in [c["code"] for c in body["query"]["did_you_mean"]]
    missing = _search(client, code[:10] + code[11:])  # one character dropped
    assert code in [c["code"] for c in missing["query"]["did_you_mean"]]


def test_document_number_in_any_bracket_style(client: httpx.Client, store: EmbeddedStore) -> None:
    record = next(r for r in _records(store) if r.record_type is RecordType.PENALTY and "(" in r.document_number)
    for opening, closing in ("〔〕", "【】", "（）"):
        typed = record.document_number.replace("(", opening).replace(")", closing)
        body = _search(client, typed)
        assert body["query"]["kind"] == "document_number"
        assert record.id in [i["id"] for i in body["items"]]
    # Written without brackets, with 第 before the serial (清环罚2026第96号): the same record, first.
    issuer, rest = record.document_number.split("(", 1)
    year, serial = rest.split(")", 1)
    body = _search(client, f"{issuer}{year}第{serial}")
    assert body["query"]["kind"] == "document_number" and body["items"][0]["id"] == record.id


def test_court_records_are_labelled_as_courts_label_them(client: httpx.Client) -> None:
    items = _search(client, "失信被执行人", size=50)["items"]
    court = next(i for i in items if i["record_type"] == "dishonest")
    assert court["labels"]["document_number"] == "案号" and court["labels"]["authority"] == "执行法院"
    penalty = next(i for i in _search(client, "罚款", size=50)["items"] if i["record_type"] == "penalty")
    assert penalty["labels"]["document_number"] == "行政处罚决定书文号"


def test_name_variants_find_the_same_subject_first(client: httpx.Client, store: EmbeddedStore) -> None:
    record = _company(store)
    name = record.subject_name
    parts = analyze_name(name)
    variants = {
        "exact": name,
        "traditional": name.replace("远", "遠").replace("清", "淸"),
        "full-width brackets and spaces": " ".join(name),
        "other legal form": name.replace("有限公司", "有限责任公司"),
        "no region": name.removeprefix("清远市"),
        "core and industry": parts.core + parts.industry,
        "county and core and industry": record.district.removesuffix("区").removesuffix("县").removesuffix("市")
        + parts.core + parts.industry if record.district.endswith(("区", "县")) else parts.core + parts.industry,
    }
    for label, typed in variants.items():
        body = _search(client, typed)
        assert body["query"]["kind"] == "name", label
        assert body["items"][0]["subject"]["code"] == record.subject_code, label
        assert body["items"][0]["match"]["explanation"], label
    exact = _search(client, name)["items"][0]["match"]
    other = _search(client, variants["other legal form"])["items"][0]["match"]
    assert exact["score"] == 1.0 and exact["score"] > other["score"]


def test_a_typo_in_a_name_still_finds_the_subject(client: httpx.Client, store: EmbeddedStore) -> None:
    record = _company(store)
    parts = analyze_name(record.subject_name)
    typo = "清远市" + parts.core + parts.industry[:-1] + "有限公司"  # last industry character lost
    body = _search(client, typo)
    assert record.subject_code in [i["subject"]["code"] for i in body["items"][:5]]


def test_text_search_with_synonyms_highlights_and_facets(client: httpx.Client) -> None:
    body = _search(client, "施工工地扬尘", size=5)
    assert body["query"]["kind"] == "text"
    assert body["total"] >= 1
    assert all(i["record_type"] == "penalty" for i in body["items"])
    assert all("<em>" in i["highlights"]["summary"] for i in body["items"])
    assert "<em><em>" not in str(body["items"])
    assert sum(body["facets"]["record_type"].values()) == body["total"]
    synonym = _search(client, "老赖 拒不履行", size=5)
    assert synonym["total"] >= 1 and all(i["record_type"] == "dishonest" for i in synonym["items"])


def test_filters(client: httpx.Client) -> None:
    body = _search(client, "罚款", type="penalty", district="清城区", size=50)
    assert body["total"] >= 1
    assert all(i["record_type"] == "penalty" and i["district"] == "清城区" for i in body["items"])
    dated = _search(client, "罚款", date_from="2026-01-01", date_to="2026-06-30", size=50)
    assert all("2026-01-01" <= i["decision_date"] <= "2026-06-30" for i in dated["items"])
    # Hybrid answers rank a fused list of each retriever's best; the keyword matches are all counted.
    assert dated["query"]["keyword_total"] < _search(client, "罚款")["query"]["keyword_total"]


def test_paging_follows_cursors_past_the_reranked_window(client: httpx.Client) -> None:
    first = _search(client, "罚款", size=7)
    total = first["total"]
    assert total > 40  # more than the re-rank window (20) the test server runs with
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        body = _search(client, "罚款", size=7, cursor=cursor)
        seen.extend(i["id"] for i in body["items"])
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)) == total
    second = _search(client, "罚款", size=7, page=2)
    assert not {i["id"] for i in second["items"]} & {i["id"] for i in first["items"]}


def test_hidden_records_public_versus_staff(client: httpx.Client, staff: httpx.Client,
                                            store: EmbeddedStore) -> None:
    everything = _records(store, EVERYTHING)
    withdrawn = next(r for r in everything if r.status is Status.WITHDRAWN)
    repaired = next(r for r in everything if r.status is Status.REPAIRED)
    expired = next(r for r in everything if r.status is Status.ACTIVE and r.publish_until
                   and r.publish_until < date(2026, 11, 1))
    staff_only = next(r for r in everything if r.audience is Audience.STAFF)
    for record in (withdrawn, repaired, expired, staff_only):
        public = _search(client, record.document_number, size=50)
        assert record.id not in [i["id"] for i in public["items"]]
        seen = {i["id"]: i for i in _search(staff, record.document_number, size=50)["items"]}
        assert record.id in seen
    staff_view = {i["id"]: i for i in _search(staff, withdrawn.document_number, size=50)["items"]}[withdrawn.id]
    assert staff_view["status"] == "withdrawn" and staff_view["status_label"] == "已撤销"
    assert staff_view["status_reason"]
    expired_view = {i["id"]: i for i in _search(staff, expired.document_number, size=50)["items"]}[expired.id]
    assert expired_view["status"] == "expired"


def test_staff_filter_by_status(client: httpx.Client, staff: httpx.Client) -> None:
    for status in ("withdrawn", "repaired", "expired", "active"):
        body = _search(staff, "罚款", status=status, size=50)
        assert body["total"] > 0, status
        assert {i["status"] for i in body["items"]} == {status}
    forbidden = client.get("/v1/search", params={"q": "罚款", "status": "withdrawn"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "staff_only"


def test_entity_profile(client: httpx.Client, staff: httpx.Client, store: EmbeddedStore) -> None:
    record = _company(store)
    response = client.get(f"/v1/entities/{record.subject_code.lower()}")
    assert response.status_code == 200
    profile = response.json()
    assert profile["identity"]["name"]
    groups = profile["records"]
    for group in groups.values():
        dates = [i["decision_date"] for i in group["items"]]
        assert dates == sorted(dates, reverse=True)
    visible = [r for r in _records(store) if r.subject_code == record.subject_code]
    assert sum(g["count"] for g in groups.values()) == len(visible)
    penalties = [r for r in visible if r.record_type is RecordType.PENALTY and r.decision_date
                 and r.decision_date >= date(2026, 11, 1).replace(year=2023)]
    assert profile["flags"]["penalties_last_3_years"]["count"] == len(penalties)
    assert profile["flags"]["penalties_last_3_years"]["total_amount"] == round(sum(r.amount or 0 for r in penalties), 2)
    staff_profile = staff.get(f"/v1/entities/{record.subject_code}").json()
    assert sum(g["count"] for g in staff_profile["records"].values()) >= len(visible)


def test_entity_profile_joins_court_records_published_with_a_masked_code(client: httpx.Client,
                                                                         store: EmbeddedStore) -> None:
    visible = _records(store)
    full_codes = {r.subject_name: r.subject_code for r in visible if len(r.subject_code) == 18
                  and "*" not in r.subject_code}
    debtor = next(r for r in visible if r.record_type is RecordType.DISHONEST and "*" in r.subject_code
                  and r.subject_name in full_codes)
    profile = client.get(f"/v1/entities/{full_codes[debtor.subject_name]}").json()
    assert debtor.id in [i["id"] for i in profile["records"]["dishonest"]["items"]]
    assert profile["flags"]["active_dishonest"] is True


def test_entity_errors(client: httpx.Client) -> None:
    invalid = client.get("/v1/entities/914403001922038217")
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid_code" and "校验位" in invalid.json()["error"]["message"]
    unknown = client.get("/v1/entities/91110000802100433B")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "entity_not_found"


def test_suggest_by_prefix_pinyin_and_initials(client: httpx.Client, store: EmbeddedStore) -> None:
    record = _company(store)
    parts = analyze_name(record.subject_name)
    full, initials = pinyin_forms(parts.region_short, parts.core)
    for typed in ("清远" + parts.core, record.subject_name[:5], full, initials):
        body = client.get("/v1/suggest", params={"q": typed}).json()
        names = [i["name"] for i in body["items"]]
        assert len(names) <= 10
        # Names starting with what was typed come first, most records first; the name matcher's finds follow.
        starting = [i for i in body["items"] if i["name"].startswith(typed)]
        assert body["items"][:len(starting)] == starting
        counts = [i["record_count"] for i in starting]
        assert counts == sorted(counts, reverse=True)
        if typed != initials:  # initials are ambiguous: only require ranking, not presence
            assert record.subject_name in names or len(names) == 10, typed


def test_people_are_masked_in_every_field(client: httpx.Client, store: EmbeddedStore) -> None:
    people = [r for r in _records(store) if r.subject_category is SubjectCategory.PERSON
              and r.details.get("id_number") and "*" not in r.details["id_number"]]
    assert people, "the corpus plants natural persons with unmasked ID numbers"
    for person in people[:5]:
        body = _search(client, person.subject_name, size=50)
        item = next(i for i in body["items"] if i["id"] == person.id)
        assert item["subject"]["code"] == ""
        assert person.details["id_number"] not in str(item)
        assert item["details"]["证件号码"].count("*") == 10


def test_bad_requests_get_chinese_errors_not_500(client: httpx.Client) -> None:
    cases = [({"q": "清" * 201}, "查询词长度不能超过200个字符"), ({"q": "a", "size": 100}, "每页条数不能大于50"),
             ({"q": "a", "page": 0}, "页码不能小于1"), ({"q": "a", "type": "fines"}, "记录类型“fines”无效"),
             ({"q": "a", "cursor": "@@@"}, "游标无效"), ({"q": "罚款", "cursor": "eyJwIjoieCJ9"}, "游标无效"),
             ({"q": "罚款", "cursor": "eyJhIjoieDp5In0"}, "游标无效"),
             ({"q": "a", "date_from": "2023-13-01"}, "起始日期"),
             ({"q": ""}, "查询词"), ({"q": "a", "mode": "fuzzy"}, "检索模式取值无效，可选：keyword、semantic、hybrid")]
    for params, message in cases:
        response = client.get("/v1/search", params=params)
        assert response.status_code == 422, params
        assert message in response.json()["error"]["message"], (params, response.json())
    assert client.get("/v1/nothing").json()["error"]["code"] == "not_found"
    bad_key = client.get("/v1/search", params={"q": "a"}, headers={"X-API-Key": "wrong"})
    assert bad_key.status_code == 401 and bad_key.json()["error"]["message"] == "API Key 无效"


def test_operability(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["records"] > 0
    tagged = client.get("/v1/search", params={"q": "罚款"}, headers={"X-Request-ID": "abc123"})
    assert tagged.headers["x-request-id"] == "abc123"
    assert client.get("/healthz").headers["x-request-id"]
    metrics = client.get("/metrics").text
    assert 'credit_search_requests_total{route="/v1/search",status="200"}' in metrics
    cors = client.get("/v1/suggest", params={"q": "清远"}, headers={"Origin": "https://credit.qingyuan.gov.cn"})
    assert cors.headers["access-control-allow-origin"] == "https://credit.qingyuan.gov.cn"
    compressed = client.get("/v1/search", params={"q": "罚款", "size": 20}, headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.json()["total"] > 0  # httpx has decompressed it
    schema = client.get("/openapi.json").json()
    assert {"/v1/search", "/v1/entities/{code}", "/v1/suggest"} <= set(schema["paths"])


def test_the_id_scan_finds_id_numbers_in_text_but_not_decimal_fractions() -> None:
    """The scan below must not pass for want of finding anything, nor fail on a float of /metrics."""
    text = '{"x":"身份证441802199001011234，旧证441802900101123。","t":"44180219900101123X"}'
    assert unmasked_ids(text) == ["441802199001011234", "441802900101123", "44180219900101123X"]
    assert unmasked_ids('credit_search_request_seconds_sum{route="/v1/search"} 4.672953590421849\n') == []
    assert unmasked_ids("金额 4 672953590421849 元") == ["672953590421849"]


def test_zz_no_public_response_shows_an_unmasked_id_number(public_bodies: list[str]) -> None:
    """Runs last in this module: every public body the tests above received."""
    assert len(public_bodies) > 50
    leaks = [body[max(0, body.find(found) - 200):body.find(found) + 40] for body in public_bodies
             for found in unmasked_ids(body)]
    assert leaks == []
