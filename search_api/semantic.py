"""Semantic retrieval for the API: the configured encoder turns a query into a vector, the store finds the
nearest records' vectors.

A configured model (e5-small, a sentence-transformers directory) is loaded once at start-up (a missing one
stops the start, saying where it looked). The built-in corpus encoder appears when a load first fits it and
changes when one refits it, so it is (re)loaded from the data directory whenever its file changes.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from analyzers.encoders import (
    CORPUS,
    NONE,
    CorpusEncoder,
    Encoder,
    EncoderSettings,
    EncoderUnavailable,
    corpus_encoder_dir,
    open_encoder,
)
from stores.base import Filters, Hit, Store

log = logging.getLogger("credit_search.semantic")
_NO_VECTORS = "索引中还没有当前语义模型的向量：请运行 credit-search embed"


class SemanticUnavailable(RuntimeError):
    """Semantic search cannot answer now; the message says why, in Chinese."""


class SemanticSearch:
    """The encoder the API uses, and vector search with it. A configured model other than the built-in one is
    used once its vectors are published; until then the built-in encoder, kept up to date by every load, serves
    (and /readyz says how far the model's encoding has come)."""

    def __init__(self, store: Store, settings: EncoderSettings, data_dir: Path, check_seconds: float = 5.0) -> None:
        self._store = store
        self._choice = settings.encoder.strip() or NONE
        self._model_file = corpus_encoder_dir(data_dir) / CorpusEncoder.MODEL_FILE
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._configured: Encoder | None = None
        self._corpus: Encoder | None = None
        self._reason = "未启用语义检索（CREDIT_SEARCH_ENCODER=none）"
        self._loaded_mtime: float | None = None
        self._checked_at = float("-inf")
        if self._choice not in (CORPUS, NONE):
            # Raises EncoderUnavailable for a missing model: a server configured for a model it does not
            # have should not start.
            self._configured = open_encoder(settings, data_dir)
        if self._choice != NONE:
            self._reason = "内置语义模型尚未训练：描述文本还不够时，之后的加载会自动训练（关键词检索可用）"

    def encoder(self) -> Encoder:
        """The current encoder; raises :class:`SemanticUnavailable` when there is none, or the store cannot
        search vectors."""
        if reason := self._store.vectors_unavailable():
            raise SemanticUnavailable(reason)
        if self._configured is not None and self._store.vector_count(self._configured.id):
            return self._configured
        if self._choice != NONE:
            self._refresh_corpus_encoder()
        encoder = self._corpus
        if encoder is None:
            raise SemanticUnavailable(self._reason)
        return encoder

    def _refresh_corpus_encoder(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self._check_seconds:
            return
        with self._lock:
            if now - self._checked_at < self._check_seconds:
                return
            self._checked_at = now
            try:
                mtime = self._model_file.stat().st_mtime
            except FileNotFoundError:
                return
            if mtime == self._loaded_mtime:
                return
            try:
                self._corpus = CorpusEncoder.load(self._model_file.parent)
                self._loaded_mtime = mtime
                log.info("corpus encoder %s loaded", self._corpus.id)
            except EncoderUnavailable as exc:  # being rewritten: keep the old one, look again next time
                self._reason = str(exc)
                self._checked_at = float("-inf")

    def status(self) -> dict[str, object]:
        """For /readyz: the encoder id and how many records semantic search can find, or why it cannot; while a
        configured model's vectors are still being encoded, how far that has come."""
        out: dict[str, object] = {}
        configured = self._configured
        if configured is not None:
            texts = self._store.semantic_text_count()
            done = min(self._store.stored_vector_count(configured.id), texts)
            serving = bool(self._store.vector_count(configured.id))
            if done < texts or not serving:
                note = ("新加载文本的向量编码完成后即可按语义检索到" if serving
                        else "编码完成并发布后切换到该模型；此前由内置语义模型提供语义检索")
                out["pending"] = {"encoder": configured.id, "encoded_texts": done, "texts": texts, "note": note}
        try:
            encoder = self.encoder()
        except SemanticUnavailable as exc:
            return {"available": False, "reason": str(exc), **out}
        vectors = self._store.vector_count(encoder.id)
        if not vectors:
            return {"available": False, "encoder": encoder.id, "reason": _NO_VECTORS, **out}
        return {"available": True, "encoder": encoder.id, "vectors": vectors, **out}

    def search(self, text: str, filters: Filters, limit: int) -> list[Hit]:
        """The records nearest in meaning to ``text`` that the filters allow, nearest first."""
        encoder = self.encoder()
        if not self._store.vector_count(encoder.id):
            raise SemanticUnavailable(_NO_VECTORS)
        vector = encoder.encode_queries([text])[0]
        return self._store.vector_search(encoder.id, vector, filters, limit)
