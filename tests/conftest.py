"""Shared fixtures: a generated corpus and an embedded store indexed from it, built once per session, and an
OpenSearch node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.generate import generate
from indexer.pipeline import LoadSummary, load
from stores.embedded import EmbeddedStore

NODE_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "opensearch-node"
CORPUS_RECORDS = 3000
CORPUS_SEED = 11
DATA_FILES = ("penalty-utf8.csv", "penalty-gbk-codes.csv", "penalty.xlsx", "licensing-bom.csv", "licensing.xlsx",
              "dishonest.json", "dishonest.jsonl", "commitment-gbk.csv")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A generated corpus directory and its manifest."""
    out = tmp_path_factory.mktemp("corpus")
    manifest = generate(CORPUS_RECORDS, CORPUS_SEED, out)
    return out, manifest


@pytest.fixture(scope="session")
def corpus_files(corpus: tuple[Path, dict[str, Any]]) -> list[Path]:
    return [corpus[0] / name for name in DATA_FILES]


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory, corpus_files: list[Path]) -> tuple[Path, LoadSummary]:
    """A data directory holding the indexed corpus (read-only for tests: copy it to change it)."""
    data = tmp_path_factory.mktemp("data")
    store = EmbeddedStore(data)
    summary = load(corpus_files, store, reject_dir=data / "rejects", workers=1)
    store.close()
    return data, summary


def read_manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """An OpenSearch node for the tests: CREDIT_SEARCH_OPENSEARCH_URL when set, else a node started for this
    session by scripts/opensearch-node (installed and cached on first use), stopped at the end."""
    if url := os.environ.get("CREDIT_SEARCH_OPENSEARCH_URL", ""):
        yield url
        return
    missing = [tool for tool in ("java", "npm", "curl", "openssl") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no OpenSearch node: {', '.join(missing)} not installed (scripts/setup-system installs them)")
    # Not under pytest's own temporary directory: as root the node runs as its own user, who cannot enter it.
    run = Path(tempfile.mkdtemp(prefix="credit-search-opensearch-"))
    started = subprocess.run([str(NODE_SCRIPT), "start", str(run)], capture_output=True, text=True, check=False)
    if started.returncode != 0:
        pytest.fail(f"scripts/opensearch-node could not start a node:\n{started.stderr[-3000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(NODE_SCRIPT), "stop", str(run)], capture_output=True, check=False)
