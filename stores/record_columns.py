"""Filter and facet attributes of records as numpy columns, for counting what a query matches without SQL.

A text query over a large store matches tens of thousands of records. Counting the ones a viewer may see and
their facets in SQL reads every matched record's row (the rows hold the JSON bodies, so each is a random page
read): most of a broad query's time. Here the attributes that filters and facets need are small integer
columns in memory, and a matched set becomes a total and facet counts by array indexing.

The columns are a copy, so they are used only while they are current: a store checks ``PRAGMA data_version``
(which moves whenever another connection commits) before each use and falls back to SQL until a background
rebuild has caught up. The page of hits a viewer sees is always read through SQL with every filter.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from indexer.model import Audience
from stores.base import FACET_FIELDS, Filters

NO_END = 2**31 - 1  # a publication window without end, as a day number


@dataclass(frozen=True, slots=True)
class Column:
    """One attribute of every row: numbers as they are, text as codes into a vocabulary (comparing small
    integers is much faster than comparing strings)."""

    values: npt.NDArray[np.int64] | npt.NDArray[np.int32]
    vocabulary: tuple[str, ...] | None = None

    def isin(self, wanted: Iterable[str]) -> npt.NDArray[np.bool_]:
        """Rows whose text value is one of ``wanted``."""
        if self.vocabulary is None:
            raise TypeError("not a text column")
        allowed = set(wanted)
        return np.isin(self.values, [i for i, v in enumerate(self.vocabulary) if v in allowed])

    def containing(self, part: str) -> npt.NDArray[np.bool_]:
        """Rows whose text value contains ``part``."""
        if self.vocabulary is None:
            raise TypeError("not a text column")
        return np.isin(self.values, [i for i, v in enumerate(self.vocabulary) if part in v])

    def take(self, positions: npt.NDArray[np.intp]) -> Column:
        """The column of the rows at ``positions``."""
        return Column(self.values[positions], self.vocabulary)


# The columns filter_mask reads: "decided" and "publish_until" are day numbers (0: no decision date).
FILTER_COLUMNS = ("record_type", "district", "authority", "category", "decided", "publish_until", "status",
                  "audience")


def filter_mask(columns: dict[str, Column], filters: Filters) -> npt.NDArray[np.bool_] | None:
    """The rows ``filters`` allow as far as these columns tell (None: no filter applies). Exact for the filters
    that :func:`covers` accepts; for others (subjects, amounts, subject categories) a superset."""
    masks: list[npt.NDArray[np.bool_]] = []
    vis = filters.visibility
    if vis.statuses is not None:
        masks.append(columns["status"].isin(s.value for s in vis.statuses))
    if set(vis.audiences) != set(Audience):
        masks.append(columns["audience"].isin(a.value for a in vis.audiences))
    if vis.published_on is not None:
        masks.append(columns["publish_until"].values >= vis.published_on.toordinal())
    if filters.record_types:
        masks.append(columns["record_type"].isin(t.value for t in filters.record_types))
    if filters.district:
        masks.append(columns["district"].isin([filters.district]))
    if filters.districts:
        masks.append(columns["district"].isin(filters.districts))
    if filters.authority:
        masks.append(columns["authority"].isin([filters.authority]))
    if filters.authority_contains:
        masks.append(columns["authority"].containing(filters.authority_contains))
    if filters.category:
        masks.append(columns["category"].containing(filters.category))
    if filters.ended_before:
        masks.append(columns["publish_until"].values < filters.ended_before.toordinal())
    decided = columns["decided"].values
    if filters.date_from:
        masks.append(decided >= filters.date_from.toordinal())
    if filters.date_to:
        masks.append((decided > 0) & (decided <= filters.date_to.toordinal()))
    return np.logical_and.reduce(masks) if masks else None


def covers(filters: Filters) -> bool:
    """Whether :func:`filter_mask` decides ``filters`` exactly."""
    return not (filters.subject_keys or filters.subject_categories or filters.amount_min is not None
                or filters.amount_max is not None)


@dataclass(frozen=True, slots=True)
class RecordColumns:
    """Every record's filter and facet attributes, by rowid (ascending), as of one ``data_version``."""

    version: int
    rowids: npt.NDArray[np.int64]
    columns: dict[str, Column]

    def allowed(self, matched: npt.NDArray[np.int64], filters: Filters) -> npt.NDArray[np.int64]:
        """Of the ``matched`` rowids (ascending), those ``filters`` allow (which :func:`covers` must accept)."""
        if not len(self.rowids) or not len(matched):
            return np.zeros(0, dtype=np.int64)
        positions = np.minimum(np.searchsorted(self.rowids, matched), len(self.rowids) - 1)
        positions = positions[self.rowids[positions] == matched]
        mask = filter_mask({name: c.take(positions) for name, c in self.columns.items()}, filters)
        allowed: npt.NDArray[np.int64] = self.rowids[positions if mask is None else positions[mask]]
        return allowed

    def values(self, name: str, rowids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The numeric column ``name`` of ``rowids`` (all present)."""
        found: npt.NDArray[np.int64] = self.columns[name].values[np.searchsorted(self.rowids, rowids)].astype(np.int64)
        return found

    def facets(self, rowids: npt.NDArray[np.int64], top: int = 20) -> dict[str, dict[str, int]]:
        """The ``top`` most frequent values of each of FACET_FIELDS among ``rowids`` (all present), as
        stores.base.count_facets counts them."""
        positions = np.searchsorted(self.rowids, rowids)
        out: dict[str, dict[str, int]] = {}
        for name in FACET_FIELDS:
            column = self.columns[name]
            codes, counts = np.unique(column.values[positions], return_counts=True)
            labels = [column.vocabulary[c] if column.vocabulary is not None else (str(c) if c else "")
                      for c in codes.tolist()]
            ranked = sorted(((label, int(n)) for label, n in zip(labels, counts.tolist(), strict=True) if label),
                            key=lambda item: (-item[1], item[0]))
            out[name] = dict(ranked[:top])
        return out


_SELECT = ("SELECT rowid, record_type, district, authority, category, decision_date, publish_until, status, "
           "audience FROM records ORDER BY rowid")


def read_columns(db: sqlite3.Connection, version: int) -> RecordColumns:
    """Every record's columns, read in one statement (one snapshot)."""
    vocabularies: dict[str, dict[str, int]] = {name: {} for name in ("record_type", "district", "authority",
                                                                      "category", "status", "audience")}
    text_names = tuple(vocabularies)
    ids: list[int] = []
    values: dict[str, list[int]] = {name: [] for name in (*text_names, "decided", "year", "publish_until")}
    ordinals: dict[str, int] = {}

    def day(iso: str | None, missing: int) -> int:
        if not iso:
            return missing
        if iso not in ordinals:
            ordinals[iso] = date.fromisoformat(iso).toordinal()
        return ordinals[iso]

    for rowid, record_type, district, authority, category, decided, until, status, audience in db.execute(_SELECT):
        ids.append(rowid)
        for name, value in zip(text_names, (record_type, district, authority, category, status, audience),
                               strict=True):
            codes = vocabularies[name]
            values[name].append(codes.setdefault(value, len(codes)))
        values["decided"].append(day(decided, 0))
        values["year"].append(int(decided[:4]) if decided else 0)
        values["publish_until"].append(day(until, NO_END))
    rowids = np.array(ids, dtype=np.int64)
    # The length of each record's indexed text (characters of its tokens, as length(fts.text) counts them):
    # what a search by length orders by.
    lengths = np.zeros(len(rowids), dtype=np.int32)
    indexed = np.array(db.execute("SELECT rowid, coalesce(length(text), 0) FROM fts").fetchall(),
                       dtype=np.int64).reshape(-1, 2)
    if len(rowids) and len(indexed):
        positions = np.minimum(np.searchsorted(rowids, indexed[:, 0]), len(rowids) - 1)
        present = rowids[positions] == indexed[:, 0]
        lengths[positions[present]] = indexed[present, 1]
    columns = {name: Column(np.array(values[name], dtype=np.int32), tuple(vocabularies[name]))
               for name in text_names}
    columns["text_length"] = Column(lengths)
    columns.update({name: Column(np.array(values[name], dtype=np.int32)) for name in ("decided", "year",
                                                                                      "publish_until")})
    return RecordColumns(version, rowids, columns)


class ColumnsHolder:
    """The current RecordColumns of one database file, rebuilt in the background after it changes.

    ``current()`` answers None while there are none or they are older than the file: the caller then counts
    in SQL. A rebuild starts at most every ``pause`` seconds, so a load that commits batch after batch does
    not keep a thread reading the whole table. With ``background=False`` (tests) ``current()`` rebuilds
    stale columns itself before answering."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], min_records: int, pause: float = 5.0,
                 background: bool = True) -> None:
        self._connect = connect
        self._min_records = min_records
        self._pause = pause
        self._background = background
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None  # only for data_version and rebuilds, under the lock
        self._columns: RecordColumns | None = None
        self._building = False
        self._started = float("-inf")

    def _version(self) -> int:
        if self._db is None:
            self._db = self._connect()
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def current(self) -> RecordColumns | None:
        """The columns if they are as new as the file; otherwise None (and a rebuild is started)."""
        with self._lock:
            version = self._version()
            columns = self._columns
            if columns is not None and columns.version == version:
                return columns
            if not self._background:
                self._columns = self._read(version)
                return self._columns
            if not self._building and time.monotonic() - self._started >= self._pause:
                self._building, self._started = True, time.monotonic()
                threading.Thread(target=self._rebuild, name="record-columns", daemon=True).start()
            return None

    def _read(self, version: int) -> RecordColumns | None:
        """Columns read now and labelled ``version`` (None for a store too small to need them)."""
        db = self._connect()
        try:
            count = int(db.execute("SELECT count(*) FROM records").fetchone()[0])
            return read_columns(db, version) if count >= self._min_records else None
        finally:
            db.close()

    def _rebuild(self) -> None:
        try:
            with self._lock:
                before = self._version()
            columns = self._read(before)
            with self._lock:
                # A commit during the read may or may not be in it: then these columns are not current.
                if columns is not None and self._version() == before:
                    self._columns = columns
        except sqlite3.Error:
            pass  # the store went away or is busy: counted in SQL, tried again after the pause
        finally:
            with self._lock:
                self._building = False

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._columns = None
