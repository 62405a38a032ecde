"""The embedded store and OpenSearch side by side on the same generated corpus: load rate, index size, and the
search API's latency per query kind as a ratio to /healthz of the same server in the same run (wrk, one
connection). OpenSearch is a single node started by scripts/opensearch-node with a 2 GB heap, unless
``--opensearch-url`` names one.

    python bench/engine_compare.py --records 1000000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from opensearchpy import OpenSearch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_load import queries, wrk
from bench.common import OUT, SCRIPT, generated_corpus, record, served

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "scripts" / "opensearch-node"


@contextmanager
def opensearch_node(url: str, heap: str) -> Iterator[str]:
    """The node at ``url``, or one started for the run and stopped after it."""
    if url:
        yield url
        return
    run = Path(tempfile.mkdtemp(prefix="credit-search-bench-opensearch-"))
    started = subprocess.run([str(NODE), "start", str(run)], capture_output=True, text=True, check=True,
                             env={**os.environ, "OPENSEARCH_HEAP": heap})
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(NODE), "stop", str(run)], check=False)


def _load(files: list[Path], data: Path, env: dict[str, str]) -> float:
    """Seconds that ``credit-search index --no-embed`` takes."""
    started = time.perf_counter()
    done = subprocess.run([str(SCRIPT), "index", *map(str, files), "--data-dir", str(data), "--no-embed"], env=env,
                          check=False, capture_output=True, text=True)
    if done.returncode not in (0, 3):  # 3: the generated files hold some rows to reject
        sys.exit(f"the load into {env.get('CREDIT_SEARCH_STORE', 'embedded')} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def _latencies(data: Path, env: dict[str, str], sets: dict[str, list[str]], seconds: int) -> dict[str, dict[str, float]]:
    port = 8797
    command = [str(SCRIPT), "serve", "--port", str(port), "--data-dir", str(data)]
    with served(command, port, env) as (base, _):
        for paths in sets.values():  # warm caches and jieba once
            for path in paths[:50]:
                httpx.get(base + path, timeout=30)
        return {label: wrk(base, paths, 1, seconds) for label, paths in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--heap", default="2g", help="the OpenSearch node's heap")
    parser.add_argument("--opensearch-url", default="")
    args = parser.parse_args()
    files = generated_corpus(args.records, 1)
    base_env = {**os.environ, "CREDIT_SEARCH_TODAY": "2026-11-01", "CREDIT_SEARCH_ENCODER": "none"}
    data = OUT / f"compare-embedded-{args.records}"
    shutil.rmtree(data, ignore_errors=True)
    embedded_seconds = _load(files, data, base_env)
    embedded_bytes = sum(p.stat().st_size for p in data.glob("credit.sqlite3*"))
    sets = queries(data, 500)
    embedded = _latencies(data, base_env, sets, args.seconds)
    with opensearch_node(args.opensearch_url, args.heap) as url:
        alias = f"bench-{uuid.uuid4().hex[:8]}"
        env = {**base_env, "CREDIT_SEARCH_STORE": "opensearch", "CREDIT_SEARCH_OPENSEARCH_URL": url,
               "CREDIT_SEARCH_OPENSEARCH_INDEX": alias}
        os_data = OUT / f"compare-opensearch-{args.records}"
        shutil.rmtree(os_data, ignore_errors=True)
        engine_seconds = _load(files, os_data, env)
        engine = OpenSearch(url, timeout=120)
        engine.indices.forcemerge(index=f"{alias}*", params={"max_num_segments": "1"})  # as after a quiet night
        stats = engine.indices.stats(index=f"{alias}*", metric="store,docs")["_all"]["primaries"]
        engine_bytes, engine_docs = int(stats["store"]["size_in_bytes"]), int(stats["docs"]["count"])
        records = int(engine.count(index=alias)["count"])
        opensearch = _latencies(os_data, env, sets, args.seconds)
    node = f"at {args.opensearch_url}" if args.opensearch_url else f"one node, heap {args.heap}"
    lines = [f"| | embedded | OpenSearch ({node}) |", "|---|---|---|",
             f"| load (`index --no-embed`) | {embedded_seconds:,.0f} s = {args.records / embedded_seconds:,.0f} "
             f"records/s | {engine_seconds:,.0f} s = {args.records / engine_seconds:,.0f} records/s |",
             f"| index size | {embedded_bytes / 2**20:,.0f} MiB | {engine_bytes / 2**20:,.0f} MiB "
             f"({engine_docs:,} documents: {records:,} records, their subjects) |"]
    for label in sets:
        e, o = embedded[label], opensearch[label]
        if label == "healthz":
            lines.append(f"| healthz median / p99 | {e['p50']:.2f} / {e['p99']:.2f} ms | "
                         f"{o['p50']:.2f} / {o['p99']:.2f} ms |")
            continue
        he, ho = embedded["healthz"], opensearch["healthz"]
        lines.append(f"| {label} ({len(sets[label])} distinct) median / p99 | {e['p50']:.1f} / {e['p99']:.1f} ms "
                     f"({e['p50'] / he['p50']:.0f}× / {e['p99'] / he['p99']:.0f}× healthz) | {o['p50']:.1f} / "
                     f"{o['p99']:.1f} ms ({o['p50'] / ho['p50']:.0f}× / {o['p99'] / ho['p99']:.0f}× healthz) |")
    body = "\n".join(lines) + f"""

Both served by one `credit-search serve` process (public view, built-in encoder off) on this machine, the
OpenSearch node beside it on the same two cores; wrk with one connection for {args.seconds} s per row. Hybrid
search is not compared: this OpenSearch build has no k-NN plugin (its store says semantic search is unavailable).
"""
    record(f"Embedded store and OpenSearch side by side ({args.records:,} records)",
           f"python bench/engine_compare.py --records {args.records}", body)


if __name__ == "__main__":
    main()
