"""The embedded store: one SQLite file with an FTS5 index over pre-analysed tokens.

WAL mode lets the server read while the indexer writes; each batch is one transaction, so a killed
indexer leaves the store as it was after its last complete batch, and rerunning the load completes it
(record ids are stable, so nothing is duplicated).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson

from indexer.analysis import AnalysedRecord, with_status
from indexer.model import Record, RecordType, Status, iso_date, record_from_dict
from stores.base import (
    FACET_FIELDS,
    Clause,
    Filters,
    Hit,
    HitPage,
    StoreUnavailable,
    Subject,
    UpsertCounts,
    Visibility,
    count_facets,
)
from stores.record_columns import FILTER_COLUMNS, NO_END, ColumnsHolder, RecordColumns, covers, filter_mask
from stores.vector_matrix import MatrixCache, VectorMatrix, encoder_directory, write_matrix

DB_NAME = "credit.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    record_type TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    org_code TEXT NOT NULL,
    reg_no TEXT NOT NULL,
    document_number TEXT NOT NULL,
    decision_date TEXT,
    publish_until TEXT,
    authority TEXT NOT NULL,
    district TEXT NOT NULL,
    category TEXT NOT NULL,
    amount REAL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    status_date TEXT,
    audience TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    semantic_key TEXT NOT NULL DEFAULT '',
    subject_category TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(name, text, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS subjects (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    org_code TEXT NOT NULL,
    reg_no TEXT NOT NULL,
    category TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    names TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS semantic_texts (key TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vectors (
    encoder TEXT NOT NULL,
    key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dirty_subjects (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suggest (
    form TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (form, key)
) WITHOUT ROWID;
-- Autocomplete forms written with their records and filed into suggest at flush: a subject name's forms
-- as one JSON array (one row per name instead of one per form: a seventh of the inserts).
CREATE TABLE IF NOT EXISTS suggest_queue (key TEXT NOT NULL, forms TEXT NOT NULL);
"""
# FTS5 merges index segments once this many share a level. Its default, 4, merges a load's postings into ever
# larger segments again and again; at 16 the index is rewritten fewer times (the records and FTS statements of
# 300,000 records: 48–52 instead of 53–62 µs per record), and a million-record store still ends with 11
# segments, as with 4, so a term is looked up as many times.
_FTS_AUTOMERGE = 16
# The subjects' secondary indexes, dropped while every subject row is rewritten and built again after: kept up to
# date row by row, their random keys made rewriting 372,000 subjects take 4.4 s instead of 3.1.
_SUBJECT_INDEXES = {
    "subjects_code": "CREATE INDEX IF NOT EXISTS subjects_code ON subjects(code)",
    "subjects_org_code": "CREATE INDEX IF NOT EXISTS subjects_org_code ON subjects(org_code)",
    "subjects_reg_no": "CREATE INDEX IF NOT EXISTS subjects_reg_no ON subjects(reg_no)",
}
# The records' secondary indexes, which a first load builds once at its flush instead of row by row: records
# arrive in random key order, and keeping three B-trees of random keys up to date cost a third of the
# writer's time at a million records (bench/index_writer.py). Their absence marks a store whose first load
# has not completed; see EmbeddedStore._first_load.
_DEFERRED_INDEXES = {
    "records_subject": "CREATE INDEX records_subject ON records(subject_key, decision_date)",
    "records_docno": "CREATE INDEX records_docno ON records(document_number)",
    "records_type_date": "CREATE INDEX records_type_date ON records(record_type, decision_date)",
}
_RECORD_COLUMNS = ("id", "record_type", "subject_key", "subject_name", "subject_code", "org_code", "reg_no",
                   "document_number", "decision_date", "publish_until", "authority", "district", "category",
                   "amount", "status", "status_reason", "status_date", "audience", "content_hash", "body",
                   "semantic_key", "subject_category")
# Bound parameters per column: a document's body arrives as UTF-8 bytes, which SQLite would store as a blob.
_RECORD_PARAMS = {column: "CAST(? AS TEXT)" if column == "body" else "?" for column in _RECORD_COLUMNS}
# A record's row, derived from _RECORD_COLUMNS: an analysed document's leading fields (id … audience) are
# records columns of the same names and come as one slice, its other columns in one attrgetter call, and a new
# record's status as literals, so the single writing thread, which the whole load waits on, spends no Python
# attribute access per column. An update binds the status, which a stored correction may have set.
_LEADING = AnalysedRecord._fields[:AnalysedRecord._fields.index("audience") + 1]
_STATUS_COLUMNS = {"status": f"'{Status.ACTIVE.value}'", "status_reason": "''", "status_date": "NULL"}
_TRAILING = tuple(c for c in _RECORD_COLUMNS if c not in _LEADING and c not in _STATUS_COLUMNS)
_BODY = _TRAILING.index("body")
_trailing_values = attrgetter(*_TRAILING)
_INSERT_RECORD = "INSERT INTO records ({}) VALUES ({})".format(
    ",".join([*_LEADING, "rowid", *_TRAILING, *_STATUS_COLUMNS]),
    ",".join(["?"] * (len(_LEADING) + 1) + [_RECORD_PARAMS[c] for c in _TRAILING] + [*_STATUS_COLUMNS.values()]))
_UPDATE_RECORD = "UPDATE records SET {} WHERE rowid=?".format(
    ",".join(f"{c}={_RECORD_PARAMS[c]}" for c in (*_LEADING, *_TRAILING, *_STATUS_COLUMNS)))
# Every subject's row, aggregated by SQLite, which releases the GIL (a million records: 6 s, where the same rows
# aggregated in Python took 18). The newest record, whose name and category the subject takes, is the largest of
# (dated, decision date, rowid), spelt as text that sorts the same way, with the name and category appended; the
# largest code of each kind wins (an unmasked code over its masked spelling: '*' sorts first); each distinct name
# comes after a \x1f in a comma-separated list (group_concat takes no separator with DISTINCT).
_SUBJECT_FACTS = ("SELECT subject_key, max((decision_date IS NOT NULL) || coalesce(decision_date, '') || "
                  "printf('%012d', rowid) || char(31) || subject_name || char(31) || subject_category), "
                  "max(subject_code), max(org_code), max(reg_no), count(*), "
                  "group_concat(DISTINCT char(31) || subject_name) FROM records")
# Document frequencies remembered by a store (see document_frequencies).
_MAX_FREQUENCIES = 50_000
# Flush rebuilds every subject row in one pass when at least 1/_REBUILD_SHARE of the subjects are dirty.
_REBUILD_SHARE = 4
# Each thread has its own connection, and each connection its own page cache, which fills with every page a
# query touches until it holds the cache's size: a server with many threads would hold many copies of the hot
# pages. Reads go through a memory map instead (the operating system's one copy, shared by every connection and
# process, given back under pressure), and a connection keeps a small private cache, raised for the length of a
# write transaction, where a load's dirty pages must stay in memory until the commit.
_READ_CACHE_KIB, _WRITE_CACHE_KIB = 4096, 65536
_MMAP_BYTES = 2**40  # as much of the file as SQLite's build allows
_FACET_SQL = {"record_type": "r.record_type", "district": "r.district", "authority": "r.authority",
              "category": "r.category", "year": "substr(r.decision_date, 1, 4)"}
_FACET_COLUMNS = ", ".join(_FACET_SQL[f] for f in FACET_FIELDS)  # in the order of FACET_FIELDS
# What a page of hits reads of each record (after its order key): Hit's fields, facet values last.
_PAGE_COLUMNS = f"r.rowid, r.subject_name, r.decision_date, r.subject_key, r.id, {_FACET_COLUMNS}"
# A query matching more visible records than this is ranked within its most recently loaded _RANK_WINDOW
# matches first (see _search_ranked): twice the deepest page that page numbers reach (500 records), so the
# pages a person clicks through come from the window, while bm25 reads the positions of a thousand or so
# matches instead of every one of a hundred thousand.
_RANK_WINDOW = 1000
# Below this many records, counting a query's matches in SQL is fast and a store keeps no record columns.
COLUMNS_MIN_RECORDS = 50_000
# A query whose terms may match more records than this is counted from the record columns. For fewer, SQL
# counts while it ranks (the page query then holds every match) faster than the columns path can list them.
_BROAD_MATCHES = 5000


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(clauses: Sequence[Clause]) -> str:
    """An FTS5 MATCH expression for clauses joined by OR (empty when there is nothing to match)."""
    parts = []
    for clause in clauses:
        groups = ["(" + " OR ".join(_quote(t) for t in g) + ")" for g in clause.groups if g]
        if groups:
            joiner = " AND " if clause.require == "all" else " OR "
            parts.append(f"{clause.field} : ({joiner.join(groups)})")
    return " OR ".join(parts)


@dataclass(slots=True)
class _Transaction:
    """The state of one upsert_batches call: its connection, whether it belongs to a first load, the next free
    rowid, its counts, and the semantic keys and (subject key, name) spellings whose texts and forms it wrote."""

    db: sqlite3.Connection
    first_load: bool
    next_rowid: int
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    texts: set[str] = field(default_factory=set)
    named: set[tuple[str, str]] = field(default_factory=set)


class EmbeddedStore:
    """SQLite FTS5 store under a data directory."""

    def __init__(self, data_dir: Path, create: bool = True, columns_min_records: int = COLUMNS_MIN_RECORDS,
                 columns_in_background: bool = True) -> None:
        """``columns_min_records`` and ``columns_in_background`` say from how many records on a store keeps
        record columns for counting matches (stores.record_columns) and whether they are rebuilt in a thread
        of their own (False: by the search that finds them stale, for tests)."""
        self.path = Path(data_dir) / DB_NAME
        if not create and not self.path.exists():
            raise StoreUnavailable(f"no index at {self.path}: run `credit-search index` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []  # every thread's, so that close() ends them all
        self._connections_lock = threading.Lock()
        self._forms_written: set[tuple[str, str]] = set()  # (subject key, name) whose forms are stored
        self._frequencies: dict[tuple[str, str], int] = {}
        # executescript commits on its own; the statements are idempotent (IF NOT EXISTS).
        db = self._db()
        db.executescript(_SCHEMA + "".join(f"{sql};\n" for sql in _SUBJECT_INDEXES.values()))
        if db.execute("SELECT v FROM fts_config WHERE k = 'automerge'").fetchone() != (_FTS_AUTOMERGE,):
            db.execute(f"INSERT INTO fts (fts, rank) VALUES ('automerge', {_FTS_AUTOMERGE})")
        subject_columns = _columns(db, "subjects")
        if "names" not in subject_columns:
            # A store made before subjects kept their names: the column fills as subjects are refreshed.
            db.execute("ALTER TABLE subjects ADD COLUMN names TEXT NOT NULL DEFAULT ''")
        if "public_count" in subject_columns:
            # A store made when subjects counted their public records: visibility depends on the day asked,
            # so it is counted from the records when asked (visible_counts).
            db.execute("ALTER TABLE subjects DROP COLUMN public_count")
        if "semantic_key" not in _columns(db, "records"):
            # A store made before semantic search: the column fills as records are reloaded (the analysis
            # version in the content hash makes a reload re-analyse them).
            db.execute("ALTER TABLE records ADD COLUMN semantic_key TEXT NOT NULL DEFAULT ''")
        if "subject_category" not in _columns(db, "records"):
            self._add_subject_categories()
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'suggest_pending'").fetchone():
            self._file_old_pending_forms()
        self._texts_written: set[str] = set()  # semantic keys whose text is stored
        self._matrices = MatrixCache()
        self._record_columns = ColumnsHolder(self._open, columns_min_records, background=columns_in_background)

    def _add_subject_categories(self) -> None:
        """Give a store made before records kept their subject's category in a column (subject rows read it
        from the newest record's body) that column, filled from the bodies, in one transaction."""
        with self._write() as db:
            if "subject_category" not in _columns(db, "records"):  # another process may have added it first
                db.execute("ALTER TABLE records ADD COLUMN subject_category TEXT NOT NULL DEFAULT ''")
                db.execute("UPDATE records SET subject_category = json_extract(body, '$.subject_category')")

    def _file_old_pending_forms(self) -> None:
        """File the forms that a store made before suggest_queue still holds in its old queue (one row per
        form), left by a load that was killed before its flush, and drop that queue."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'suggest_pending'").fetchone():
                db.execute("INSERT OR IGNORE INTO suggest (form, key) SELECT form, key FROM suggest_pending "
                           "ORDER BY 1, 2")
                db.execute("DROP TABLE suggest_pending")

    # -- connections ---------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        """A new connection to the store's file, set up as every connection of this store is."""
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            # Records with their JSON bodies fill 4 KiB pages badly; 8 KiB pages (set when the file is
            # created, before WAL mode) and checkpoints every 80 MiB of WAL instead of every 4 MiB write
            # a page once where it was written several times.
            db.execute("PRAGMA page_size=8192")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA cache_size=-{_READ_CACHE_KIB}")
            db.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            db.execute("PRAGMA wal_autocheckpoint=10000")
            db.execute(f"PRAGMA journal_size_limit={64 * 2**20}")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc
        return db

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._open()
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute(f"PRAGMA cache_size=-{_WRITE_CACHE_KIB}")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.execute(f"PRAGMA cache_size=-{_READ_CACHE_KIB}")

    def ping(self) -> None:
        try:
            self._db().execute("SELECT 1 FROM records LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        """Close the connections of every thread (a load writes from a thread of its own): the last one
        to close folds the write-ahead log into the database file."""
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
            self._local = threading.local()  # a thread that uses the store again opens a new connection
        self._record_columns.close()

    # -- writing -------------------------------------------------------------------------------------
    def upsert(self, docs: Sequence[AnalysedRecord]) -> UpsertCounts:
        return self.upsert_batches([docs])

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        """Every batch in one transaction. Records arrive in random id order, so each commit rewrites most pages
        of the id index: at a million records, committing once per 30,000 records instead of once per 10,000
        wrote 1.2 GB less and took the writer 44–46 instead of 56 µs per record (bench/index_writer.py)."""
        with self._write() as db:
            # The write lock is held, so the next rowids are ours: rows and their FTS entries are written
            # in two executemany calls per batch instead of one round trip per record.
            tx = _Transaction(db, self._first_load(db),
                              int(db.execute("SELECT coalesce(max(rowid), 0) FROM records").fetchone()[0]) + 1)
            for docs in batches:
                self._write_batch(tx, docs)
        # After the commit: a rolled-back transaction wrote nothing.
        self._texts_written.update(tx.texts)
        self._forms_written.update(tx.named)
        return tx.counts

    def _write_batch(self, tx: _Transaction, docs: Sequence[AnalysedRecord]) -> None:
        """Write one batch in the open transaction ``tx``."""
        db, counts, next_rowid = tx.db, tx.counts, tx.next_rowid
        latest = {d.id: d for d in docs}  # a duplicate inside one batch: the later row wins
        counts.unchanged += len(docs) - len(latest)
        if not latest:
            return
        existing = {row[0]: row[1:] for row in db.execute(
            f"SELECT id, rowid, content_hash, subject_key, status, status_reason, status_date "
            f"FROM records WHERE id IN ({','.join('?' * len(latest))})", list(latest))}
        inserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        fts: list[tuple[object, ...]] = []
        touched: set[str] = set()
        forms: list[tuple[str, bytes]] = []
        new_texts: list[tuple[str, str]] = []
        for doc in latest.values():
            old = existing.get(doc.id)
            if old is None:
                rowid = next_rowid
                next_rowid += 1
                inserts.append((*doc[:len(_LEADING)], rowid, *_trailing_values(doc)))
            elif old[1] == doc.content_hash:
                counts.unchanged += 1
                continue
            else:
                rowid = old[0]
                updates.append((*self._row(doc, old), rowid))
                touched.add(old[2])
            fts.append((rowid, doc.name_tokens, doc.text_tokens))
            touched.add(doc.subject_key)
            key = doc.semantic_key
            if key and key not in self._texts_written and key not in tx.texts:
                tx.texts.add(key)
                new_texts.append((key, doc.semantic_text))
            spelling = (doc.subject_key, doc.subject_name)
            if spelling not in self._forms_written and spelling not in tx.named:
                tx.named.add(spelling)
                forms.append((doc.subject_key, orjson.dumps(doc.suggest_forms)))
        tx.next_rowid = next_rowid
        counts.inserted += len(inserts)
        counts.updated += len(updates)
        db.executemany(_INSERT_RECORD, inserts)
        db.executemany(_UPDATE_RECORD, updates)
        db.executemany("DELETE FROM fts WHERE rowid=?", [(u[-1],) for u in updates])
        db.executemany("INSERT INTO fts (rowid, name, text) VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT))", fts)
        # Autocomplete forms land in the keyed table at flush, sorted: inserted batch by batch in random
        # order they cost more of a load's write time than the records themselves.
        db.executemany("INSERT INTO suggest_queue (key, forms) VALUES (?, CAST(? AS TEXT))", forms)
        db.executemany("INSERT OR IGNORE INTO semantic_texts (key, text) VALUES (?, ?)", new_texts)
        # Subject rows are derived from records; recomputing them once per load instead of once per
        # batch saves most of the writer's time. The dirty set commits with the records, so a killed
        # load leaves it for the rerun's flush. A first load's flush rebuilds every subject anyway.
        if not tx.first_load:
            db.executemany("INSERT OR IGNORE INTO dirty_subjects (key) VALUES (?)", [(k,) for k in touched])

    @staticmethod
    def _missing_indexes(db: sqlite3.Connection) -> list[str]:
        present = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        return [name for name in _DEFERRED_INDEXES if name not in present]

    def _first_load(self, db: sqlite3.Connection) -> bool:
        """Whether the load now writing is a first load: into an empty store, or the rerun of a first load
        that was killed before its flush built the secondary indexes. A first load writes without them and
        marks no subject dirty; its flush rebuilds every subject row and then builds the indexes, in one
        transaction, so the indexes exist only in a store whose first load has completed."""
        missing = self._missing_indexes(db)
        if len(missing) < len(_DEFERRED_INDEXES) and db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None:
            for name in _DEFERRED_INDEXES.keys() - set(missing):
                db.execute(f"DROP INDEX {name}")  # an empty store from before the indexes were deferred
            missing = list(_DEFERRED_INDEXES)
        return bool(missing)

    def flush(self) -> None:
        """Recompute the subject rows of every subject touched since the last flush and file the autocomplete
        forms written since then; after a first load, build the records' secondary indexes."""
        with self._write() as db:
            missing = self._missing_indexes(db)
            dirty = int(db.execute("SELECT count(*) FROM dirty_subjects").fetchone()[0])
            if missing or (dirty and dirty * _REBUILD_SHARE >= int(db.execute("SELECT count(*) FROM subjects")
                                                                    .fetchone()[0])):
                self._rebuild(db, missing)
                return
            self._file_forms(db)
        while True:
            with self._write() as db:
                keys = {k for (k,) in db.execute("SELECT key FROM dirty_subjects LIMIT 5000")}
                if not keys:
                    return
                self._refresh_subjects(db, keys)
                db.executemany("DELETE FROM dirty_subjects WHERE key = ?", [(k,) for k in keys])

    def _rebuild(self, db: sqlite3.Connection, missing: Sequence[str]) -> None:
        """A first load's flush, or one after most subjects changed: every subject row recomputed in one
        aggregation over all records (instead of looking up each subject's records), the autocomplete forms filed
        and the missing indexes built, in the transaction open on ``db``. The subjects are aggregated on a
        connection of their own, which reads what the load committed, while ``db`` files the forms and builds the
        indexes: SQLite releases the GIL, so the two halves run on both cores (a million-record first load's flush
        took 37–42 s on one core, 20–24 s on two, when the subjects were still aggregated in Python)."""
        with ThreadPoolExecutor(1, thread_name_prefix="subject-rebuild") as pool:
            aggregated = pool.submit(self._read_every_subject)
            self._file_forms(db)
            for name in missing:
                db.execute(_DEFERRED_INDEXES[name])
            rows = aggregated.result()
        db.execute("DELETE FROM dirty_subjects")
        _write_subjects(db, None, rows)

    def _read_every_subject(self) -> list[tuple[object, ...]]:
        reader = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            return _subject_rows(reader, None)
        finally:
            reader.close()

    @staticmethod
    def _file_forms(db: sqlite3.Connection) -> None:
        db.execute("INSERT OR IGNORE INTO suggest (form, key) SELECT f.value, q.key FROM suggest_queue q, "
                   "json_each(q.forms) f ORDER BY 1, 2")
        db.execute("DELETE FROM suggest_queue")

    @staticmethod
    def _row(doc: AnalysedRecord, old: tuple[object, ...]) -> tuple[object, ...]:
        """The column values (in the order of _UPDATE_RECORD, without the rowid) of a stored record that ``doc``
        replaces; ``old`` holds the stored record's rowid, content hash, subject key, status, status reason and
        status date."""
        trailing = _trailing_values(doc)
        if old[3] == Status.ACTIVE:
            return (*doc[:len(_LEADING)], *trailing, Status.ACTIVE.value, "", None)
        # A correction (repair, withdrawal) outlives a reload of the same source row.
        when = date.fromisoformat(str(old[5])) if old[5] else None
        body = with_status(doc.body, Status(str(old[3])), str(old[4]), when)
        return (*doc[:len(_LEADING)], *trailing[:_BODY], body, *trailing[_BODY + 1:], *old[3:6])

    @staticmethod
    def _refresh_subjects(db: sqlite3.Connection, keys: set[str]) -> None:
        """Recompute the subject rows of ``keys`` from their records, in the transaction open on ``db``."""
        if keys:
            _write_subjects(db, keys, _subject_rows(db, keys))

    def set_status(self, record_id: str, status: Status, reason: str, when: date | None) -> bool:
        with self._write() as db:
            row = db.execute("SELECT body, subject_key FROM records WHERE id=?", (record_id,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE records SET status=?, status_reason=?, status_date=?, body=? WHERE id=?",
                       (status.value, reason, iso_date(when), with_status(row[0], status, reason, when), record_id))
            self._refresh_subjects(db, {row[1]})
        return True

    # -- reading -------------------------------------------------------------------------------------
    def get(self, record_id: str) -> Record | None:
        row = self._db().execute("SELECT body FROM records WHERE id=?", (record_id,)).fetchone()
        return record_from_dict(json.loads(row[0])) if row else None

    def count(self, record_type: RecordType | None = None) -> int:
        if record_type is None:
            return int(self._db().execute("SELECT count(*) FROM records").fetchone()[0])
        return int(self._db().execute("SELECT count(*) FROM records WHERE record_type=?",
                                      (record_type.value,)).fetchone()[0])

    def checksum(self) -> str:
        digest = hashlib.sha256()
        rows = self._db().execute("SELECT id, content_hash, status, status_reason FROM records ORDER BY id")
        for row in rows:
            digest.update("|".join(map(str, row)).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    @staticmethod
    def _where(filters: Filters, type_index: bool = True) -> tuple[str, list[object]]:
        """The SQL condition of ``filters`` over ``records r``; ``type_index=False`` keeps the record type
        condition from using an index (the unary ``+``)."""
        sql: list[str] = []
        args: list[object] = []
        vis = filters.visibility
        if vis.statuses is not None:
            sql.append(f"r.status IN ({','.join('?' * len(vis.statuses))})")
            args.extend(s.value for s in sorted(vis.statuses))
        sql.append(f"r.audience IN ({','.join('?' * len(vis.audiences))})")
        args.extend(a.value for a in sorted(vis.audiences))
        if vis.published_on is not None:
            sql.append("(r.publish_until IS NULL OR r.publish_until >= ?)")
            args.append(vis.published_on.isoformat())
        if filters.record_types:
            column = "r.record_type" if type_index else "+r.record_type"
            sql.append(f"{column} IN ({','.join('?' * len(filters.record_types))})")
            args.extend(t.value for t in filters.record_types)
        for column, value in (("authority", filters.authority), ("district", filters.district)):
            if value:
                sql.append(f"r.{column} = ?")
                args.append(value)
        if filters.category:
            sql.append("instr(r.category, ?) > 0")
            args.append(filters.category)
        if filters.authority_contains:
            sql.append("instr(r.authority, ?) > 0")
            args.append(filters.authority_contains)
        for column, values in (("district", filters.districts), ("subject_category", filters.subject_categories)):
            if values:
                sql.append(f"r.{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        if filters.amount_min is not None:
            sql.append("r.amount >= ?")
            args.append(filters.amount_min)
        if filters.amount_max is not None:
            sql.append("r.amount <= ?")
            args.append(filters.amount_max)
        if filters.date_from:
            sql.append("r.decision_date >= ?")
            args.append(filters.date_from.isoformat())
        if filters.date_to:
            sql.append("r.decision_date <= ?")
            args.append(filters.date_to.isoformat())
        if filters.ended_before:
            sql.append("r.publish_until < ?")
            args.append(filters.ended_before.isoformat())
        if filters.subject_keys:
            sql.append(f"r.subject_key IN ({','.join('?' * len(filters.subject_keys))})")
            args.extend(filters.subject_keys)
        return " AND ".join(sql) or "1", args

    def search(self, clauses: Sequence[Clause], filters: Filters, limit: int, after: str | None = None,
               facets: bool = False) -> HitPage:
        expr = match_expression(clauses)
        try:
            if expr:
                matching = self._matching(clauses)
                if not matching:  # proven by the probes: no need to ask again
                    return HitPage([], 0, count_facets([]) if facets else {})
                expr = match_expression(matching)
                broad = self._estimated_matches(matching) > _BROAD_MATCHES
                by_length = broad and len(matching) == 1 and matching[0].field == "text"
                if after.startswith("l") if after else by_length:  # a cursor continues in its own order
                    return self._search_by_length(expr, filters, limit, after, facets)
                return self._search_ranked(expr, filters, limit, after, facets, broad)
            return self._search_newest(filters, limit, after, facets)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"search failed: {exc}") from exc

    def _matching(self, clauses: Sequence[Clause]) -> list[Clause]:
        """Those of ``clauses`` that match some record. A clause that matches nothing adds nothing to the
        result, but bm25 would still read every one of its terms' lists to weigh them (the name clause of a
        text query, most often)."""
        if len(clauses) < 2:
            return list(clauses)
        db = self._db()
        return [c for c in clauses if (expr := match_expression([c])) and db.execute(
            "SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", [expr]).fetchone()]

    def _estimated_matches(self, clauses: Sequence[Clause]) -> int:
        """At most how many records ``clauses`` match (or more than _BROAD_MATCHES): a text clause that requires
        every group matches no more records than its rarest group holds (the text words' document frequencies
        are known: the service weighed them); a name clause's bigrams are as common as names are, so its
        matches are counted, up to one more than _BROAD_MATCHES."""
        estimate = 0
        db = self._db()
        for clause in clauses:
            if clause.field == "name":
                estimate += int(db.execute("SELECT count(*) FROM (SELECT 1 FROM fts WHERE fts MATCH ? LIMIT ?)",
                                           [match_expression([clause]), _BROAD_MATCHES + 1]).fetchone()[0])
                continue
            frequencies = self.document_frequencies(clause.field, [t for g in clause.groups for t in g])
            per_group = [sum(frequencies[t] for t in group) for group in clause.groups if group]
            if per_group:
                estimate += min(per_group) if clause.require == "all" else sum(per_group)
        return estimate

    def _search_newest(self, filters: Filters, limit: int, after: str | None, facets: bool) -> HitPage:
        """Without terms there is no relevance: newest first, and the cursor follows that order."""
        where, args = self._where(filters)
        db = self._db()
        order = "coalesce(r.decision_date, '')"
        page_where, page_args = where, list(args)
        if after:
            last_key, last_row = _parse_cursor(after, ranked=False)
            page_where += f" AND ({order} < ? OR ({order} = ? AND r.rowid > ?))"
            page_args += [last_key, last_key, last_row]
        rows = db.execute(f"SELECT {order}, {_PAGE_COLUMNS} FROM records r WHERE {page_where} "
                          f"ORDER BY {order} DESC, r.rowid LIMIT ?", [*page_args, limit]).fetchall()
        hits = [self._hit(row, 0.0, f"{row[0]}:{row[1]}") for row in rows]
        total, facet_map = self._count_sql("records r", where, args, rows, after is None and len(rows) < limit,
                                           facets)
        return HitPage(hits, total, facet_map)

    def _search_ranked(self, expr: str, filters: Filters, limit: int, after: str | None, facets: bool,
                       broad: bool) -> HitPage:
        """Records matching ``expr``, by relevance (FTS5's bm25). The matches of a ``broad`` query are counted
        from the record columns; when more than _RANK_WINDOW of them are visible, they are ranked within the
        _RANK_WINDOW most recently loaded first and the rest after them: ranking every match reads every
        match's positions, and the page shown is the first of the window. The total and the facets count
        every match."""
        where, args = self._where(filters)
        db = self._db()
        columns = self._record_columns.current() if broad and covers(filters) else None
        visible = self._visible_matches(db, expr, filters, columns) if columns is not None else None
        if after:
            bound, segment, last_rank, last_row = _parse_ranked_cursor(after)
        else:
            bound, segment, last_rank, last_row = None, "", None, 0
            if visible is not None and len(visible) > _RANK_WINDOW:
                bound, segment = int(visible[-_RANK_WINDOW]), "w"
        rows = self._ranked_rows(db, expr, where, args, limit, bound, segment, last_rank, last_row)
        if segment == "w" and len(rows) < limit:  # the window is exhausted: the other matches by relevance
            rows += self._ranked_rows(db, expr, where, args, limit - len(rows), bound, "r", None, 0)
        hits = [self._hit(row, -float(row[0]),
                          f"{seg}{bound}~{float(row[0])!r}:{row[1]}" if seg else f"{float(row[0])!r}:{row[1]}")
                for seg, *row in rows]
        if visible is not None and columns is not None:
            return HitPage(hits, len(visible), columns.facets(visible) if facets else {})
        total, facet_map = self._count_sql("fts JOIN records r ON r.rowid = fts.rowid", f"fts MATCH ? AND {where}",
                                           [expr, *args], [row[1:] for row in rows],
                                           after is None and len(rows) < limit, facets)
        return HitPage(hits, total, facet_map)

    def _search_by_length(self, expr: str, filters: Filters, limit: int, after: str | None,
                          facets: bool) -> HitPage:
        """The records matching a broad query of words, shortest text first (then the most recently loaded).
        When every match holds every word once, as records of one kind mostly do, bm25 orders them by their
        length alone, and the record columns order them so without reading a match's positions (the judged
        set ranks the same either way: bench/RESULTS.md). Counted from the record columns; while these are
        being rebuilt, SQL orders and counts the same way, slower."""
        where, args = self._where(filters)
        db = self._db()
        last = _parse_length_cursor(after) if after else None
        columns = self._record_columns.current() if covers(filters) else None
        if columns is None:
            conditions, params = f"fts MATCH ? AND {where}", [expr, *args]
            order = "length(fts.text)"
            page_conditions, page_params = conditions, list(params)
            if last is not None:
                page_conditions += f" AND ({order} > ? OR ({order} = ? AND r.rowid < ?))"
                page_params += [last[0], last[0], last[1]]
            rows = db.execute(f"SELECT {order}, {_PAGE_COLUMNS} FROM fts JOIN records r ON r.rowid = fts.rowid "
                              f"WHERE {page_conditions} ORDER BY {order}, r.rowid DESC LIMIT ?",
                              [*page_params, limit]).fetchall()
            total, facet_map = self._count_sql("fts JOIN records r ON r.rowid = fts.rowid", conditions, params,
                                               rows, last is None and len(rows) < limit, facets)
        else:
            visible = self._visible_matches(db, expr, filters, columns)
            lengths = columns.values("text_length", visible)
            candidates, candidate_lengths = visible, lengths
            if last is not None:
                keep = (lengths > last[0]) | ((lengths == last[0]) & (visible < last[1]))
                candidates, candidate_lengths = visible[keep], lengths[keep]
            top = np.lexsort((-candidates, candidate_lengths))[:limit]
            found = self._allowed_rows(db, candidates[top].tolist(), where, args)
            rows = [(length, rowid, *found[rowid]) for rowid, length in
                    zip(candidates[top].tolist(), candidate_lengths[top].tolist(), strict=True) if rowid in found]
            total, facet_map = len(visible), columns.facets(visible) if facets else {}
        hits = [self._hit(row, 1.0 / (1 + int(row[0])), f"l{int(row[0])}:{row[1]}") for row in rows]
        return HitPage(hits, total, facet_map)

    @staticmethod
    def _visible_matches(db: sqlite3.Connection, expr: str, filters: Filters,
                         columns: RecordColumns) -> npt.NDArray[np.int64]:
        """The rowids (ascending) of the records matching ``expr`` that ``filters`` allow. FTS5 lists the
        matches in C and SQLite joins them into one string: a row per match into Python would cost more than
        the matching."""
        joined = db.execute("SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?", [expr]).fetchone()[0]
        matched = np.array(joined.split(","), dtype=np.int64) if joined else np.zeros(0, dtype=np.int64)
        matched.sort()  # FTS5 lists by rowid already; SQL does not promise it
        return columns.allowed(matched, filters)

    @staticmethod
    def _ranked_rows(db: sqlite3.Connection, expr: str, where: str, args: list[object], limit: int,
                     bound: int | None, segment: str, last_rank: float | None,
                     last_row: int) -> list[tuple[Any, ...]]:
        """One segment's rows by relevance (``w``: rowids from ``bound`` on; ``r``: below it; "": all), after
        the position (``last_rank``, ``last_row``) when given; each row starts with the segment."""
        conditions, params = [f"fts MATCH ? AND {where}"], [expr, *args]
        if segment == "w":
            conditions.append("fts.rowid >= ?")
            params.append(bound)
        elif segment == "r":
            conditions.append("fts.rowid < ?")
            params.append(bound)
        if last_rank is not None:
            conditions.append("(fts.rank > ? OR (fts.rank = ? AND r.rowid > ?))")
            params += [last_rank, last_rank, last_row]
        rows = db.execute(f"SELECT fts.rank, {_PAGE_COLUMNS} FROM fts JOIN records r ON r.rowid = fts.rowid "
                          f"WHERE {' AND '.join(conditions)} ORDER BY fts.rank, r.rowid LIMIT ?",
                          [*params, limit]).fetchall()
        return [(segment, *row) for row in rows]

    def _hit(self, row: Sequence[Any], score: float, cursor: str) -> Hit:
        """A hit from a row of (order key, _PAGE_COLUMNS)."""
        _, rowid, name, decided, subject_key, record_id, *facet_row = row
        return Hit(str(name), date.fromisoformat(str(decided)) if decided else None, score, cursor,
                   self._body_reader(int(rowid)), str(subject_key), str(record_id),
                   tuple(str(v or "") for v in facet_row))

    def _count_sql(self, source: str, where: str, args: list[object], rows: Sequence[Sequence[Any]],
                   complete: bool, facets: bool) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and (when asked) the facets of a query, counted in SQL; ``complete`` when ``rows`` (order
        key, then _PAGE_COLUMNS) are every match, which are then counted as they are."""
        db = self._db()
        if facets:
            # SQLite counts the combinations in C and Python only folds a few hundred rows per facet.
            grouped = [(*row[6:], 1) for row in rows] if complete else db.execute(
                f"SELECT {_FACET_COLUMNS}, count(*) FROM {source} WHERE {where} GROUP BY {_FACET_COLUMNS}",
                args).fetchall()
            return sum(row[-1] for row in grouped), count_facets(grouped)
        total = len(rows) if complete else int(
            db.execute(f"SELECT count(*) FROM {source} WHERE {where}", args).fetchone()[0])
        return total, {}

    def _body_reader(self, rowid: int) -> Callable[[], str]:
        """Read one record's body when it is shown: the window behind a page is mostly never displayed."""
        def read() -> str:
            return str(self._db().execute("SELECT body FROM records WHERE rowid=?", (rowid,)).fetchone()[0])
        return read

    def document_frequencies(self, field: Literal["name", "text"], terms: Sequence[str]) -> dict[str, int]:
        # Counting a term decodes its whole doclist (milliseconds for common terms), so counts are kept; they only
        # need to tell rare terms from common ones. Queries bring words without end, so the memory is bounded:
        # when full it starts again, and the common words are soon back.
        db = self._db()
        if len(self._frequencies) >= _MAX_FREQUENCIES:
            self._frequencies.clear()
        if not getattr(self._local, "vocab", False):
            db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, fts, 'col')")
            self._local.vocab = True
        out = {}
        for term in terms:
            key = (field, term)
            if key not in self._frequencies:
                row = db.execute("SELECT doc FROM temp.fts_vocab WHERE term = ? AND col = ?", key[::-1]).fetchone()
                self._frequencies[key] = int(row[0]) if row else 0
            out[term] = self._frequencies[key]
        return out

    def records_of(self, subject_keys: Sequence[str], filters: Filters) -> list[Record]:
        if not subject_keys:
            return []
        # A subject has a handful of records; with a type filter that may use an index, SQLite walks every
        # record of the type asked for (a third of the store for penalties) instead of the subject's.
        where, args = self._where(replace(filters, subject_keys=tuple(subject_keys)), type_index=False)
        rows = self._db().execute(f"SELECT body FROM records r WHERE {where} "
                                  f"ORDER BY coalesce(r.decision_date, '') DESC, r.rowid", args)
        return [record_from_dict(json.loads(b)) for (b,) in rows]

    def visible_counts(self, subject_keys: Sequence[str], visibility: Visibility) -> dict[str, int]:
        if not subject_keys:
            return {}
        where, args = self._where(Filters(visibility=visibility, subject_keys=tuple(dict.fromkeys(subject_keys))))
        rows = self._db().execute(f"SELECT r.subject_key, count(*) FROM records r WHERE {where} "
                                  "GROUP BY r.subject_key", args)
        return {str(key): int(n) for key, n in rows}

    def by_document_number(self, number: str, filters: Filters) -> list[Record]:
        where, args = self._where(filters)
        rows = self._db().execute(f"SELECT body FROM records r WHERE r.document_number = ? AND {where}",
                                  [number, *args])
        return [record_from_dict(json.loads(b)) for (b,) in rows]

    @staticmethod
    def _subject(row: Sequence[object]) -> Subject:
        return Subject(key=str(row[0]), name=str(row[1]), code=str(row[2]), category=str(row[3]),
                       record_count=int(str(row[4])))

    def subjects_by_code(self, codes: Sequence[str]) -> list[Subject]:
        if not codes:
            return []
        marks = ",".join("?" * len(codes))
        rows = self._db().execute(
            f"SELECT key, name, code, category, record_count FROM subjects "
            f"WHERE code IN ({marks}) OR org_code IN ({marks}) OR reg_no IN ({marks})", [*codes] * 3)
        return [self._subject(r) for r in rows]

    def subject(self, key: str) -> Subject | None:
        row = self._db().execute("SELECT key, name, code, category, record_count FROM subjects WHERE key=?",
                                 (key,)).fetchone()
        return self._subject(row) if row else None

    def subject_names(self, key: str) -> list[tuple[str, str]]:
        rows = self._db().execute(
            "SELECT subject_name, max(coalesce(decision_date, '')) AS seen FROM records WHERE subject_key=? "
            "GROUP BY subject_name ORDER BY seen DESC", (key,))
        return [(str(n), str(d)) for n, d in rows]

    def suggest(self, prefix: str, limit: int) -> list[Subject]:
        if not prefix:
            return []
        rows = self._db().execute(
            "SELECT s.key, s.name, s.code, s.category, s.record_count FROM subjects s WHERE s.key IN "
            "(SELECT key FROM suggest WHERE form >= ? AND form < ? LIMIT 2000) "
            "ORDER BY s.record_count DESC, s.name LIMIT ?", (prefix, prefix + "\U0010ffff", limit))
        return [self._subject(r) for r in rows]

    def iter_subjects(self) -> Iterator[Subject]:
        db = sqlite3.connect(self.path)
        try:
            for *row, names in db.execute("SELECT key, name, code, category, record_count, names FROM subjects"):
                yield replace(self._subject(row), names=tuple(names.split("\x1f")) if names else (row[1],))
        finally:
            db.close()

    def subjects_complete(self) -> bool:
        # A first load builds every subject row at its flush, together with the deferred indexes.
        return not self._missing_indexes(self._db()) or self.count() == 0

    def subjects_generation(self) -> str:
        # Refreshing a subject deletes and re-inserts its row, so the largest rowid moves on every change.
        return str(self._db().execute("SELECT max(rowid) FROM subjects").fetchone()[0])

    # -- vectors -------------------------------------------------------------------------------------
    def vectors_unavailable(self) -> str:
        return ""

    def semantic_text_count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM semantic_texts").fetchone()[0])

    def semantic_texts(self, limit: int) -> list[str]:
        return [t for (t,) in self._db().execute("SELECT text FROM semantic_texts LIMIT ?", (limit,))]

    def pending_embeddings(self, encoder_id: str, limit: int) -> list[tuple[str, str]]:
        rows = self._db().execute(
            "SELECT t.key, t.text FROM semantic_texts t WHERE NOT EXISTS "
            "(SELECT 1 FROM vectors v WHERE v.encoder = ? AND v.key = t.key) LIMIT ?", (encoder_id, limit))
        return [(str(k), str(t)) for k, t in rows]

    def put_embeddings(self, encoder_id: str, keys: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors")
        rows = [(encoder_id, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)]
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO vectors (encoder, key, vector) VALUES (?, ?, ?)", rows)

    def _vector_root(self) -> Path:
        return self.path.parent / "vectors"

    def publish_vectors(self, encoder_id: str) -> int:
        db = self._db()
        join = "FROM records r JOIN vectors v ON v.encoder = ? AND v.key = r.semantic_key"
        db.execute("BEGIN")  # one snapshot: the count and the rows agree while a load writes on
        try:
            count = int(db.execute(f"SELECT count(*) {join}", (encoder_id,)).fetchone()[0])
            first = db.execute(f"SELECT length(v.vector) {join} LIMIT 1", (encoder_id,)).fetchone()
            dims = int(first[0]) // 4 if first else 0
            rows = db.execute(f"SELECT r.rowid, v.vector, r.record_type, r.district, r.authority, r.category, "
                              f"r.decision_date, r.publish_until, r.status, r.audience {join} ORDER BY r.rowid",
                              (encoder_id,))
            directory = encoder_directory(self._vector_root(), encoder_id)
            written = write_matrix(directory, ((*head, _day(decided, 0), _day(until, NO_END), status, audience)
                                               for *head, decided, until, status, audience in rows),
                                   count, dims, FILTER_COLUMNS)
            self._matrices.forget(directory)
            return written
        finally:
            db.execute("COMMIT")

    def stored_vector_count(self, encoder_id: str) -> int:
        return int(self._db().execute("SELECT count(*) FROM vectors WHERE encoder = ?", (encoder_id,)).fetchone()[0])

    def vector_count(self, encoder_id: str) -> int:
        matrix = self._matrices.get(encoder_directory(self._vector_root(), encoder_id))
        return len(matrix) if matrix is not None else 0

    def vector_search(self, encoder_id: str, vector: npt.NDArray[np.float32], filters: Filters,
                      limit: int) -> list[Hit]:
        matrix = self._matrices.get(encoder_directory(self._vector_root(), encoder_id))
        if matrix is None or limit <= 0:
            return []
        where, args = self._where(filters)
        db = self._db()
        # The matrix's columns rank only the rows that the filters allowed when it was published; SQL then
        # checks the candidates against every filter as it is now. Only when that leaves less than a page
        # (corrections since publication, a filter by subject) are the allowed rows read from SQL and ranked.
        mask = _prefilter(matrix, filters)
        rowids, scores = matrix.nearest(vector, max(4 * limit, 64), mask)
        found = self._allowed_rows(db, [int(r) for r in rowids], where, args)
        ranked = len(matrix) if mask is None else int(mask.sum())
        if len(found) < limit and len(rowids) < ranked:
            allowed = np.fromiter((r for (r,) in db.execute(f"SELECT r.rowid FROM records r WHERE {where} "
                                                              "ORDER BY r.rowid", args)), dtype=np.int64)
            rowids, scores = matrix.nearest(vector, limit, matrix.mask_of(allowed))
            found = self._allowed_rows(db, [int(r) for r in rowids], where, args)
        hits = []
        for rowid, score in zip(rowids, scores, strict=True):
            row = found.get(int(rowid))
            if row is not None:
                hits.append(Hit(row[0], date.fromisoformat(row[1]) if row[1] else None, float(score),
                                f"v:{int(rowid)}", self._body_reader(int(rowid)), row[2], row[3], row[4:]))
                if len(hits) == limit:
                    break
        return hits

    @staticmethod
    def _allowed_rows(db: sqlite3.Connection, rowids: list[int], where: str,
                      args: list[object]) -> dict[int, tuple[str, ...]]:
        """Of these rows, those the filters allow: name, date, subject key, id and facet values."""
        found: dict[int, tuple[str, ...]] = {}
        for start in range(0, len(rowids), 5000):
            chunk = rowids[start:start + 5000]
            for rowid, *row in db.execute(
                    f"SELECT r.rowid, r.subject_name, r.decision_date, r.subject_key, r.id, {_FACET_COLUMNS} "
                    f"FROM records r WHERE r.rowid IN ({','.join('?' * len(chunk))}) AND {where}",
                    [*chunk, *args]):
                found[int(rowid)] = tuple(v or "" for v in row)
        return found




def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _subject_rows(db: sqlite3.Connection, keys: set[str] | None) -> list[tuple[object, ...]]:
    """The subject rows of ``keys`` (None: of every subject), computed from their records. A subject's name
    and category are those of its newest record (by decision date, then by load order); its names are all
    the names its records carry."""
    if keys is None:
        rows = db.execute(f"{_SUBJECT_FACTS} GROUP BY subject_key")
    else:
        rows = db.execute(f"{_SUBJECT_FACTS} WHERE subject_key IN ({','.join('?' * len(keys))}) GROUP BY subject_key",
                          list(keys))
    subjects: list[tuple[object, ...]] = []
    for key, newest, code, org_code, reg_no, count, names in rows:
        _, name, category = newest.split("\x1f")
        subjects.append((key, name, code, org_code, reg_no, category, count,
                         "\x1f".join(sorted(names[1:].split(",\x1f")))))
    subjects.sort()
    return subjects


def _write_subjects(db: sqlite3.Connection, keys: set[str] | None, rows: list[tuple[object, ...]]) -> None:
    """Replace the subject rows of ``keys`` (None: every subject row) with ``rows``."""
    if keys is None:
        db.execute("DELETE FROM subjects")
        for name in _SUBJECT_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {name}")
    else:
        db.execute(f"DELETE FROM subjects WHERE key IN ({','.join('?' * len(keys))})", list(keys))
    db.executemany("INSERT INTO subjects (key, name, code, org_code, reg_no, category, record_count, names) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if keys is None:
        for sql in _SUBJECT_INDEXES.values():
            db.execute(sql)


def _day(iso: str | None, missing: int) -> int:
    return date.fromisoformat(iso).toordinal() if iso else missing


def _prefilter(matrix: VectorMatrix, filters: Filters) -> npt.NDArray[np.bool_] | None:
    """The rows the filters allow as far as the matrix's columns tell (None: no filter applies)."""
    if set(FILTER_COLUMNS) - set(matrix.columns):
        return None
    return filter_mask(matrix.columns, filters)


def _parse_length_cursor(cursor: str) -> tuple[int, int]:
    """Split a cursor of a search by length (``l<length>:<rowid>``); ValueError for one this store did not make."""
    length, sep, rowid = cursor[1:].partition(":")
    if not (cursor.startswith("l") and sep):
        raise ValueError(f"not a cursor of this store: {cursor!r}")
    return int(length), int(rowid)


def _parse_ranked_cursor(cursor: str) -> tuple[int | None, str, float, int]:
    """Split a relevance cursor: the window's bound and segment (None and "" for a query ranked whole), then
    the rank and rowid of the last hit; ValueError for one this store did not make."""
    head, tilde, position = cursor.rpartition("~")
    bound: int | None = None
    segment = ""
    if tilde:
        if head[:1] not in ("w", "r"):
            raise ValueError(f"not a cursor of this store: {cursor!r}")
        segment, bound = head[0], int(head[1:])
    rank, rowid = _parse_cursor(position, ranked=True)
    return bound, segment, float(rank), rowid


def _parse_cursor(cursor: str, ranked: bool) -> tuple[float | str, int]:
    """Split an opaque cursor (relevance or date, then rowid); ValueError for one this store did not make."""
    key, sep, rowid = cursor.rpartition(":")
    if not sep:
        raise ValueError(f"not a cursor of this store: {cursor!r}")
    if ranked:
        return float(key), int(rowid)
    if key and not (len(key) == 10 and key[4] == "-" and key[7] == "-"):
        raise ValueError(f"not a cursor of this store: {cursor!r}")
    return key, int(rowid)
