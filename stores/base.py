"""The interface every store implements, and the value types that cross it.

Stores keep pre-analysed documents and answer structured queries; they hold no text analysis and no
publication rules of their own: a :class:`Visibility` made by the search layer tells them what to hide.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from indexer.analysis import AnalysedRecord
from indexer.model import Audience, Record, RecordType, Status, SubjectCategory, record_from_dict


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or is not initialised."""


@dataclass(slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which records a viewer may see: statuses and audiences allowed, and the day against which the
    publication end date is checked (None: no date rule)."""

    statuses: frozenset[Status] | None
    audiences: frozenset[Audience]
    published_on: date | None

    def allows(self, record: Record) -> bool:
        """The same rule the stores apply in their queries, for one record in Python."""
        if self.statuses is not None and record.status not in self.statuses:
            return False
        if record.audience not in self.audiences:
            return False
        return not (self.published_on and record.publish_until and record.publish_until < self.published_on)


@dataclass(frozen=True, slots=True)
class Filters:
    visibility: Visibility
    record_types: tuple[RecordType, ...] = ()
    authority: str = ""
    district: str = ""
    category: str = ""
    date_from: date | None = None
    date_to: date | None = None
    subject_keys: tuple[str, ...] = ()
    ended_before: date | None = None  # only records whose publication ended before this day (expired)
    authority_contains: str = ""  # part of the authority's name (市场监督管理 for every market regulator)
    districts: tuple[str, ...] = ()  # any of these districts (a city and the counties under it)
    subject_categories: tuple[SubjectCategory, ...] = ()  # 企业 asked for: no natural persons
    amount_min: float | None = None  # yuan, inclusive; records without an amount never match an amount bound
    amount_max: float | None = None


@dataclass(frozen=True, slots=True)
class Clause:
    """Terms to match in one field: with ``require="all"`` every group must match, with ``"any"`` one
    group is enough; any term of a group matches it (a term and its synonyms)."""

    field: Literal["name", "text"]
    groups: tuple[tuple[str, ...], ...]
    require: Literal["all", "any"] = "all"


@dataclass(slots=True)
class Hit:
    """One search result. Name and date are at hand for re-ranking a window of candidates; the record
    itself is decoded from the stored body only when it is asked for (the page actually shown)."""

    subject_name: str
    decision_date: date | None
    score: float
    cursor: str  # opaque position of this hit for ``search(after=...)``
    # The stored record: JSON text, an already parsed document, or a function that reads the JSON text
    # (a store that lists many candidates reads the bodies of the shown page only).
    body: str | dict[str, Any] | Callable[[], str]
    subject_key: str = ""
    record_id: str = ""
    facet_values: tuple[str, ...] = ()  # the record's value of each of FACET_FIELDS, for counting facets
    _record: Record | None = None

    @property
    def record(self) -> Record:
        if self._record is None:
            body = self.body() if callable(self.body) else self.body
            self._record = record_from_dict(json.loads(body) if isinstance(body, str) else body)
        return self._record


@dataclass(slots=True)
class HitPage:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subject:
    """One subject (all records sharing a subject key)."""

    key: str
    name: str
    code: str
    category: str
    record_count: int
    names: tuple[str, ...] = ()  # every name the subject's records carry (former names included)


FACET_FIELDS = ("record_type", "district", "authority", "category", "year")


def count_facets(rows: Iterable[tuple[Any, ...]]) -> dict[str, dict[str, int]]:
    """Facet counts (the 20 most frequent values of each of FACET_FIELDS) from rows holding one value per
    facet field and, last, how many records share those values."""
    counters: list[Counter[str]] = [Counter() for _ in FACET_FIELDS]
    for *values, n in rows:
        for counter, value in zip(counters, values, strict=True):
            if value:
                counter[str(value)] += n
    return {f: dict(c.most_common(20)) for f, c in zip(FACET_FIELDS, counters, strict=True)}


def facet_values(record: Record) -> tuple[str, ...]:
    """A record's value of each of FACET_FIELDS."""
    year = str(record.decision_date.year) if record.decision_date else ""
    return (record.record_type.value, record.district, record.authority, record.category, year)


class Store(Protocol):
    """What the indexer and the search layer need from a store."""

    def upsert(self, docs: Sequence[AnalysedRecord]) -> UpsertCounts:
        """Insert or update a batch atomically; records whose content is unchanged are left alone and a
        stored correction (repaired, withdrawn) survives a reload of the same source row."""
        ...

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        """Upsert batches as they come, as ``upsert`` each, in one transaction where the store has them: a load
        streams its batches through one call, so the store commits once for many batches while holding only the
        batch at hand. A record that an earlier batch of the same call wrote counts as updated or unchanged."""
        ...

    def flush(self) -> None:
        """Bring derived data (subjects, suggestions) up to date with every upsert so far. Loads call it
        at their end; readers see subjects as of the last flush."""
        ...

    def get(self, record_id: str) -> Record | None: ...

    def set_status(self, record_id: str, status: Status, reason: str, when: date | None) -> bool:
        """Change a record's status (a correction); False when the id is unknown."""
        ...

    def count(self, record_type: RecordType | None = None) -> int: ...

    def checksum(self) -> str:
        """A digest of every record's id, content and status: equal stores give equal checksums."""
        ...

    def search(self, clauses: Sequence[Clause], filters: Filters, limit: int, after: str | None = None,
               facets: bool = False) -> HitPage:
        """Records matching any clause and the filters, best first."""
        ...

    def document_frequencies(self, field: Literal["name", "text"], terms: Sequence[str]) -> dict[str, int]:
        """How many records contain each term in ``field`` (approximate and cached is fine: it only
        tells informative terms from common ones)."""
        ...

    def records_of(self, subject_keys: Sequence[str], filters: Filters) -> list[Record]:
        """Every record of these subjects that the filters allow, newest first."""
        ...

    def visible_counts(self, subject_keys: Sequence[str], visibility: Visibility) -> dict[str, int]:
        """How many records of each of these subjects ``visibility`` allows; subjects with none are left out.
        Every path that names subjects without listing their records (suggestions, screening, counts) asks this,
        so that none shows a subject or a count the viewer's records would not."""
        ...

    def by_document_number(self, number: str, filters: Filters) -> list[Record]: ...

    def subjects_by_code(self, codes: Sequence[str]) -> list[Subject]:
        """Subjects whose 统一社会信用代码, 组织机构代码 or 注册号 is one of ``codes``."""
        ...

    def subject(self, key: str) -> Subject | None: ...

    def subject_names(self, key: str) -> list[tuple[str, str]]:
        """Every name a subject has been recorded under, with the latest date seen, newest first."""
        ...

    def suggest(self, prefix: str, limit: int) -> list[Subject]:
        """Subjects with a suggest form starting with ``prefix``, most records first."""
        ...

    def iter_subjects(self) -> Iterator[Subject]:
        """Every subject, with all the names its records carry."""
        ...

    def subjects_generation(self) -> str:
        """A cheap marker that changes whenever any subject row changes (to keep in-memory copies in step)."""
        ...

    def subjects_complete(self) -> bool:
        """False while records exist whose subject rows are not built (a first load still writing, or killed
        before its end): name matching and screening read those rows and must not answer from a partial set,
        where every name would seem to have no record."""
        ...

    # -- vectors for semantic search. Vectors are cached by the key of the text they encode (records with
    # the same descriptive text share one) and kept per encoder id; one encoder's vectors are searched.
    def vectors_unavailable(self) -> str:
        """Why this store cannot hold and search vectors (Chinese, shown by /readyz), or "" when it can. A store
        that cannot lists no pending embeddings and counts no vectors; keyword search is unaffected."""
        ...

    def semantic_text_count(self) -> int:
        """How many distinct semantic texts the records have (what an encoder is fitted on)."""
        ...

    def semantic_texts(self, limit: int) -> list[str]:
        """Up to ``limit`` distinct semantic texts of the stored records (what an encoder is trained on)."""
        ...

    def pending_embeddings(self, encoder_id: str, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` (key, text) pairs whose text has no vector of this encoder yet."""
        ...

    def put_embeddings(self, encoder_id: str, keys: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        """Store one vector per key (row ``i`` of ``vectors`` for ``keys[i]``), atomically."""
        ...

    def publish_vectors(self, encoder_id: str) -> int:
        """Make this encoder's vectors searchable by every reader; returns how many records have one."""
        ...

    def stored_vector_count(self, encoder_id: str) -> int:
        """Texts with a stored vector of this encoder, published or not (how far an encoding run has come)."""
        ...

    def vector_count(self, encoder_id: str) -> int:
        """How many records a :meth:`vector_search` with this encoder can find (0: none published)."""
        ...

    def vector_search(self, encoder_id: str, vector: npt.NDArray[np.float32], filters: Filters,
                      limit: int) -> list[Hit]:
        """The records the filters allow whose vectors are nearest to ``vector`` (cosine), nearest first,
        each hit's score being the cosine similarity."""
        ...

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` when the store cannot answer."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Rebuildable(Protocol):
    """A store that can load into a new generation while readers keep the current one (the engine stores)."""

    def begin_rebuild(self) -> None:
        """Write the following loads into a new generation, unseen by readers."""
        ...

    def finish_rebuild(self) -> None:
        """Serve the new generation from now on, in one atomic step, and drop the old one."""
        ...
