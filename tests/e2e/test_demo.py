"""`credit-search demo` as a new user meets it: the links it prints work when pasted, the staff key it prints
opens the staff view, the corpus reads as a 清远 site's, and a second run reuses the index and the key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.api.server import free_port, running
from tests.e2e.cli import SCRIPT

pytestmark = pytest.mark.slow
# The districts under 清远市 (the city itself for its own departments).
QINGYUAN = {"清远市", "清城区", "清新区", "英德市", "连州市", "佛冈县", "阳山县", "连山壮族瑶族自治县",
            "连南瑶族自治县"}


@contextmanager
def demo(data_dir: Path, port: int) -> Iterator[str]:
    """What the demo printed, once it serves; stopped after. Run without other API keys: the key it prints must
    be the one that works."""
    env = {"CREDIT_SEARCH_API_KEYS": ""}
    command = [str(SCRIPT), "demo", "--records", "400", "--port", str(port), "--data-dir", str(data_dir)]
    with running(command, port, data_dir.parent / f"demo-{port}.log", env, ready="/readyz", seconds=240) as \
            (_, printed):
        yield printed


def test_demo_prints_working_links_and_a_staff_key_over_a_qingyuan_corpus(tmp_path: Path) -> None:
    port = free_port()
    with demo(tmp_path / "demo", port) as printed:
        links = re.findall(r"http://127\.0\.0\.1:\d+/\S*", printed)
        base = f"http://127.0.0.1:{port}"
        assert {f"{base}/", f"{base}/staff", f"{base}/docs"} <= set(links)
        for link in links:  # pasted as printed: every one answers, none has a raw space or Chinese character
            assert link.isascii() and httpx.get(link).status_code == 200, link
        search = next(link for link in links if "/v1/search?q=" in link)
        body = httpx.get(search).json()
        assert body["items"] and body["items"][0]["subject"]["name"] == httpx.URL(search).params["q"]
        key = re.search(r"工作人员密钥（API Key）：(\S+?)（", printed)
        assert key is not None
        staff_only = f"http://127.0.0.1:{port}/v1/search"
        params = {"q": "罚款", "status": "withdrawn"}
        assert httpx.get(staff_only, params=params).status_code == 403
        assert httpx.get(staff_only, params=params, headers={"X-API-Key": key.group(1)}).status_code == 200
        facets = httpx.get(staff_only, params={"q": "罚款", "size": 1}).json()["facets"]
        assert set(facets["district"]) <= QINGYUAN, facets["district"]
        authorities = httpx.get(staff_only, params={"q": "许可", "size": 1}).json()["facets"]["authority"]
        # No 清远市深圳市…: the only cities an authority names are 清远 and its county-level cities.
        foreign = [a for a in authorities if set(re.findall(r"\w{2}市(?!场)", a)) - {"清远市", "英德市", "连州市"}]
        assert authorities and not foreign, foreign
    with demo(tmp_path / "demo", port) as again:
        assert "建立索引" not in again and key.group(1) in again
