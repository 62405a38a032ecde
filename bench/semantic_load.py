"""Cost of semantic search on this machine: encode rate per encoder, what embedding adds to a load, vector
search latency over the published matrix, and memory. Keyword search over the same store and queries is the
baseline of the latency table.

Run: python bench/semantic_load.py --records 200000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzers.encoders import CorpusEncoder, EncoderSettings, SentenceTransformerEncoder, corpus_encoder_dir
from bench.common import OUT, generated_corpus, index_without_vectors, peak_rss_mib, record
from bench.judged_queries import QUERIES
from bench.semantic_quality import minilm_dir
from indexer.embedding import TRAIN_TEXTS, embed
from indexer.model import RecordType
from search_api.publication import Viewer, visibility_for
from search_api.semantic import SemanticSearch
from search_api.service import SearchParams, SearchService
from search_api.settings import ApiSettings
from stores.base import Filters
from stores.embedded import EmbeddedStore

TODAY = date(2026, 11, 1)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(fn: object, *args: object) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=600)
    args = parser.parse_args()
    files = generated_corpus(args.records, args.seed)
    data = OUT / f"semantic-{args.records}"
    started = time.perf_counter()
    index_without_vectors(files, data)
    load_seconds = time.perf_counter() - started

    store = EmbeddedStore(data, create=False)
    settings = EncoderSettings(encoder="corpus")
    started = time.perf_counter()
    encoder = CorpusEncoder.fit(store.semantic_texts(TRAIN_TEXTS), settings.encoder_dims)
    train_seconds = time.perf_counter() - started
    summary = embed(store, encoder, trained=True)
    encoder.save(corpus_encoder_dir(data))
    records = store.count()
    matrix_mib = sum(p.stat().st_size for p in (data / "vectors").rglob("*.npy")) / 2**20

    texts = store.semantic_texts(5000)
    rates = {"corpus (built-in)": len(texts) / timed(encoder.encode_documents, texts)}
    query_latency = {"corpus (built-in)": percentiles([timed(encoder.encode_queries, [j.query]) for j in QUERIES])}
    if (model := minilm_dir()) is not None:
        minilm = SentenceTransformerEncoder(model)
        sample = texts[:2000]
        rates["all-MiniLM-L6-v2 (English)"] = len(sample) / timed(minilm.encode_documents, sample)
        query_latency["all-MiniLM-L6-v2 (English)"] = percentiles(
            [timed(minilm.encode_queries, [j.query]) for j in QUERIES])

    # Queries: the judged set plus record texts cut to a question's length, in a shuffled order.
    rng = random.Random(1)
    queries = [j.query for j in QUERIES] + [t.split("：", 1)[-1][:rng.randint(6, 20)] for t in texts]
    queries = rng.sample(queries, min(args.queries, len(queries)))
    viewer = Viewer()
    public = Filters(visibility=visibility_for(viewer, TODAY))
    narrow = Filters(visibility=visibility_for(viewer, TODAY), record_types=(RecordType.COMMITMENT,),
                     district="连南瑶族自治县")
    vectors = [encoder.encode_queries([q])[0] for q in queries]
    store.vector_search(encoder.id, vectors[0], public, 10)  # maps the matrix
    raw = percentiles([timed(store.vector_search, encoder.id, v, public, 10) for v in vectors])
    raw_narrow = percentiles([timed(store.vector_search, encoder.id, v, narrow, 10) for v in vectors])
    service = SearchService(store, ApiSettings(today=TODAY), SemanticSearch(store, settings, data))
    service.names.current()
    modes = {}
    for mode in ("keyword", "semantic", "hybrid"):
        modes[mode] = percentiles([timed(service.search, SearchParams(q=q, mode=mode), viewer)  # type: ignore[arg-type]
                                   for q in queries])
    rss = peak_rss_mib()
    searchable = store.vector_count(encoder.id)
    store.close()

    rate_rows = "\n".join(f"| {name} | {rate:,.0f} | {query_latency[name][0]:.2f} ms | {query_latency[name][1]:.2f} ms |"
                          for name, rate in rates.items())
    body = f"""
Corpus: `credit-search generate --records {args.records} --seed {args.seed}`; {records:,} records indexed with
`--no-embed` in {load_seconds:,.1f} s (the load alone, for comparison). {searchable:,} vectors searchable
({encoder.dims} dimensions, float32 matrix of {matrix_mib:,.0f} MiB, memory-mapped). Latencies over
{len(queries)} queries (the judged set and record texts cut to 6–20 characters), in process, one thread.

What embedding adds to a load (built-in encoder):

| step | seconds | note |
|---|---|---|
| load without vectors (`credit-search index --no-embed`) | {load_seconds:,.1f} | baseline |
| fit the corpus encoder | {train_seconds:,.1f} | once per data directory (`credit-search embed --retrain` refits) |
| encode distinct texts and publish the matrix | {summary.elapsed:,.1f} | {summary.encoded:,} distinct texts for {records:,} records; a reload of unchanged records encodes none |

Encode rate per encoder (documents, batches of 512 / the model's batch size) and query encoding latency:

| encoder | texts/s | query p50 | query p99 |
|---|---|---|---|
{rate_rows}

Search latency ({searchable:,} vectors):

| what | p50 | p99 | target |
|---|---|---|---|
| keyword search (`mode=keyword`, service) | {modes['keyword'][0]:.1f} ms | {modes['keyword'][1]:.1f} ms | baseline |
| vector search, public filters (store.vector_search, top 10) | {raw[0]:.1f} ms | {raw[1]:.1f} ms | p99 ≤ 50 ms |
| vector search, narrow filter (one district's commitments) | {raw_narrow[0]:.1f} ms | {raw_narrow[1]:.1f} ms | p99 ≤ 50 ms |
| semantic search (`mode=semantic`, service: encode + search + present) | {modes['semantic'][0]:.1f} ms | {modes['semantic'][1]:.1f} ms | — |
| hybrid search (`mode=hybrid`, service: both + fusion) | {modes['hybrid'][0]:.1f} ms | {modes['hybrid'][1]:.1f} ms | — |

Peak RSS of the benchmark process: {rss:,.0f} MiB (store, name index, encoders, the mapped matrix).
"""
    record(f"Semantic search cost over {searchable:,} vectors (semantic issue)",
           f"python bench/semantic_load.py --records {args.records}", body)


if __name__ == "__main__":
    main()
