"""The server without its store (503, then recovery), and a schemathesis run over the OpenAPI schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from indexer.pipeline import load
from stores.embedded import EmbeddedStore
from tests.api.conftest import STAFF_KEY
from tests.api.server import running_server
from tests.contract.test_store_contract import penalty

pytestmark = pytest.mark.slow


def test_store_missing_gives_503_then_recovers_by_itself(tmp_path: Path, corpus_files: list[Path]) -> None:
    with running_server(tmp_path) as base:
        down = httpx.get(f"{base}/v1/search", params={"q": "罚款"})
        assert down.status_code == 503
        assert down.json()["error"] == {"code": "store_unavailable", "message": "检索服务暂时不可用，请稍后重试",
                                        "details": {}}
        assert httpx.get(f"{base}/readyz").status_code == 503
        assert httpx.get(f"{base}/healthz").status_code == 200
        store = EmbeddedStore(tmp_path)
        load(corpus_files[-1:], store, reject_dir=tmp_path, workers=1)
        store.close()
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert httpx.get(f"{base}/v1/search", params={"q": "承诺"}).json()["total"] > 0


def test_screening_refuses_while_a_first_load_has_not_built_its_subjects(tmp_path: Path) -> None:
    """A first load killed before its end leaves records without subject rows: every name would seem to have
    no record. Screening says it cannot answer yet (never 未发现不良记录), /readyz is not ready, searches
    still answer; once the load completes the same row is a hit."""
    store = EmbeddedStore(tmp_path)
    store.upsert([penalty("清远市恒达建筑工程有限公司", "91441802MA4UJ3XK72", "清城市监罚〔2026〕1号", "2026-03-01",
                          "施工工地扬尘污染")])  # written, never flushed: the state a killed first load leaves
    row = {"items": [{"name": "清远市恒达建筑工程有限公司"}]}
    headers = {"X-API-Key": STAFF_KEY}
    with running_server(tmp_path, {"CREDIT_SEARCH_API_KEYS": f"{STAFF_KEY}:staff"}) as base:
        refused = httpx.post(f"{base}/v1/screen", json=row, headers=headers)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "not_ready"
        assert "首次数据加载尚未完成" in refused.json()["error"]["message"]
        assert httpx.get(f"{base}/readyz").status_code == 503
        assert httpx.get(f"{base}/v1/search", params={"q": "扬尘"}).json()["total"] == 1
        store.flush()
        screened = httpx.post(f"{base}/v1/screen", json=row, headers=headers)
        assert screened.status_code == 200 and screened.json()["results"][0]["verdict"] == "hit"
        assert httpx.get(f"{base}/readyz").status_code == 200
    store.close()


@pytest.mark.parametrize("headers", [[], ["-H", f"X-API-Key: {STAFF_KEY}"]], ids=["public", "staff"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(base_url: str, tmp_path: Path,
                                                                     headers: list[str]) -> None:
    """schemathesis generates requests from the OpenAPI schema, valid and invalid, and checks every answer:
    no 5xx, status codes, content types, headers and bodies as documented, invalid input refused, unsupported
    methods refused with Allow. Only its check that every schema-valid request succeeds is left out: a code with
    a wrong check character or a cursor this server did not make is valid by the schema and rightly refused."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base_url}/openapi.json", *headers,
         "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--max-examples", "170", "--seed", "7",
         "--workers", "2", "--continue-on-failure", "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-5000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert generated and int(generated.group(1)) >= 1000 and generated.group(1) == generated.group(2), \
        result.stdout[-2000:]
    (report,) = tmp_path.glob("*.xml")
    cases = ElementTree.parse(report).getroot().iter("testcase")
    operations = {case.get("name", "") for case in cases}
    for operation in ("GET /v1/search", "GET /v1/entities/{code}", "GET /v1/suggest", "POST /v1/ask",
                      "POST /v1/screen"):
        assert any(operation in name for name in operations), operations
