"""Screening throughput and quality over the 1,000,000-record corpus (372,000 subjects), next to a naive
baseline in the same run: rapidfuzz ``process.extractOne`` over every subject name.

Inputs are the labelled screening set (bench/screening_set.py) built from the indexed subjects, so every
throughput figure comes with the recall and precision it was measured at.

Run after bench/index_load.py:  python bench/screening_load.py --records 1000000   (appends to RESULTS.md)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, SCRIPT, peak_rss_mib, record
from bench.screening_set import Pair, build_set, evaluate
from search_api.publication import Viewer
from search_api.screening import Policy, Screener, ScreenItem
from search_api.service import SearchService
from search_api.settings import ApiSettings
from stores.embedded import EmbeddedStore

TODAY = date(2026, 11, 1)


def baseline(pairs: list[Pair], names: list[str], codes: list[str]) -> tuple[float, dict[str, Any]]:
    """extractOne over every name (WRatio, a match at 90 or more): names/s and the same metrics."""
    results = []
    started = time.perf_counter()
    for pair in pairs:
        best = process.extractOne(pair.query, names, scorer=fuzz.WRatio, score_cutoff=90)
        match = {"code": codes[best[2]], "score": best[1] / 100} if best else None
        results.append({"verdict": "clear" if match else "review", "match": match})
    return len(pairs) / (time.perf_counter() - started), evaluate(pairs, results)


def over_http(base: str, pairs: list[Pair], batch: int, clients: int) -> float:
    """Names/s with ``clients`` concurrent requests of ``batch`` rows each, as a staff user."""
    bodies = [{"items": [{"id": str(i), "name": p.query} for i, p in enumerate(pairs[k:k + batch])]}
              for k in range(0, len(pairs), batch)]

    def post(body: dict[str, Any]) -> int:
        response = httpx.post(f"{base}/v1/screen", json=body, headers={"X-API-Key": "bench-key"}, timeout=600)
        response.raise_for_status()
        return len(response.json()["results"])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(post, bodies))
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000000)
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--baseline-sample", type=int, default=120)
    args = parser.parse_args()
    data = OUT / f"data-{args.records}"
    store = EmbeddedStore(data, create=False)
    service = SearchService(store, ApiSettings(today=TODAY))
    started = time.perf_counter()
    index = service.names.current(wait_seconds=600)
    build_seconds = time.perf_counter() - started
    pairs = build_set(index.subjects, per_kind=args.per_kind)
    items = [ScreenItem(id=str(i), name=p.query) for i, p in enumerate(pairs)]
    screener = Screener(service)
    started = time.perf_counter()
    results = screener.screen(items, Viewer("staff", who="bench"), Policy())
    ours_rate = len(items) / (time.perf_counter() - started)
    ours = evaluate(pairs, results)

    sample = pairs[:: max(1, len(pairs) // args.baseline_sample)][: args.baseline_sample]
    names = [s.name for s in index.subjects]
    codes = [s.code for s in index.subjects]
    base_rate, base = baseline(sample, names, codes)
    on_sample = evaluate(sample, [results[pairs.index(p)] for p in sample])
    rss = peak_rss_mib()
    store.close()

    port = 8797
    env = {**os.environ, "CREDIT_SEARCH_TODAY": TODAY.isoformat(), "CREDIT_SEARCH_API_KEYS": "bench-key:staff",
           "CREDIT_SEARCH_AUDIT_LOG": str(OUT / "bench-audit.jsonl")}
    server = subprocess.Popen([str(SCRIPT), "serve", "--port", str(port), "--data-dir", str(data), "--workers", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        ready = 0
        while ready < 4 and time.monotonic() < deadline:  # both workers answer ready once their index is built
            try:
                ready = ready + 1 if httpx.get(f"{base_url}/readyz", timeout=30).status_code == 200 else 0
            except httpx.TransportError:
                time.sleep(1)
        over_http(base_url, pairs[:400], 200, 2)  # warm both workers
        http_rate = over_http(base_url, pairs, 1050, 2)
    finally:
        server.terminate()
        server.wait()

    kinds = " · ".join(f"{k} {v.get('correct', 0)}/{v['n']}" for k, v in ours["per_kind"].items())
    body = f"""| matcher | names/s | recall@1 | precision | measured on |
|---|---|---|---|---|
| name index + rapidfuzz scoring, in process | {ours_rate:,.0f} | {ours['recall_at_1']:.3f} | {ours['precision']:.3f} | {len(pairs):,} labelled rows |
| same, over HTTP (`serve --workers 2`, 2 clients × one 1,050-row JSON batch each, staff view, audited) | {http_rate:,.0f} | – | – | {len(pairs):,} labelled rows |
| same, in process, on the baseline's sample | – | {on_sample['recall_at_1']:.3f} | {on_sample['precision']:.3f} | {len(sample)} rows |
| baseline: `process.extractOne` (WRatio ≥ 90) over all {len(names):,} names | {base_rate:,.1f} | {base['recall_at_1']:.3f} | {base['precision']:.3f} | {len(sample)} rows |

Speed-up over the baseline in process: {ours_rate / base_rate:,.0f}×; over HTTP: {http_rate / base_rate:,.0f}×.
Correct per kind (name index): {kinds}; near misses confidently matched: {ours['per_kind'].get('near_miss', {}).get('confident', 0)}.
Name index over {len(index.subjects):,} subjects ({index.size:,} names) built in {build_seconds:.1f} s; peak RSS of
the in-process run {rss:,.0f} MiB. Targets: recall@1 ≥ 0.95 at precision ≥ 0.98; ≥ 1,000 names/s over HTTP;
≥ 50× the baseline at equal or better recall.
"""
    record(f"Screening over {len(index.subjects):,} subjects (screening issue)",
           f"python bench/screening_load.py --records {args.records}", body)


if __name__ == "__main__":
    main()
