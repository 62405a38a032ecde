"""The embedding stage of a load: train the built-in encoder if there is none, encode every semantic text
that has no vector of the configured encoder yet, and publish the vectors for search.

Vectors are cached by the digest of the text they encode, per encoder, so reloading unchanged records, or
records whose text another record already had, encodes nothing. Each batch of vectors is stored in one
transaction: a killed run keeps what it finished and a rerun continues from there.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from analyzers.encoders import CORPUS, CorpusEncoder, Encoder, EncoderSettings, corpus_encoder_dir, open_encoder
from stores.base import Store

log = logging.getLogger("credit_search.embedding")

BATCH_TEXTS = 512
# Distinct texts the built-in encoder is fitted on: records repeat a few hundred thousand phrasings at
# most, and fitting on more costs time without changing the latent space much.
TRAIN_TEXTS = 60000


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


def prepare_encoder(settings: EncoderSettings, data_dir: Path, store: Store,
                    retrain: bool = False) -> tuple[Encoder | None, bool]:
    """The configured encoder and whether it was trained now: the built-in one is fitted on the store's
    texts when the data directory has none yet (or ``retrain``); None when semantic search is switched off
    or there is nothing to train on."""
    if settings.encoder.strip() == CORPUS:
        directory = corpus_encoder_dir(data_dir)
        if retrain or not (directory / CorpusEncoder.MODEL_FILE).exists():
            texts = store.semantic_texts(TRAIN_TEXTS)
            if not texts:
                return None, False
            started = time.perf_counter()
            encoder = CorpusEncoder.fit(texts, settings.encoder_dims)
            encoder.save(directory)
            log.info("corpus encoder %s fitted on %d texts in %.1f s", encoder.id, len(texts),
                     time.perf_counter() - started)
            return encoder, True
    return open_encoder(settings, data_dir), False


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
