"""Latency of POST /v1/ask as a ratio to a plain GET /v1/search of the same question on the same server in
the same run, over the questions of the conversation set (first turns, follow-ups in their sessions, counts,
rules). Sequential requests, one connection; the three runs are interleaved so that both endpoints meet the
same state of the machine.

Run after bench/semantic_load.py:  python bench/ask_load.py --records 200000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, record
from bench.conversation_set import build_dialogues, build_held_out, evaluate
from search_api.publication import Viewer, visibility_for
from stores.base import Filters
from stores.embedded import EmbeddedStore
from tests.api.server import running_server

TODAY = "2026-11-01"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = OUT / f"semantic-{args.records}"
    if not (data / "credit.sqlite3").exists():
        raise SystemExit(f"{data} has no index: run python bench/semantic_load.py --records {args.records} first")
    store = EmbeddedStore(data, create=False)
    records = [h.record for h in store.search([], Filters(visibility=visibility_for(
        Viewer(), date.fromisoformat(TODAY))), 10**8).hits]
    store.close()
    dialogues = build_dialogues(records, date.fromisoformat(TODAY)) + build_held_out(records, date.fromisoformat(TODAY))
    latency: dict[str, list[float]] = defaultdict(list)
    intents: dict[str, list[float]] = defaultdict(list)
    with running_server(data, {"CREDIT_SEARCH_TODAY": TODAY, "CREDIT_SEARCH_ASK_MAX_SESSIONS": "100000"}) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        while client.get("/readyz").status_code != 200:
            time.sleep(0.5)
        for _ in range(args.rounds):
            for dialogue in dialogues:
                session = None
                for turn in dialogue.turns:
                    question = "1" if turn.question == "__choice__" else turn.question
                    started = time.perf_counter()
                    answer = client.post("/v1/ask", json={"question": question, "session_id": session}).json()
                    elapsed = time.perf_counter() - started
                    session = answer["session_id"]
                    latency["ask"].append(elapsed)
                    intents[answer["understood"]["intent"]].append(elapsed)
                    started = time.perf_counter()
                    client.get("/v1/search", params={"q": question})
                    latency["search"].append(time.perf_counter() - started)
        quality = evaluate(lambda q, s: client.post("/v1/ask", json={"question": q, "session_id": s}).json(),
                           dialogues)
    ask, search = statistics.median(latency["ask"]), statistics.median(latency["search"])
    failures = "\n".join(f"- {f}" for f in quality.failures[:10])
    rows = "\n".join(f"| `/v1/ask`, intent {name} | {len(v):,} | {statistics.median(v) * 1000:.1f} ms |"
                     for name, v in sorted(intents.items()))
    body = f"""
Server: `credit-search serve` (one process) over the {args.records:,}-record index of bench/semantic_load.py
(built-in encoder). Questions: the conversation set built from that corpus ({len(dialogues)} dialogues,
{sum(len(d.turns) for d in dialogues)} turns, follow-ups asked in their sessions), {args.rounds} rounds; each
question is also sent to `GET /v1/search?q=` right after it. {os.cpu_count()} cores.

| endpoint | requests | median |
|---|---|---|
| `GET /v1/search?q=<the question>` | {len(latency['search']):,} | {search * 1000:.1f} ms |
| `POST /v1/ask` | {len(latency['ask']):,} | {ask * 1000:.1f} ms (**{ask / search:.2f}×** search; target ≤ 3×) |
{rows}

Understanding of the same conversation set (one more pass, fresh sessions; built by bench/conversation_set.py
from this corpus: the template dialogues the rules were tuned on plus the held-out ones written after):

| measure | value | target |
|---|---|---|
| intent accuracy | {quality.intent_accuracy:.3f} ({quality.intent_correct} of {quality.turns} turns) | ≥ 0.9 |
| slot precision / recall / F1 | {quality.slot_precision:.3f} / {quality.slot_recall:.3f} / **{quality.slot_f1:.3f}** | F1 ≥ 0.9 |
| answers stating their expected facts | {quality.fact_accuracy:.3f} ({quality.facts_found} of {quality.facts_total}) | — |
{failures}
"""
    record(f"Conversational answers over {args.records:,} records (conversation issue)",
           f"python bench/ask_load.py --records {args.records}", body)


if __name__ == "__main__":
    main()
