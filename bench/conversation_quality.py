"""Quality of POST /v1/ask on the conversation set (bench/conversation_set.py): intent accuracy, slot F1 and the
share of answers stating their facts, for the tuned dialogues and the held-out ones apart, over a generated
corpus indexed without vectors and served by a real server (keyword search: the understanding is measured, not
the encoder).

    python bench/conversation_quality.py --records 20000      (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, SCRIPT, generated_corpus, index_without_vectors, record, served
from bench.conversation_set import build_dialogues, build_held_out, evaluate
from search_api.publication import Viewer, visibility_for
from stores.base import Filters
from stores.embedded import EmbeddedStore

TODAY = "2026-11-01"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    data = OUT / f"conversation-{args.records}"
    if not (data / "credit.sqlite3").exists():
        index_without_vectors(generated_corpus(args.records, 1), data)
    store = EmbeddedStore(data)
    today = date.fromisoformat(TODAY)
    filters = Filters(visibility=visibility_for(Viewer(), today))
    records = [h.record for h in store.search([], filters, limit=10**7).hits]
    store.close()
    env = {**os.environ, "CREDIT_SEARCH_TODAY": TODAY, "CREDIT_SEARCH_ENCODER": "none"}
    port = 8797
    lines = ["| dialogues | turns | intent accuracy | slot F1 | facts stated |", "|---|---|---|---|---|"]
    failures: list[str] = []
    command = [str(SCRIPT), "serve", "--port", str(port), "--data-dir", str(data)]
    with served(command, port, env) as (base, _), httpx.Client(base_url=base, timeout=60) as client:
        def ask(question: str, session: str | None) -> dict[str, object]:
            answer: dict[str, object] = client.post("/v1/ask", json={"question": question,
                                                                     "session_id": session}).json()
            return answer

        for name, dialogues in (("tuned (build_dialogues)", build_dialogues(records, today)),
                                ("held out (build_held_out)", build_held_out(records, today))):
            report = evaluate(ask, dialogues)
            lines.append(f"| {name} | {report.turns} | {report.intent_accuracy:.3f} | {report.slot_f1:.3f} | "
                         f"{report.fact_accuracy:.3f} |")
            failures += report.failures
    body = "\n".join(lines) + "\n\nTurns not fully right: " + ("; ".join(failures) or "none") + "."
    record(f"Conversation quality ({args.records:,} generated records, keyword search)",
           f"python bench/conversation_quality.py --records {args.records}", body)


if __name__ == "__main__":
    main()
