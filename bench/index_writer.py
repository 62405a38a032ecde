"""Where the embedded store's write time goes during a load. The load hands a store its analysed documents in
transactions of about TRANSACTION_ROWS, in batches of WRITE_ROWS; those of a corpus are collected in memory first
(analysis is not timed here: bench/index_load.py measures it), then written into a fresh store one transaction at
a time with each SQL statement timed, then flushed.

Run: python bench/index_writer.py --records 300000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, generated_corpus, record
from indexer.analysis import AnalysedRecord
from indexer.pipeline import TRANSACTION_ROWS, WRITE_ROWS, load
from stores.base import UpsertCounts
from stores.embedded import EmbeddedStore


class Collector:
    """A store that keeps the transactions (lists of batches) it is given."""

    def __init__(self) -> None:
        self.transactions: list[list[Sequence[AnalysedRecord]]] = []

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        self.transactions.append(list(batches))
        return UpsertCounts(inserted=sum(len(docs) for docs in self.transactions[-1]))

    def flush(self) -> None:
        """Nothing derived to bring up to date."""


class TimedConnection:
    """Times every statement of the store's connection, keyed by its first words."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.seconds: dict[str, float] = defaultdict(float)

    def _timed(self, sql: str, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        result = call(sql, *args)
        self.seconds[" ".join(sql.split()[:4])] += time.perf_counter() - started
        return result

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(sql, self.real.execute, *args)

    def executemany(self, sql: str, rows: Iterable[Any]) -> Any:
        return self._timed(sql, self.real.executemany, list(rows))


class TimedStore(EmbeddedStore):
    # The store keeps one connection per thread behind _db; the profile needs to see each statement.
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.timed = TimedConnection(super()._db())

    def _db(self) -> Any:
        timed = getattr(self, "timed", None)  # None while the base class opens the store
        return timed if timed is not None else super()._db()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=300000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    files = generated_corpus(args.records, args.seed, name=f"corpus-{args.records}")
    collected = Collector()
    load(files, collected, reject_dir=OUT / "writer-rejects")  # type: ignore[arg-type]
    rows = sum(len(docs) for batches in collected.transactions for docs in batches)

    data = OUT / f"writer-{args.records}"
    shutil.rmtree(data, ignore_errors=True)
    store = TimedStore(data)
    marks: list[tuple[int, float]] = []
    written, upsert = 0, 0.0
    for batches in collected.transactions:
        started = time.perf_counter()
        store.upsert_batches(batches)
        upsert += time.perf_counter() - started
        written += sum(len(docs) for docs in batches)
        if not marks or written - marks[-1][0] >= rows // 5:
            marks.append((written, upsert))
    started = time.perf_counter()
    store.flush()
    flush = time.perf_counter() - started
    statements = dict(store.timed.seconds)
    store.close()

    upsert_us = upsert / rows * 1e6
    lines = "\n".join(f"| `{sql}` | {seconds / rows * 1e6:,.1f} |"
                      for sql, seconds in sorted(statements.items(), key=lambda kv: -kv[1]) if seconds / rows > 5e-7)
    growth = " → ".join(f"{n:,}: {t / n * 1e6:,.0f}" for n, t in marks[1:])
    body = f"""
Corpus: `credit-search generate --records {args.records} --seed {args.seed}`; {rows:,} analysed records in
{len(collected.transactions):,} transactions of about {TRANSACTION_ROWS:,} in batches of {WRITE_ROWS:,} (as the load handed them to the store), written in one process into a fresh
embedded store (no analysis, no transfer between processes: the writer alone).

Upsert {upsert:,.1f} s ({upsert_us:,.0f} µs per record, {rows / upsert:,.0f} records/s), then flush {flush:,.1f} s
(subject rows, autocomplete forms and, after a first load, the records' indexes). Cumulative µs per record
as the store grows: {growth}.

Per statement, µs per record (statements of the flush included, except the subject aggregation's reads, which
run on a connection of their own alongside them; Python outside the statements is the rest of the upsert time):

| statement | µs per record |
|---|---|
{lines}
"""
    record(f"Writer profile over {rows:,} records (indexer issue)",
           f"python bench/index_writer.py --records {args.records}", body)


if __name__ == "__main__":
    main()
