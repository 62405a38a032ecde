"""An in-memory index of every subject name, for name search and bulk screening.

Recall is character n-gram blocking: each name is indexed by its characters and character pairs, and a
query collects the names sharing the most of its rarest grams (counted with numpy). The
best candidates are then scored with :func:`search_api.ranking.score_name` over the analysers' keys,
so the full-text store is not asked to rank every record that shares a common word such as 建筑 or 工程.

The index is built from :meth:`Store.iter_subjects` (former names included) and kept in step with the
store by :class:`NameIndexHolder`, which rebuilds it in the background when the store's subjects change.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analyzers.names import analyze_name, name_ngrams
from analyzers.normalize import normalize_name
from search_api.ranking import alias_target, score_name
from stores.base import Store, StoreUnavailable, Subject

log = logging.getLogger("credit_search.names")

# A gram found in more than this share of names (有, 公司, 清远) barely tells names apart but would make
# every query add up hundreds of thousands of postings; it only counts when nothing rarer is shared.
_COMMON_SHARE = 0.05
_COMMON_MIN = 1000
_RAREST = 8
# A name whose blocking key is indexed and scores this high (the same name, or the same 字号 with the same
# region and legal form) is settled by the names sharing its key: no other name can come within reach.
_SURE = 0.98


@dataclass(frozen=True, slots=True)
class NameMatch:
    """One subject matching a typed name: its best-scoring name, the score in [0, 1] and why."""

    subject: Subject
    name: str
    score: float
    explanation: str


def filed_by_name(subject: Subject) -> bool:
    """A subject filed under its name because its records carry no full code: court records publish a
    company's code masked, and every company with the same 字号 and industry words shares such a key, so
    its names are several companies' names rather than one company's former names."""
    return subject.key.startswith("name:")


def _blocking_text(name: str) -> str:
    """What a name is blocked on: its 字号 and industry words (and branch), because region prefixes and
    legal forms are shared by thousands of names and differ between true matches."""
    return analyze_name(name).key.replace("#", "")


class NameIndex:
    """Subject names with their gram postings; immutable once built (a rebuild makes a new one)."""

    def __init__(self, subjects: Iterable[Subject]) -> None:
        self.subjects: list[Subject] = []
        self._entry_subject: list[int] = []  # entry (one name of one subject) → subject position
        self._entry_name: list[str] = []
        postings: dict[str, list[int]] = defaultdict(list)
        self._by_key: dict[str, list[int]] = defaultdict(list)
        for subject in subjects:
            position = len(self.subjects)
            self.subjects.append(subject)
            for name in dict.fromkeys(subject.names or (subject.name,)):
                entry = len(self._entry_name)
                self._entry_subject.append(position)
                self._entry_name.append(name)
                blocking = _blocking_text(name)
                self._by_key[blocking].append(entry)
                for gram in set(name_ngrams(blocking)):
                    postings[gram].append(entry)
        self.size = len(self._entry_name)
        self._postings = {g: np.asarray(p, dtype=np.int32) for g, p in postings.items()}

    def _candidates(self, normalized: str, limit: int) -> list[int]:
        """Entries sharing the most informative grams with the query, best first."""
        grams = [g for g in set(name_ngrams(normalized)) if g in self._postings]
        if not grams:
            return []
        # The rarest grams decide: a name shares them with few others (佳源, 源环), while common ones (有限,
        # 清远, 科技) add long postings and little evidence. A query of common grams only keeps its two rarest.
        by_rarity = sorted(grams, key=lambda g: len(self._postings[g]))
        common = max(_COMMON_MIN, self.size * _COMMON_SHARE)
        chosen = [g for g in by_rarity[:_RAREST] if len(self._postings[g]) <= common] or by_rarity[:2]
        # One sort puts each entry's shared grams side by side; the run lengths count them.
        ids = np.sort(np.concatenate([self._postings[g] for g in chosen]))
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        shared = np.diff(np.r_[starts, len(ids)])
        k = min(limit, len(starts))
        top: npt.NDArray[np.intp] = np.argpartition(-shared, k - 1)[:k]
        return [int(i) for i in ids[starts[top[np.argsort(-shared[top], kind="stable")]]]]

    def match(self, query: str, limit: int = 10, floor: float = 0.0, candidates: int = 40) -> list[NameMatch]:
        """Subjects whose names best match ``query`` (at most ``limit``, score ≥ ``floor``), best first.

        A registered abbreviation or former name (synonyms/aliases.txt) also looks up the full name.
        """
        normalized = normalize_name(query)
        if not normalized:
            return []
        blocking = _blocking_text(normalized)
        best = self._score(normalized, self._by_key.get(blocking, []))
        if not best or max(m.score for m in best.values()) < _SURE:
            entries = self._candidates(blocking, candidates)
            if target := alias_target(normalized):
                entries += self._candidates(_blocking_text(target), 20)
            best = self._score(normalized, entries)
        ranked = sorted((m for m in best.values() if m.score >= floor),
                        key=lambda m: (-m.score, -m.subject.record_count, m.subject.name))
        return ranked[:limit]

    def _score(self, normalized: str, entries: list[int]) -> dict[int, NameMatch]:
        """The best match per subject among ``entries``."""
        best: dict[int, NameMatch] = {}
        for entry in dict.fromkeys(entries):
            position, name = self._entry_subject[entry], self._entry_name[entry]
            subject = self.subjects[position]
            scored = score_name(normalized, name)
            explanation = scored.explanation
            if name != subject.name and not filed_by_name(subject):
                explanation += f"（曾用名：{name}）"
            current = best.get(position)
            if current is None or scored.score > current.score:
                best[position] = NameMatch(subject, name, scored.score, explanation)
        return best


class NameIndexHolder:
    """The current :class:`NameIndex` of a store, rebuilt in a background thread whenever the store's
    subjects change (checked at most every ``check_seconds``). Readers keep using the previous index
    until the new one is complete."""

    def __init__(self, store: Store, check_seconds: float = 5.0) -> None:
        self._store = store
        self._check_seconds = check_seconds
        self._index: NameIndex | None = None
        self._generation: str | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: Exception | None = None

    def start(self) -> None:
        """Begin the first build if none has begun."""
        with self._lock:
            if self._building is None and self._index is None:
                self._start_build()

    def _start_build(self) -> None:
        self._building = threading.Thread(target=self._build, name="name-index", daemon=True)
        self._building.start()

    def _build(self) -> None:
        try:
            generation = self._store.subjects_generation()
            started = time.perf_counter()
            index = NameIndex(self._store.iter_subjects())
            log.info("name index: %d names of %d subjects in %.1f s", index.size, len(index.subjects),
                     time.perf_counter() - started)
            with self._lock:
                self._index, self._generation, self._failure = index, generation, None
            # The index holds about a million objects; a full collection walking them stalls a request
            # for half a second. Frozen objects are skipped by the collector (and still freed by reference
            # counting when a rebuild replaces them, since the index has no cycles).
            gc.freeze()
        except (StoreUnavailable, OSError) as exc:
            log.warning("name index build failed: %s", exc)
            with self._lock:
                self._failure = exc
        finally:
            with self._lock:
                self._building = None
            self._ready.set()

    def current(self, wait_seconds: float = 120.0) -> NameIndex:
        """The latest complete index, waiting for the first build; starts a rebuild when the store's
        subjects have changed. Raises :class:`StoreUnavailable` when no index can be built."""
        self.start()
        if self._index is None:
            self._ready.wait(wait_seconds)
        now = time.monotonic()
        with self._lock:
            index, failure = self._index, self._failure
            due = now - self._checked_at >= self._check_seconds and self._building is None
            if due:
                self._checked_at = now
        if index is None:
            if failure is not None:
                self._ready.clear()
                with self._lock:
                    if self._building is None:
                        self._start_build()
            raise StoreUnavailable(f"name index not built yet: {failure or 'still building'}")
        if due and self._store.subjects_generation() != self._generation:
            with self._lock:
                if self._building is None:
                    self._start_build()
        return index
