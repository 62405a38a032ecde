"""The server without its store (503, then recovery), and a schemathesis run over the OpenAPI schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from indexer.pipeline import load
from stores.embedded import EmbeddedStore
from tests.api.server import running_server

pytestmark = pytest.mark.slow


def test_store_missing_gives_503_then_recovers_by_itself(tmp_path: Path, corpus_files: list[Path]) -> None:
    with running_server(tmp_path) as base:
        down = httpx.get(f"{base}/v1/search", params={"q": "罚款"})
        assert down.status_code == 503
        assert down.json()["error"] == {"code": "store_unavailable", "message": "检索服务暂时不可用，请稍后重试",
                                        "details": None}
        assert httpx.get(f"{base}/readyz").status_code == 503
        assert httpx.get(f"{base}/healthz").status_code == 200
        store = EmbeddedStore(tmp_path)
        load(corpus_files[-1:], store, reject_dir=tmp_path, workers=1)
        store.close()
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert httpx.get(f"{base}/v1/search", params={"q": "承诺"}).json()["total"] > 0


def test_schemathesis_finds_no_server_error(base_url: str, tmp_path: Path) -> None:
    """schemathesis generates requests from the OpenAPI schema, valid and invalid, and checks that none
    gets a 5xx (its ``not_a_server_error`` check)."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base_url}/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "60", "--seed", "7", "--workers", "2",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=400, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    (report,) = tmp_path.glob("*.xml")
    cases = ElementTree.parse(report).getroot().iter("testcase")
    operations = {case.get("name", "") for case in cases}
    assert any("/v1/search" in op for op in operations) and any("/v1/entities" in op for op in operations)
