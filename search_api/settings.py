"""API settings from the environment (prefix ``CREDIT_SEARCH_``), documented in the README."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROLES = frozenset({"staff", "admin"})
# 重大违法记录 in the sense of the procurement rules: heavy sanctions, not a warning.
DEFAULT_PENALTY_CATEGORIES = ("罚款", "没收违法所得", "没收非法财物", "责令停产停业", "责令关闭", "暂扣许可证",
                              "吊销许可证", "降低资质等级", "吊销营业执照", "限制开展生产经营活动", "限制从业")


class ApiSettings(BaseSettings):
    """``CREDIT_SEARCH_API_KEYS``: comma-separated ``key:role`` pairs (roles ``staff``, ``admin``);
    ``CREDIT_SEARCH_CORS_ORIGINS``: comma-separated origins allowed to call the API from a browser;
    ``CREDIT_SEARCH_TODAY``: the day publication windows are checked against (default: today)."""

    model_config = SettingsConfigDict(env_prefix="CREDIT_SEARCH_", extra="ignore")

    api_keys: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    today: date | None = None
    max_query_chars: int = 200
    max_page_size: int = 50
    max_result_window: int = 500  # deepest result reachable by page number; deeper needs the cursor
    rerank_window: int = 200  # name search: subjects matched, and records re-ranked by their subject's match
    name_match_floor: float = 0.5  # lowest name score (0–1) a name search lists
    max_screen_rows: int = 10000  # rows per screening request; more get 413
    screen_penalty_years: int = 3  # penalties within this many years count as adverse in screening
    screen_penalty_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_PENALTY_CATEGORIES))  # comma-separated in the environment
    # screening waits this long for the name index to take in subjects a load has just written, then says 503
    fresh_names_wait_seconds: float = 120.0
    audit_log: Path | None = None  # default: <data dir>/audit/screening.jsonl
    ask_session_ttl_seconds: int = 1800  # a conversation is forgotten after this long without a question
    ask_max_sessions: int = 10000  # the oldest conversations are forgotten beyond this many

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        keys: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in value.split(","))):
            key, sep, role = pair.rpartition(":")
            if not sep or not key or role not in ROLES:
                raise ValueError(f"CREDIT_SEARCH_API_KEYS: expected key:role with role in {sorted(ROLES)}, "
                                 f"got {pair!r}")
            keys[key] = role
        return keys

    @field_validator("cors_origins", "screen_penalty_categories", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    def current_day(self) -> date:
        return self.today or date.today()
