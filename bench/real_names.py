"""The real labelled name set: real names as people write them, against a population of real registered names.

Source files are read from ``../shared/data/real`` (or ``CREDIT_SEARCH_REAL_DATA``); they are not part of the
project (see their SOURCES.md). The population is every name of the registry sample (300,293 real registered
names with their codes) plus the Shanghai-listed companies' full names, less a held-out part; each subject of it
is one company. The labelled rows:

- ``short_name``: a listed company's short name (证券简称) → that company;
- ``former_name`` / ``former_short``: a renamed company's 2013 full name or short name → the company, whose records
  carry both names;
- ``homophone`` / ``slip``: a registered full name with one character of its 字号 or industry words replaced by one
  read alike (pypinyin) or by any other character → that company;
- ``near_miss``: a held-out registered name (a company with no records) close to indexed ones → no confident match;
- ``unlisted_short``: the short name of a held-out listed company → no confident match.

Rows no rule could answer are left out and counted: a short name that, without the words short names add (股份,
集团) and a region abbreviation, has fewer than two or under half of its characters in its full name in order (a
label error of the source, or a rename the list does not show: 紫晶存储 for 辽宁禾丰牧业, 闻泰科技 for 中茵股份);
trading marks (退市) are removed from short names. A typo variant that is itself a registered name is no typo.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import LCSseq

from analyzers.codes import USCC_CHARS, org_code_check_char, uscc_check_char
from analyzers.names import NameParts, parse_name
from analyzers.normalize import normalize_name
from analyzers.pinyin import readings
from stores.base import Subject
from synonyms import load_region_abbreviations, load_short_name_words

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = Path(os.environ.get("CREDIT_SEARCH_REAL_DATA") or ROOT.parent / "shared" / "data" / "real")
POSITIVE_KINDS = ("short_name", "former_name", "former_short", "homophone", "slip")
NEGATIVE_KINDS = ("near_miss", "unlisted_short")
_MARKS = ("退市",)


@dataclass(frozen=True, slots=True)
class RealPair:
    kind: str
    query: str
    expected: frozenset[str]  # keys of the subjects that are right answers; empty: nothing may be confirmed


@dataclass(slots=True)
class RealSet:
    subjects: list[Subject]
    pairs: list[RealPair]
    left_out: dict[str, int] = field(default_factory=dict)


def available() -> bool:
    """Whether the real data files are on this machine."""
    return (REAL_DATA / "company_names_registry_sample.csv").is_file()


def _rows(name: str) -> list[dict[str, str]]:
    with (REAL_DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _code_for(name: str) -> str:
    """A valid credit code for a listed company that the registry sample lacks, stable for its name."""
    digest = hashlib.sha256(name.encode()).digest()
    body = "".join(USCC_CHARS[b % len(USCC_CHARS)] for b in digest[:8])
    head = "91310000" + body + org_code_check_char(body)
    return head + uscc_check_char(head)


def _short(name: str) -> str:
    for mark in _MARKS:
        name = name.removeprefix(mark)
    return name


def _derivable(short: str, full: str) -> bool:
    """Whether a short name could stand for a full name at all: without the words short names add (股份, 集团) and a
    leading region abbreviation, at least two of its characters, and half of them, stand in the full name in order."""
    core = next((short[:-len(w)] for w in load_short_name_words() if short.endswith(w) and len(short) > len(w) + 1),
                short)
    if core[:1] in load_region_abbreviations() and len(core) > 2:
        core = core[1:]
    shared = LCSseq.similarity(core, full)
    return shared >= 2 and shared * 2 >= len(core)


def build(held_out_registry: int = 2000, held_out_listed: int = 150, per_kind: int = 1000,
          seed: int = 23) -> RealSet:
    """The population and the labelled rows, deterministic for a seed."""
    rng = random.Random(seed)
    registry = [r for r in _rows("company_names_registry_sample.csv") if r["company_name"].strip()]
    listed = _rows("pairs_sse_short_full.csv")
    renames = _rows("pairs_sse_name_changes_2013_2021.csv")
    left_out: dict[str, int] = defaultdict(int)

    # Listed companies, by current full name, with their short names (several for a rename) and former names.
    companies: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"short": set(), "former": set(),
                                                                    "former_short": set()})
    for row in listed:
        short = _short(row["short_name"])
        if _derivable(short, row["full_name"]):
            companies[row["full_name"]]["short"].add(short)
        else:
            left_out["short_name: fewer than two, or under half, of its characters in the full name"] += 1
    for row in renames:
        current = companies[row["full_name_2021"]]
        if row["full_name_2013"] != row["full_name_2021"]:
            current["former"].add(row["full_name_2013"])
        if row["short_name_2013"] != row["short_name_2021"] and _derivable(row["short_name_2013"],
                                                                            row["full_name_2013"]):
            current["former_short"].add(_short(row["short_name_2013"]))
        if _derivable(row["short_name_2021"], row["full_name_2021"]):
            current["short"].add(_short(row["short_name_2021"]))

    # A former name the list also carries as a company of its own is that company before its rename.
    for full in list(companies):
        if full not in companies:
            continue  # merged into its renamed self already
        for former in companies[full]["former"]:
            if former in companies and former != full:
                merged = companies.pop(former)
                companies[full]["short"] |= merged["short"]
                companies[full]["former_short"] |= merged["short"] - companies[full]["short"]
    listed_names = sorted(companies)
    rng.shuffle(listed_names)
    unlisted = set(listed_names[:held_out_listed])
    rng.shuffle(registry)
    outside = registry[:held_out_registry]
    registry = [r for r in registry[held_out_registry:] if r["company_name"] not in unlisted]

    subjects: dict[str, Subject] = {}
    key_of_name: dict[str, str] = {}
    for row in registry:
        name, code = row["company_name"].strip(), row["uscc"].strip()
        if code in subjects:
            continue
        subjects[code] = Subject(code, name, code, "organization", 1, (name,))
        key_of_name.setdefault(normalize_name(name), code)
    for full in listed_names[held_out_listed:]:
        names = (full, *sorted(companies[full]["former"]))
        key = key_of_name.get(normalize_name(full)) or _code_for(full)
        subjects[key] = Subject(key, full, key, "organization", 1, names)
        for n in names:
            key_of_name[normalize_name(n)] = key

    pairs: list[RealPair] = []
    for full in listed_names[held_out_listed:]:
        key = key_of_name[normalize_name(full)]
        info = companies[full]
        pairs += [RealPair("short_name", s, frozenset({key})) for s in sorted(info["short"])]
        pairs += [RealPair("former_name", f, frozenset({key})) for f in sorted(info["former"])]
        pairs += [RealPair("former_short", s, frozenset({key})) for s in sorted(info["former_short"])]
    pairs += [RealPair("unlisted_short", s, frozenset()) for full in listed_names[:held_out_listed]
              for s in sorted(companies[full]["short"])]
    # A short name standing for two listed companies (a rename the list shows under both names): either is right.
    by_query: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pair in pairs:
        by_query[(pair.kind, pair.query)] |= pair.expected
    pairs = [RealPair(kind, query, frozenset(keys)) for (kind, query), keys in by_query.items()]

    parts = {s.key: parse_name(s.name) for s in subjects.values()}  # once: 300,000 names take a while
    pairs += _typos(list(subjects.values()), parts, key_of_name, rng, per_kind)
    known_keys = {p.key for p in parts.values()}
    near = [RealPair("near_miss", r["company_name"].strip(), frozenset()) for r in outside
            if normalize_name(r["company_name"]) not in key_of_name
            and parse_name(r["company_name"]).key not in known_keys]
    left_out["near_miss: a held-out name with the key of an indexed one"] += len(outside) - len(near)
    pairs += near[:per_kind]
    return RealSet(sorted(subjects.values(), key=lambda s: s.key), pairs, dict(left_out))


def _typos(subjects: Sequence[Subject], parts_of: dict[str, NameParts], known: dict[str, str], rng: random.Random,
           per_kind: int) -> list[RealPair]:
    """Registered names with one character of the 字号 or industry words replaced: by a character read alike, and
    by any other character of the population's names."""
    by_sound: dict[str, list[str]] = defaultdict(list)
    chars = sorted({c for s in subjects for c in s.name if "\u4e00" <= c <= "\u9fff"})
    for char in chars:
        for reading in readings(char):
            by_sound[reading].append(char)
    companies = [s for s in subjects if (p := parts_of[s.key]).legal_form and len(p.core + p.industry) >= 4]
    rng.shuffle(companies)
    out: dict[str, list[RealPair]] = {"homophone": [], "slip": []}
    for subject in companies:
        if all(len(v) >= per_kind for v in out.values()):
            break
        parts = parts_of[subject.key]
        body = parts.core + parts.industry
        at = rng.randrange(len(body))
        original = body[at]
        kind = "homophone" if len(out["homophone"]) < per_kind else "slip"
        if kind == "homophone":
            pool = sorted({c for r in readings(original) for c in by_sound[r]} - {original})
        else:
            pool = [c for c in rng.sample(chars, 20) if c != original and not readings(c) & readings(original)]
        if not pool or original not in subject.name:
            continue
        changed = body[:at] + rng.choice(pool) + body[at + 1:]
        query = subject.name.replace(body, changed, 1)
        if query == subject.name or normalize_name(query) in known:
            continue
        out[kind].append(RealPair(kind, query, frozenset({subject.key})))
    return out["homophone"] + out["slip"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What screening made of one row: a confirmed subject, the candidates it asks a person to choose from, or
    nothing plausible."""

    match: str | None
    candidates: tuple[str, ...]


def evaluate(pairs: Iterable[RealPair], outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """recall@1 (the right subject confirmed, or first among the candidates), false clear (the right subject
    neither confirmed nor among the candidates), decided (confirmed without review), precision of confirmed matches
    (a confirmed match on a row with no right answer is wrong), per kind and overall."""
    per_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pair, outcome in zip(pairs, outcomes, strict=True):
        stats = per_kind[pair.kind]
        stats["rows"] += 1
        first = outcome.match or (outcome.candidates[0] if outcome.candidates else None)
        if outcome.match is not None:
            stats["decided"] += 1
            stats["right"] += outcome.match in pair.expected
        if pair.expected:
            stats["at_1"] += first in pair.expected
            stats["false_clear"] += outcome.match not in pair.expected and not set(outcome.candidates) & pair.expected
    total: dict[str, int] = defaultdict(int)
    positives: dict[str, int] = defaultdict(int)
    for kind, stats in per_kind.items():
        for name, value in stats.items():
            total[name] += value
            if kind in POSITIVE_KINDS:
                positives[name] += value
    return {"per_kind": {k: _rates(v, k in POSITIVE_KINDS) for k, v in per_kind.items()},
            "positives": _rates(positives, True),
            "precision": total["right"] / total["decided"] if total["decided"] else 1.0,
            "decided_wrong": total["decided"] - total["right"]}


def _rates(stats: dict[str, int], positive: bool) -> dict[str, float | int]:
    rows = max(stats["rows"], 1)
    out: dict[str, float | int] = {"rows": stats["rows"], "decided": stats["decided"] / rows,
                                   "precision": stats["right"] / stats["decided"] if stats["decided"] else 1.0}
    if positive:
        out |= {"recall_at_1": stats["at_1"] / rows, "false_clear": stats["false_clear"] / rows}
    return out
