"""Analysis rates on one core: name analysis, full-text analysis next to plain jieba.cut, the generator.

Run: python bench/analysis.py   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import jieba

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzers import names, normalize
from analyzers.tokens import index_tokens, query_tokens, warm_up
from bench.common import record
from indexer.generate import _Corpus, generate


def rate(fn, items) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - started)


def best_of(runs: int, fn, items) -> float:  # type: ignore[no-untyped-def]
    return max(rate(fn, items) for _ in range(runs))


def main() -> None:
    corpus = _Corpus(seed=5, records=600000)
    subject_names = list(dict.fromkeys(s.name for s in corpus.subjects))[:100000]
    texts = []
    for i in range(5000):
        row = corpus.penalty(i)
        texts.append("；".join((row["违法行为类型"], row["违法事实"], row["处罚内容"], row["处罚依据"])))
    chars = sum(map(len, texts))

    warm_up()
    jieba.initialize()

    def analyse_cold(name: str) -> None:
        names.analyze_name.__wrapped__(name)  # type: ignore[attr-defined]

    def cold_run() -> float:
        normalize.normalize_name.cache_clear()  # every name is normalised from scratch in every run
        return rate(analyse_cold, subject_names)

    name_rate_best = max(cold_run() for _ in range(3))

    plain = best_of(3, lambda t: list(jieba.cut(t)), texts)
    plain_no_hmm = best_of(3, lambda t: list(jieba.cut(t, HMM=False)), texts)
    ours_index = best_of(3, index_tokens, texts)
    ours_query = best_of(3, query_tokens, texts)

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        made = generate(100000, 3, Path(out))["records"]
        gen_rate = made / (time.perf_counter() - started)

    body = f"""
| measurement | rate | target |
|---|---|---|
| name analysis (`analyze_name` and `normalize_name` uncached, {len(subject_names):,} distinct generated names) | {name_rate_best:,.0f} names/s | ≥ 50,000 names/s |
| plain `jieba.cut` (default, HMM on) on {len(texts):,} penalty texts ({chars / len(texts):.0f} chars avg) | {plain:,.0f} texts/s ({plain * chars / len(texts):,.0f} chars/s) | baseline |
| plain `jieba.cut(HMM=False)` | {plain_no_hmm:,.0f} texts/s | — |
| `index_tokens` (normalise + jieba search mode + user dict + filter) | {ours_index:,.0f} texts/s = **{ours_index / plain:.2f}×** plain | ≥ 0.7× |
| `query_tokens` (normalise + jieba precise mode + filter) | {ours_query:,.0f} texts/s = **{ours_query / plain:.2f}×** plain | ≥ 0.7× |
| generator (`generate`, 100,000 records, all files incl. XLSX) | {gen_rate:,.0f} records/s | 1M in minutes |

Single process, one core; best of three runs. Our analysis runs jieba without the HMM pass (unknown words
are covered by the character n-grams of the name field); that saving pays for normalisation,
traditional-to-simplified conversion, search-mode sub-words and filtering.
"""
    record("Analysis rates (foundation issue)", "python bench/analysis.py", body)


if __name__ == "__main__":
    main()
