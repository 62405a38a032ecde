"""The load: read → map columns → validate → normalise → analyse → store, in batches.

Rows are validated and analysed in worker processes (validation and analysis are pure Python and hold the
GIL) while the main process reads files and a thread of it writes the store, so both cores work. Each
worker is given the rows of its own share of subjects, so that its name-analysis caches serve a subject's
later records. A bad row goes to the reject report and never stops the good rows; a file that cannot be
read at all is reported and the other files still load.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import gc
import heapq
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from indexer.analysis import AnalysedRecord, analyse
from indexer.fields import FIELDS, FieldSpec, detect_record_type, map_headers
from indexer.model import RecordType
from indexer.readers import RawRow, UnreadableInput, open_tables
from indexer.rows import build_record
from stores.base import Store, UpsertCounts

BATCH_ROWS = 2000
# Documents handed to the store's writer at a time, and per write transaction. Records are keyed by random ids,
# so each commit rewrites index pages all over the file: 30,000 records per transaction rewrite each page fewer
# times than 10,000 (a million records: 1.2 GB less written; the writer alone 44–46 instead of 56 µs per record,
# bench/index_writer.py), while the writer holds no more than two batches of them (a million-record load that
# held its 10,000-record transactions whole peaked 180 and 390 MiB higher with 20,000 and 40,000).
WRITE_ROWS = 5000
TRANSACTION_ROWS = 30000
# Analysis batches in flight beyond two per worker: enough that the workers do not run dry while the main thread
# waits for the writer.
QUEUED_BATCHES = 5
# Added to the analysis workers' niceness, so that the process that reads and writes comes first.
WORKER_NICENESS = 10
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
REJECT_HEADERS = ("源文件", "行号", "字段", "值", "原因")


@dataclass(slots=True)
class Reject:
    source: str
    row: int
    field: str
    value: str
    reason: str


@dataclass(slots=True)
class TypeCounts:
    read: int = 0
    skipped: int = 0
    rejected: int = 0
    stored: UpsertCounts = field(default_factory=UpsertCounts)


@dataclass(slots=True)
class LoadSummary:
    counts: dict[RecordType, TypeCounts] = field(default_factory=dict)
    unusable: list[str] = field(default_factory=list)  # one Chinese sentence per unreadable file/table
    reject_report: Path | None = None
    elapsed: float = 0.0

    def of(self, record_type: RecordType) -> TypeCounts:
        return self.counts.setdefault(record_type, TypeCounts())

    @property
    def read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())

    @property
    def exit_code(self) -> int:
        """0 all rows indexed; 3 some rows rejected; 2 some input unusable."""
        if self.unusable:
            return 2
        return 3 if self.rejected else 0


# A row as it crosses to an analysis worker: its number, the values of the table's mapped columns in the
# order of its column map (None when the row could not be read), and the reader's error. Tuples of values
# pickle and unpickle in less than half the time of the readers' dicts (10 against 24 µs a row), and the
# columns that map to no field stay behind.
_Packed = tuple[int, tuple[object, ...] | None, str]


@dataclass(slots=True)
class _Batch:
    docs: list[AnalysedRecord]
    rows: list[int]  # the source row of each document
    rejects: list[Reject]
    skipped: int
    read: int

    def __reduce__(self) -> tuple[Callable[..., _Batch], tuple[object, ...]]:
        # Analysed documents cross back as plain tuples (each converted in C) and become named tuples again with
        # one `_make` each: no constructor of 23 arguments runs per document on either side.
        return _restored, (list(map(tuple, self.docs)), self.rows, self.rejects, self.skipped, self.read)


def _restored(docs: list[tuple[Any, ...]], rows: list[int], rejects: list[Reject], skipped: int, read: int) -> _Batch:
    return _Batch(list(map(AnalysedRecord._make, docs)), rows, rejects, skipped, read)


def _process(record_type: RecordType, columns: Mapping[str, FieldSpec], source: str,
             rows: Sequence[_Packed]) -> _Batch:
    """Validate and analyse one batch of rows (runs in a worker process)."""
    docs: list[AnalysedRecord] = []
    numbers: list[int] = []
    rejects: list[Reject] = []
    skipped = 0
    headers = tuple(columns)
    for number, values, error in rows:
        if values is None:
            rejects.append(Reject(source, number, "", "", error))
            continue
        outcome = build_record(record_type, columns, dict(zip(headers, values, strict=True)), source, number)
        if outcome.record is not None:
            docs.append(analyse(outcome.record))
            numbers.append(number)
        elif outcome.skipped:
            skipped += 1
        else:
            rejects.extend(Reject(source, number, p.field, p.value, p.reason) for p in outcome.problems)
    return _Batch(docs, numbers, rejects, skipped, len(rows))


def _start_worker(parent: int) -> None:
    """Set up an analysis worker: it dies with the loading process ``parent``, runs at a lower priority
    (WORKER_NICENESS) and without cyclic garbage collection (see _collection_paused)."""
    _die_with(parent)
    os.nice(WORKER_NICENESS)
    gc.disable()


def _die_with(parent: int) -> None:
    """End this process when ``parent`` ends, however it ends: a worker waits on its task queue for ever, so
    after a ``kill -9`` of the load its workers (hundreds of MB each) would live on. Linux sends the signal
    asked for with prctl(PR_SET_DEATHSIG) when the parent dies; elsewhere a thread watches the parent."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Cyclic garbage collection off for the duration of a load. The load makes next to no reference cycles
    (none in a worker over 200 batches, 12 objects in the loading process over 300,000 records), but every
    collection walks the documents in flight and the analysis caches: a tenth of the CPU time of a 300,000-
    record load, in the loading process and the workers alike (measured with gc.callbacks)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _split(rows: list[RawRow], columns: Mapping[str, FieldSpec], parts: int) -> list[list[_Packed]]:
    """Rows packed for the workers (see _Packed) and split into ``parts`` by subject name, so that each
    worker sees every record of its subjects. At a million records of 370,000 subjects, workers given rows
    at random analysed most names anew for each record (their caches hold a fraction of the subjects); given
    their own share, a worker meets half as many names and its caches hit more often."""
    headers = tuple(columns)
    names = [i for i, header in enumerate(headers) if columns[header].name == "subject_name"]
    split: list[list[_Packed]] = [[] for _ in range(parts)]
    for raw in rows:
        if raw.values is None:
            split[0].append((raw.number, None, raw.error))
            continue
        values = tuple(map(raw.values.get, headers))
        name = next((values[i] for i in names if values[i]), "")
        split[hash(str(name)) % parts].append((raw.number, values, ""))
    return split


def _merge(parts: Sequence[_Batch]) -> _Batch:
    """The batches of one split, back in row order: of two rows with the same record id (spelled with
    different names, so analysed by different workers) the later one must still win."""
    if len(parts) == 1:
        return parts[0]
    placed = list(heapq.merge(*(zip(p.rows, p.docs, strict=True) for p in parts), key=itemgetter(0)))
    return _Batch(docs=[doc for _, doc in placed], rows=[row for row, _ in placed],
                  rejects=list(heapq.merge(*(p.rejects for p in parts), key=attrgetter("row"))),
                  skipped=sum(p.skipped for p in parts), read=sum(p.read for p in parts))


def _batches(rows: Iterator[RawRow]) -> Iterator[list[RawRow]]:
    """Rows in batches; when a file turns unreadable part-way, the rows read before it still come out."""
    chunk: list[RawRow] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) == BATCH_ROWS:
                yield chunk
                chunk = []
    except UnreadableInput:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


class _StoreWriter:
    """Writes analysed documents in the order they were given, from a thread of its own: SQLite releases the GIL
    while it works and waits for the disk, so the main thread meanwhile reads the next rows and hands them to the
    workers (a 200,000-record load took 55 instead of 62 seconds). Documents go to the store in batches of
    WRITE_ROWS through one ``upsert_batches`` call per transaction of about TRANSACTION_ROWS; one batch waits while
    the writer writes another, which bounds memory, and one transaction is written at a time."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: list[AnalysedRecord] = []
        self._counts: UpsertCounts | None = None
        self._stream: queue.Queue[list[AnalysedRecord] | None] | None = None  # the open transaction's batches
        self._streamed = 0  # documents handed to the open transaction
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._writing: Future[None] | None = None

    def put(self, docs: list[AnalysedRecord], counts: UpsertCounts) -> None:
        """Write ``docs`` (with the next ones); what the store reports about them is added to ``counts``."""
        if counts is not self._counts:
            self.flush()
            self._counts = counts
        self._pending.extend(docs)
        if len(self._pending) >= WRITE_ROWS:
            self._hand_over()
            if self._streamed >= TRANSACTION_ROWS:
                self._end_transaction()

    def flush(self) -> None:
        """Hand over what is pending and end the open transaction (the writer commits it; see wait)."""
        self._hand_over()
        self._end_transaction()

    def _hand_over(self) -> None:
        if not self._pending or self._counts is None:
            return
        if self._stream is None:
            self.wait()
            self._stream = queue.Queue(maxsize=1)
            self._writing = self._thread.submit(self._write, self._stream, self._counts)
        self._send(self._pending)
        self._streamed += len(self._pending)
        self._pending = []

    def _end_transaction(self) -> None:
        if self._stream is not None:
            self._send(None)
            self._stream, self._streamed = None, 0

    def _send(self, batch: list[AnalysedRecord] | None) -> None:
        assert self._stream is not None and self._writing is not None
        while True:
            try:
                self._stream.put(batch, timeout=0.1)
                return
            except queue.Full:
                if self._writing.done():  # the writer failed and reads no more: raise its error
                    self._writing.result()
                    raise RuntimeError("store writer stopped before the end of its transaction") from None

    def _write(self, stream: queue.Queue[list[AnalysedRecord] | None], counts: UpsertCounts) -> None:
        counts.add(self._store.upsert_batches(iter(stream.get, None)))

    def run(self, task: Callable[[], None]) -> None:
        """Run ``task`` on the writing thread once everything handed to it is written, and wait for it
        (the store's flush: one connection and its page cache serve the whole load)."""
        self.flush()
        self.wait()
        self._thread.submit(task).result()

    def wait(self) -> None:
        """Wait until every ended transaction is written (its error is raised here)."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def close(self) -> None:
        """End the open transaction with the batches already handed over (not the pending documents), wait for
        it and end the thread."""
        try:
            self._pending = []
            self._end_transaction()
            self.wait()
        finally:
            self._thread.shutdown()


class _RejectWriter:
    """The reject report: CSV in UTF-8 with BOM so that Excel opens the Chinese text correctly. The file
    is created on the first reject, so a clean load leaves no empty report behind."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"rejects-{datetime.now():%Y%m%d-%H%M%S-%f}.csv"
        self._fh: TextIO | None = None
        self._writer: Any = None

    def write(self, rejects: Sequence[Reject]) -> None:
        if not rejects:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(REJECT_HEADERS)
        self._writer.writerows((r.source, r.row, r.field, r.value, r.reason) for r in rejects)

    def close(self) -> Path | None:
        if self._fh is None:
            return None
        self._fh.close()
        return self.path


@_collection_paused()
def load(paths: Sequence[Path], store: Store, record_type: RecordType | None = None,
         reject_dir: Path = Path("."), workers: int | None = None, progress: bool = False,
         sheet: str | None = None) -> LoadSummary:
    """Load every table of every file into ``store``; ``record_type=None`` detects it per table."""
    started = time.perf_counter()
    summary = LoadSummary()
    rejects = _RejectWriter(reject_dir)
    workers = workers if workers is not None else max(1, min(2, multiprocessing.cpu_count()))
    # One single-process pool per worker: rows are routed to a worker by subject (see _split). The workers
    # run at a lower priority: the store's writer is the slowest stage, and sharing the two cores evenly with
    # the workers starved it (a million records end to end: 340 s at normal priority, 283 s lowered).
    pools = [ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                                 initargs=(os.getpid(),)) for _ in range(workers)] if workers > 1 else []
    bar = tqdm(unit="条", desc="索引", disable=not progress, mininterval=0.5)
    writer = _StoreWriter(store)
    try:
        for path in paths:
            try:
                for table in open_tables(Path(path), sheet):
                    _load_table(table.source, table.headers, table.rows, record_type, writer, summary,
                                rejects, pools, bar)
            except UnreadableInput as exc:
                summary.unusable.append(str(exc))
        for pool in pools:
            pool.shutdown()  # idle from here on: their caches need not stay in memory during the flush
        writer.run(store.flush)
    finally:
        writer.close()
        bar.close()
        for pool in pools:
            pool.shutdown(cancel_futures=True)
        summary.reject_report = rejects.close()
        summary.elapsed = time.perf_counter() - started
    return summary


def _load_table(source: str, headers: list[str], rows: Iterator[RawRow], record_type: RecordType | None,
                writer: _StoreWriter, summary: LoadSummary, rejects: _RejectWriter,
                pools: Sequence[ProcessPoolExecutor], bar: tqdm[Any]) -> None:
    kind = record_type or detect_record_type(headers)
    if kind is None:
        summary.unusable.append(f"{source}：无法从表头识别记录类型（行政许可、行政处罚、失信被执行人或信用承诺），"
                                f"请用 --type 指定")
        return
    columns = map_headers(kind, headers)
    mapped = {spec.name for spec in columns.values()}
    missing = [s.label for s in FIELDS[kind] if s.required and s.name not in mapped]
    if missing:
        summary.unusable.append(f"{source}：按“{kind.label}”读取时缺少必需的列：{'、'.join(missing)}")
        return
    counts = summary.of(kind)

    def consume(batch: _Batch) -> None:
        counts.read += batch.read
        counts.skipped += batch.skipped
        counts.rejected += len({(r.source, r.row) for r in batch.rejects})
        writer.put(batch.docs, counts.stored)
        rejects.write(batch.rejects)
        bar.update(batch.read)

    if not pools:
        for chunk in _batches(rows):
            consume(_process(kind, columns, source, _split(chunk, columns, 1)[0]))
        return
    pending: list[list[Future[_Batch]]] = []
    try:
        for chunk in _batches(rows):
            parts = _split(chunk, columns, len(pools))
            pending.append([pool.submit(_process, kind, columns, source, part)
                            for pool, part in zip(pools, parts, strict=True) if part])
            # Keep a bounded number of batches in flight so memory stays flat on large files, but enough that
            # the workers do not run dry while the main thread waits for a transaction to be written.
            while len(pending) > len(pools) * 2 + QUEUED_BATCHES:
                consume(_merge([future.result() for future in pending.pop(0)]))
    finally:
        # Also when the file turns unreadable part-way: batches already read are stored, not dropped.
        for futures in pending:
            consume(_merge([future.result() for future in futures]))


def describe(summary: LoadSummary) -> str:
    """The operator's summary in Chinese: counts per type, elapsed, rate, reject report."""
    lines = ["类型          读取      新增      更新      未变      跳过      拒绝"]
    totals: Counter[str] = Counter()
    for kind, c in sorted(summary.counts.items()):
        row = {"read": c.read, "inserted": c.stored.inserted, "updated": c.stored.updated,
               "unchanged": c.stored.unchanged, "skipped": c.skipped, "rejected": c.rejected}
        totals.update(row)
        lines.append(f"{kind.label:<10}" + "".join(f"{v:>10}" for v in row.values()))
    keys = ("read", "inserted", "updated", "unchanged", "skipped", "rejected")
    lines.append(f"{'合计':<10}" + "".join(f"{totals[k]:>10}" for k in keys))
    rate = summary.read / summary.elapsed if summary.elapsed else 0.0
    lines.append(f"用时 {summary.elapsed:.1f} 秒，{rate:,.0f} 条/秒")
    if summary.reject_report:
        lines.append(f"被拒绝的行已写入：{summary.reject_report}")
    lines.extend(f"无法读取：{u}" for u in summary.unusable)
    return "\n".join(lines)
