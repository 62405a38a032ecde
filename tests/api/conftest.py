"""A real server over a copy of the indexed test corpus, with corrections applied and a staff key."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from analyzers.codes import is_id_card_like
from analyzers.encoders import EncoderSettings
from indexer.corrections import load_corrections
from indexer.embedding import refresh
from indexer.pipeline import LoadSummary
from stores.embedded import EmbeddedStore
from tests.api.server import running_server

STAFF_KEY = "test-staff-key"
# A key as long as a signed token: keys are not limited to a few hundred characters.
LONG_STAFF_KEY = "k" * 1500
TODAY = "2026-11-01"  # the generator's reference day, so expiries are deterministic
# A digit run right after a digit and a dot is a decimal fraction, not an ID number: the latency sums of /metrics
# (4.672953590421849) read as a 15-digit ID with a birth date in about 1.6 % of values.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(?<!\d\.)(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


class ScanningClient(httpx.Client):
    """An HTTP client that remembers every public response body, for the privacy scan."""

    def __init__(self, base: str, bodies: list[str], **kwargs: Any) -> None:
        super().__init__(base_url=base, timeout=30, **kwargs)
        self._bodies = bodies

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        if "x-api-key" not in request.headers:
            self._bodies.append(response.text)
        return response


@pytest.fixture(scope="session")
def api_data(tmp_path_factory: pytest.TempPathFactory, indexed: tuple[Path, LoadSummary],
             corpus: tuple[Path, dict[str, Any]]) -> Path:
    data = tmp_path_factory.mktemp("api-data")
    shutil.copy(indexed[0] / "credit.sqlite3", data / "credit.sqlite3")
    store = EmbeddedStore(data)
    result = load_corrections(corpus[0] / corpus[1]["corrections_file"], store)
    assert result.applied and not result.problems
    outcome = refresh(store, EncoderSettings(encoder="corpus"), data)
    assert outcome.summary is not None and outcome.summary.trained
    assert outcome.summary.searchable == store.count()
    store.close()
    return data


@pytest.fixture(scope="session")
def public_bodies() -> list[str]:
    return []


@pytest.fixture(scope="session")
def base_url(api_data: Path) -> Iterator[str]:
    env = {"CREDIT_SEARCH_API_KEYS": f"{STAFF_KEY}:staff,{LONG_STAFF_KEY}:staff", "CREDIT_SEARCH_TODAY": TODAY,
           "CREDIT_SEARCH_RERANK_WINDOW": "20", "CREDIT_SEARCH_CORS_ORIGINS": "https://credit.qingyuan.gov.cn"}
    with running_server(api_data, env) as base:
        yield base


@pytest.fixture(scope="session")
def client(base_url: str, public_bodies: list[str]) -> Iterator[httpx.Client]:
    with ScanningClient(base_url, public_bodies) as c:
        yield c


@pytest.fixture(scope="session")
def staff(base_url: str, public_bodies: list[str]) -> Iterator[httpx.Client]:
    with ScanningClient(base_url, public_bodies, headers={"X-API-Key": STAFF_KEY}) as c:
        yield c


@pytest.fixture(scope="session")
def store(api_data: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(api_data, create=False)
    yield s
    s.close()


def unmasked_ids(text: str) -> list[str]:
    """Resident ID numbers shown in full."""
    return [m for m in _ID_LIKE.findall(text) if is_id_card_like(m.upper())]
