"""An in-memory index of every subject name: the one name matcher behind name search, screening, suggestions
and questions.

Candidates come by three routes, each measured for recall on real names (bench/real_names.py): the names with
the query's matching key (the same 字号 and industry words), the names holding every character of the query (a
short form such as 德昌股份 or 龙版传媒 keeps its full name's characters), and the names sharing the most of
the query's informative characters and character pairs, weighted by rarity (a full name with a slip). The
candidates are scored by :func:`search_api.ranking.score_name` over names analysed once, when the index is built.

The index is built from :meth:`Store.iter_subjects` (former names included) and kept in step with the store by
:class:`NameIndexHolder`, which rebuilds it in the background when the store's subjects change.
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from analyzers.names import NameParts, analyze_name, parse_name, region_abbreviation_of
from analyzers.normalize import normalize_name
from search_api.ranking import (
    FULL_NAME,
    REVIEW_FLOOR,
    SHORT_FORM,
    SOLE_SHORT_FORM,
    SOLE_SHORT_FORM_MIN,
    NameScorer,
    alias_target,
    known_by_short_name,
)
from stores.base import Store, StoreUnavailable, Subject

log = logging.getLogger("credit_search.names")

# A gram found in more than this share of names (有, 公司, 清远) barely tells names apart but would make every
# query add up hundreds of thousands of postings; it only counts when nothing rarer is shared.
_COMMON_SHARE = 0.05
_COMMON_MIN = 1000
_RAREST = 12  # grams of a query that the similarity route adds up, rarest first
# ... and no more postings than this in all, past the rarest two: the rare grams have decided by then, and adding up
# the long postings of common ones is most of a query's time.
_POSTINGS_READ = 20_000
# Names holding every character of a short form that are scored; beyond this many, those sharing most of its
# character pairs (its characters side by side, as in the name) are.
_CONTAINING = 200
# A name whose matching key is indexed and scores this high (the same name, or the same 字号 with the same
# region and legal form) is settled by the names sharing its key: no other name can come within reach.
_SURE = 0.98


@dataclass(frozen=True, slots=True)
class NameMatch:
    """One subject matching a typed name: its best-scoring name, the score in [0, 1] and why."""

    subject: Subject
    name: str
    score: float
    explanation: str
    kind: str = FULL_NAME  # what the score rests on (search_api.ranking: FULL_NAME, SHORT_FORM)


def filed_by_name(subject: Subject) -> bool:
    """A subject filed under its name because its records carry no full code: court records publish a
    company's code masked, and every company with the same 字号 and industry words shares such a key, so
    its names are several companies' names rather than one company's former names."""
    return subject.key.startswith("name:")


def _grams(text: str) -> set[str]:
    return set(text) | {a + b for a, b in pairwise(text)}


def _members(entries: npt.NDArray[np.int32], postings: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
    """Which of ``entries`` (sorted) are in ``postings`` (sorted): a binary search per entry, cheaper than np.isin's
    sort when the entries are few and the postings long."""
    at = np.searchsorted(postings, entries)
    found: npt.NDArray[np.bool_] = postings[np.minimum(at, len(postings) - 1)] == entries
    return found


class NameIndex:
    """Subject names, analysed, with their character postings; immutable once built (a rebuild makes a new one)."""

    def __init__(self, subjects: Iterable[Subject]) -> None:
        self.subjects: list[Subject] = []
        entry_subject: list[int] = []  # entry (one name of one subject) → subject position
        self._entry_name: list[str] = []
        self._entry_parts: list[NameParts] = []
        postings: dict[str, list[int]] = defaultdict(list)
        self._by_key: dict[str, list[int]] = defaultdict(list)
        for subject in subjects:
            position = len(self.subjects)
            self.subjects.append(subject)
            for name in dict.fromkeys(subject.names or (subject.name,)):
                entry = len(self._entry_name)
                parts = analyze_name(name)
                entry_subject.append(position)
                self._entry_name.append(name)
                self._entry_parts.append(parts)
                self._by_key[parts.key].append(entry)
                for gram in _grams(parts.spelled):
                    postings[gram].append(entry)
        self.size = len(self._entry_name)
        self._entry_subject = entry_subject
        self._postings = {g: np.asarray(p, dtype=np.int32) for g, p in postings.items()}
        self._lengths = np.fromiter((len(p.spelled) for p in self._entry_parts), dtype=np.int32, count=self.size)
        self._idf = {g: math.log((self.size + 1) / len(p)) for g, p in self._postings.items()}

    def subject_of(self, entry: int) -> int:
        """The position in :attr:`subjects` of the subject an entry (one of its names) belongs to."""
        return self._entry_subject[entry]

    # -- candidates ------------------------------------------------------------------------------------------
    def _similar(self, text: str, limit: int) -> list[int]:
        """Entries sharing the most informative grams with ``text``, each gram weighted by its rarity."""
        grams = [g for g in _grams(text) if g in self._postings]
        if not grams or limit <= 0:
            return []
        by_rarity = sorted(grams, key=lambda g: len(self._postings[g]))
        common = max(_COMMON_MIN, self.size * _COMMON_SHARE)
        chosen: list[str] = []
        read = 0
        for gram in by_rarity[:_RAREST]:
            postings = len(self._postings[gram])
            if len(chosen) >= 2 and (postings > common or read + postings > _POSTINGS_READ):
                break
            chosen.append(gram)
            read += postings
        ids = np.concatenate([self._postings[g] for g in chosen])
        weights = np.concatenate([np.full(len(self._postings[g]), self._idf[g]) for g in chosen])
        # A stable sort of 32-bit ids is a radix sort: side by side, each entry's weights add up in one call.
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        entries, scores = ids[starts], np.add.reduceat(weights[order], starts)
        k = min(limit, len(entries))
        top: npt.NDArray[np.intp] = np.argpartition(-scores, k - 1)[:k]
        return [int(e) for e in entries[top[np.argsort(-scores[top], kind="stable")]]]

    def _containing(self, text: str) -> list[int]:
        """Entries holding every character of ``text`` (in any order: the scoring checks the order), the ones
        sharing most of its character pairs, then the shortest, first when there are more than _CONTAINING."""
        chars = sorted(set(text), key=lambda c: len(self._postings.get(c, ())))
        if not chars or chars[0] not in self._postings:
            return []
        found = self._postings[chars[0]]
        for char in chars[1:]:
            found = found[_members(found, self._postings[char])]
            if not len(found):
                return []
        if len(found) > _CONTAINING:
            pairs = [text[i:i + 2] for i in range(len(text) - 1) if text[i:i + 2] in self._postings]
            shared = sum((_members(found, self._postings[p]) * self._idf[p] for p in pairs), np.zeros(len(found)))
            # Of names sharing as much, the shorter: a short form stands for the company, not its many branches.
            found = found[np.lexsort((self._lengths[found], -shared))[:_CONTAINING]]
        return [int(e) for e in found]

    def candidates(self, query: str | NameParts, limit: int = 40) -> list[int]:
        """The entries worth scoring for ``query`` (normalised, or analysed), by every route; exposed so that the
        recall of this stage can be measured on its own."""
        parts = query if isinstance(query, NameParts) else parse_name(query)
        text = parts.spelled
        entries = list(self._by_key.get(parts.key, []))
        if target := alias_target(parts.normalized):
            entries += self._by_key.get(analyze_name(target).key, [])
        region = region_abbreviation_of(text) if len(text) > 2 else ""
        if not parts.legal_form:
            holding = self._containing(text)
            if region:  # 沪农商行: the region it abbreviates is spelt out in the names it stands for
                holding += self._containing(text[1:])
            if holding:
                # A short form that names hold in order is scored against them: the names that merely share some
                # of its characters would score below any of them.
                return list(dict.fromkeys(entries + holding))
        entries += self._similar(text + region, limit)
        return list(dict.fromkeys(entries))

    def match(self, query: str, limit: int = 10, floor: float = 0.0, candidates: int = 40) -> list[NameMatch]:
        """Subjects whose names best match ``query`` (at most ``limit``, score ≥ ``floor``), best first.

        A registered abbreviation or former name (synonyms/aliases.txt) also looks up the full name.
        """
        normalized = normalize_name(query)
        if not normalized:
            return []
        parts = parse_name(normalized)
        best = self._score(parts, self._by_key.get(parts.key, []))
        if not best or max(m.score for m in best.values()) < _SURE:
            best = self._score(parts, self.candidates(parts, candidates))
            _promote_sole_short_form(best)
        ranked = sorted((m for m in best.values() if m.score >= floor), key=lambda m: (
            -m.score, m.kind == SHORT_FORM and not known_by_short_name(analyze_name(m.name)),
            -m.subject.record_count, m.subject.name))
        return ranked[:limit]

    def _score(self, query: NameParts, entries: list[int]) -> dict[int, NameMatch]:
        """The best match per subject among ``entries``."""
        best: dict[int, NameMatch] = {}
        score = NameScorer(query)
        for entry in entries:
            position, name = self._entry_subject[entry], self._entry_name[entry]
            subject = self.subjects[position]
            scored = score(self._entry_parts[entry])
            explanation = scored.explanation
            if name != subject.name and not filed_by_name(subject):
                explanation += f"（曾用名：{name}）"
            current = best.get(position)
            if current is None or scored.score > current.score:
                best[position] = NameMatch(subject, name, scored.score, explanation, scored.kind)
        return best


def _promote_sole_short_form(best: dict[int, NameMatch]) -> None:
    """A short form that only one subject's names hold in order (一拖股份 for 第一拖拉机股份有限公司 among every
    name indexed) names that subject, however its characters are spread, unless a full name fits as well."""
    short = [p for p, m in best.items() if m.kind == SHORT_FORM and m.score >= REVIEW_FLOOR]
    if len(short) != 1:
        return
    match = best[short[0]]
    rivals = [m for m in best.values() if m is not match and m.score >= REVIEW_FLOOR]
    if SOLE_SHORT_FORM_MIN <= match.score < SOLE_SHORT_FORM and not rivals:
        best[short[0]] = replace(match, score=SOLE_SHORT_FORM,
                                 explanation=f"{match.explanation}；是唯一按字序包含此简称的主体")


class NamesCatchingUp(StoreUnavailable):
    """The name index has not yet caught up with subjects that a load has just written."""


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

    def _start_build(self) -> threading.Thread:
        self._building = threading.Thread(target=self._build, name="name-index", daemon=True)
        self._building.start()
        return self._building

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

    def ready(self) -> bool:
        """Whether an index has been built (a first build may still be running)."""
        return self._index is not None

    def current(self, wait_seconds: float = 120.0, fresh: bool = False) -> NameIndex:
        """The latest complete index, waiting for the first build; starts a rebuild when the store's
        subjects have changed. With ``fresh`` the index must hold every subject the store holds now: a
        rebuild is waited for (:class:`NamesCatchingUp` after ``wait_seconds``). Raises
        :class:`StoreUnavailable` when no index can be built."""
        if fresh:
            return self._fresh(wait_seconds)
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

    def _fresh(self, wait_seconds: float) -> NameIndex:
        deadline = time.monotonic() + wait_seconds
        while True:
            generation = self._store.subjects_generation()
            with self._lock:
                index, failure = self._index, self._failure
                if index is not None and self._generation == generation:
                    return index
                building = self._building or self._start_build()
            left = deadline - time.monotonic()
            if left <= 0:
                raise NamesCatchingUp(f"name index behind the store's subjects: {failure or 'rebuilding'}")
            building.join(left)
