"""Shared fixtures: a generated corpus and an embedded store indexed from it, built once per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexer.generate import generate
from indexer.pipeline import LoadSummary, load
from stores.embedded import EmbeddedStore

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
