"""Where the data lives and which store serves it, from the environment (prefix ``CREDIT_SEARCH_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

STORES = ("embedded", "elasticsearch", "opensearch")


class StoreSettings(BaseSettings):
    """``CREDIT_SEARCH_DATA_DIR`` (default ``./data``) and ``CREDIT_SEARCH_STORE`` (one of STORES); for
    Elasticsearch ``CREDIT_SEARCH_ES_URL``, ``CREDIT_SEARCH_ES_INDEX`` (alias name), ``CREDIT_SEARCH_ES_API_KEY``;
    for OpenSearch ``CREDIT_SEARCH_OPENSEARCH_URL``, ``CREDIT_SEARCH_OPENSEARCH_INDEX``,
    ``CREDIT_SEARCH_OPENSEARCH_USER``, ``CREDIT_SEARCH_OPENSEARCH_PASSWORD`` and
    ``CREDIT_SEARCH_OPENSEARCH_VERIFY_CERTS``."""

    model_config = SettingsConfigDict(env_prefix="CREDIT_SEARCH_", extra="ignore")

    data_dir: Path = Path("data")
    store: str = "embedded"
    es_url: str = ""
    es_index: str = "credit-records"
    es_api_key: str = ""
    opensearch_url: str = ""
    opensearch_index: str = "credit-records"
    opensearch_user: str = ""
    opensearch_password: str = ""
    opensearch_verify_certs: bool = True

    def problem(self) -> str:
        """What keeps these settings from naming a usable store, in Chinese ("" when nothing does)."""
        if self.store not in STORES:
            return f"未知的存储“{self.store}”，可选：{'、'.join(STORES)}"
        if self.store == "elasticsearch" and not self.es_url.strip():
            return "使用 Elasticsearch 存储时须设置环境变量 CREDIT_SEARCH_ES_URL（如 http://127.0.0.1:9200）"
        if self.store == "opensearch" and not self.opensearch_url.strip():
            return "使用 OpenSearch 存储时须设置环境变量 CREDIT_SEARCH_OPENSEARCH_URL（如 http://127.0.0.1:9200）"
        return ""
