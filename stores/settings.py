"""Where the data lives and which store serves it, from the environment (prefix ``CREDIT_SEARCH_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    """``CREDIT_SEARCH_DATA_DIR`` (default ``./data``), ``CREDIT_SEARCH_STORE`` (``embedded`` or
    ``elasticsearch``), ``CREDIT_SEARCH_ES_URL`` and ``CREDIT_SEARCH_ES_INDEX`` (alias name)."""

    model_config = SettingsConfigDict(env_prefix="CREDIT_SEARCH_", extra="ignore")

    data_dir: Path = Path("data")
    store: Literal["embedded", "elasticsearch"] = "embedded"
    es_url: str = ""
    es_index: str = "credit-records"
    es_api_key: str = ""

    def problem(self) -> str:
        """What keeps these settings from naming a usable store, in Chinese ("" when nothing does)."""
        if self.store == "elasticsearch" and not self.es_url.strip():
            return "使用 Elasticsearch 存储时须设置环境变量 CREDIT_SEARCH_ES_URL（如 http://127.0.0.1:9200）"
        return ""
