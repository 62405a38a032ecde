"""A zero-downtime rebuild on a real OpenSearch node: `credit-search index --rebuild` while a server answers
searches. No request fails, the new generation is served after the alias swap, and the old one is gone."""

from __future__ import annotations

import csv
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
from opensearchpy import OpenSearch

from analyzers.codes import uscc_check_char
from tests.api.server import running_server
from tests.e2e.cli import run

NEW_NAME = "清远市重建验证建材有限公司"
QUERIES = ("拒不履行", "清远市", "人民法院", "有限公司", NEW_NAME)


def _extra_penalty(path: Path) -> Path:
    """A department file with one penalty of a subject the first load did not have."""
    code = "91441802MA4NEW001"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法事实", "处罚类别",
                         "处罚决定日期", "处罚机关", "罚款金额（万元）"])
        writer.writerow([NEW_NAME, code + uscc_check_char(code), "清城市监罚〔2026〕901号", "销售不合格建材", "罚款",
                         "2026-09-01", "清远市清城区市场监督管理局", "1.2"])
    return path


def test_a_rebuild_swaps_generations_while_the_server_answers(opensearch_url: str,
                                                              corpus: tuple[Path, dict[str, Any]],
                                                              tmp_path: Path) -> None:
    alias = f"rebuild-{uuid.uuid4().hex[:8]}"
    env = {"CREDIT_SEARCH_STORE": "opensearch", "CREDIT_SEARCH_OPENSEARCH_URL": opensearch_url,
           "CREDIT_SEARCH_OPENSEARCH_INDEX": alias, "CREDIT_SEARCH_ENCODER": "none",
           "CREDIT_SEARCH_TODAY": "2026-11-01"}
    files = [corpus[0] / "dishonest.json"]
    first = run("index", *files, "--data-dir", tmp_path, env=env)
    assert first.returncode in (0, 3), first.stderr  # 3: the generated files hold some rows to reject
    engine = OpenSearch(opensearch_url)
    old = set(engine.indices.get(index=f"{alias}*"))
    assert len(old) == 3  # records and subjects of one generation, and the vector cache

    answers: list[tuple[str, int, int]] = []
    done = threading.Event()
    with running_server(tmp_path, env) as base, httpx.Client(base_url=base, timeout=30) as client:
        before = client.get("/v1/search", params={"q": NEW_NAME}).json()
        assert not any(i["subject"]["name"] == NEW_NAME for i in before["items"])

        def search_all_the_time() -> None:
            while not done.is_set():
                for q in QUERIES:
                    response = client.get("/v1/search", params={"q": q})
                    answers.append((q, response.status_code, response.json().get("total", -1)
                                    if response.status_code == 200 else -1))

        searching = threading.Thread(target=search_all_the_time)
        searching.start()
        try:
            rebuilt = run("index", *files, _extra_penalty(tmp_path / "extra.csv"), "--rebuild", "--data-dir",
                          tmp_path, env=env)
        finally:
            done.set()
            searching.join()
        assert rebuilt.returncode in (0, 3), rebuilt.stderr
        after = client.get("/v1/search", params={"q": NEW_NAME}).json()
        assert any(i["subject"]["name"] == NEW_NAME for i in after["items"]), after

    assert len(answers) >= 2 * len(QUERIES)
    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200][:5]
    # Every answer came from a whole generation: the old one's total, or the new one's.
    for q in QUERIES[:-1]:
        assert len({total for asked, _, total in answers if asked == q}) <= 2
    now = set(engine.indices.get(index=f"{alias}*"))
    assert len(now) == 3 and now & old == {f"{alias}-vectors"}
    assert not any(engine.indices.exists(index=index) for index in old - {f"{alias}-vectors"})
    engine.indices.delete(index=",".join(now))
