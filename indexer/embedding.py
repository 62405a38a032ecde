"""The embedding stage of a load: fit the built-in encoder if there is none (or refit it when the corpus has
outgrown it), encode every semantic text that has no vector of the configured encoder yet, and publish the
vectors for search.

Vectors are cached by the digest of the text they encode, per encoder, so reloading unchanged records, or
records whose text another record already had, encodes nothing. Each batch of vectors is stored in one
transaction: a killed run keeps what it finished and a rerun continues from there.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from analyzers.encoders import (
    CORPUS,
    NONE,
    CorpusEncoder,
    Encoder,
    EncoderSettings,
    EncoderUnavailable,
    TooFewTexts,
    corpus_encoder_dir,
    open_encoder,
)
from indexer.model import RecordType
from stores.base import Store

log = logging.getLogger("credit_search.embedding")

BATCH_TEXTS = 512
# Distinct texts the built-in encoder is fitted on: records repeat a few hundred thousand phrasings at
# most, and fitting on more costs time without changing the latent space much.
TRAIN_TEXTS = 60000
# The built-in encoder is refitted once the corpus holds this many times the distinct texts it was fitted on:
# a space fitted on a department's first small file ranks the next files' texts poorly, and refitting at every
# load would re-encode every text each time.
REFIT_GROWTH = 2


@dataclass(slots=True)
class EmbedSummary:
    encoder_id: str
    trained: bool  # the built-in encoder was (re)fitted in this run
    encoded: int  # texts encoded in this run
    searchable: int  # records a semantic search can find
    elapsed: float

    def describe(self) -> str:
        """The operator's summary line, in Chinese."""
        trained = "，已训练内置语义模型" if self.trained else ""
        rate = self.encoded / self.elapsed if self.elapsed else 0.0
        return (f"语义向量（{self.encoder_id}{trained}）：新编码 {self.encoded} 条文本（{rate:,.0f} 条/秒），"
                f"可语义检索的记录 {self.searchable} 条，用时 {self.elapsed:.1f} 秒")


@dataclass(frozen=True, slots=True)
class CorpusState:
    """What a corpus holds, for deciding whether the built-in encoder still fits it."""

    texts: int  # distinct semantic texts
    record_types: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"texts": self.texts, "record_types": list(self.record_types)}


def corpus_state(store: Store) -> CorpusState:
    """The store's distinct texts and the record types it holds."""
    return CorpusState(store.semantic_text_count(), tuple(t.value for t in RecordType if store.count(t)))


def outgrown(fitted_on: dict[str, Any], now: CorpusState) -> str:
    """Why the built-in encoder no longer fits the corpus (in Chinese), or "" while it does: the corpus holds
    REFIT_GROWTH times the distinct texts it was fitted on, or a record type it never saw."""
    fitted_texts = int(fitted_on.get("texts", 0))
    if now.texts >= REFIT_GROWTH * max(fitted_texts, 1):
        return f"描述文本已从 {fitted_texts} 条增至 {now.texts} 条"
    new = [t for t in now.record_types if t not in fitted_on.get("record_types", ())]
    if new:
        return "出现了训练时没有的记录类型：" + "、".join(RecordType(t).label for t in new)
    return ""


@dataclass(slots=True)
class Refresh:
    """The outcome of :func:`refresh`: the embedding summary (None when nothing was encoded) and a note for
    the operator (why the encoder was refitted, or why semantic search waits)."""

    summary: EmbedSummary | None
    note: str = ""


def refresh(store: Store, settings: EncoderSettings, data_dir: Path, retrain: bool = False,
            progress: bool = False, configured: bool = True) -> Refresh:
    """Bring semantic search up to date after a load. The built-in encoder is kept up to date whatever model is
    configured (it serves while a slower model's vectors are still being encoded): fitted when there is none,
    refitted when the corpus has outgrown it (or ``retrain``), every text without a vector encoded and the vectors
    published. A refitted encoder is saved only after its vectors are published, so a server keeps searching with
    the old encoder and vectors until it switches to the new ones in one step. Then, with ``configured``, the
    configured model's missing vectors are encoded and published too. Never fails for lack of text: semantic
    search then waits for a later load. Raises :class:`EncoderUnavailable` for a configured model that cannot
    be loaded."""
    choice = settings.encoder.strip() or NONE
    if choice == NONE:
        return Refresh(None)
    if reason := store.vectors_unavailable():
        return Refresh(None, reason)
    built_in = _refresh_corpus(store, settings, data_dir, retrain, progress)
    if choice == CORPUS or not configured:
        return built_in
    encoder = open_encoder(settings, data_dir)
    assert encoder is not None
    return Refresh(embed(store, encoder, progress), built_in.note)


def _refresh_corpus(store: Store, settings: EncoderSettings, data_dir: Path, retrain: bool,
                    progress: bool) -> Refresh:
    directory = corpus_encoder_dir(data_dir)
    current: CorpusEncoder | None = None
    if (directory / CorpusEncoder.MODEL_FILE).exists():
        try:
            current = CorpusEncoder.load(directory)
        except EncoderUnavailable as exc:
            log.warning("corpus encoder unreadable, fitting a new one: %s", exc)
    state = corpus_state(store)
    why = "重新训练" if retrain else "" if current is None else outgrown(current.fitted_on, state)
    encoder, trained, note = current, False, ""
    if current is None or why:
        started = time.perf_counter()
        try:
            encoder = CorpusEncoder.fit(store.semantic_texts(TRAIN_TEXTS), settings.encoder_dims, state.as_dict())
            trained = True
            note = f"内置语义模型已重新训练（{why}）" if current is not None else ""
            log.info("corpus encoder %s fitted in %.1f s", encoder.id, time.perf_counter() - started)
        except TooFewTexts as exc:
            if current is None:
                return Refresh(None, f"语义检索等待更多描述文本（{exc}），关键词检索已可用；"
                                     "之后的加载会自动启用语义检索")
            note = f"内置语义模型未重新训练（{exc}）"
    if encoder is None:
        return Refresh(None)
    summary = embed(store, encoder, progress, trained)
    if trained:
        encoder.save(directory)
    return Refresh(summary, note)


def embed(store: Store, encoder: Encoder, progress: bool = False, trained: bool = False) -> EmbedSummary:
    """Encode every text without a vector of ``encoder`` and publish the vectors."""
    started = time.perf_counter()
    encoded = 0
    last_first: str | None = None
    with tqdm(unit="条", desc="语义向量", disable=not progress, mininterval=0.5) as bar:
        while pending := store.pending_embeddings(encoder.id, BATCH_TEXTS):
            if pending[0][0] == last_first:
                raise RuntimeError(f"vectors for {pending[0][0]} were stored but are still listed as pending")
            last_first = pending[0][0]
            vectors = encoder.encode_documents([text for _, text in pending])
            store.put_embeddings(encoder.id, [key for key, _ in pending], vectors)
            encoded += len(pending)
            bar.update(len(pending))
    searchable = store.publish_vectors(encoder.id)
    return EmbedSummary(encoder.id, trained, encoded, searchable, time.perf_counter() - started)
