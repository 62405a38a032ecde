"""Parse the dictionary files of this package.

Every file is UTF-8 text, one entry per line, ``#`` starts a comment line. Each loader is cached: the
files are read once per process, and the returned tuples are immutable so callers cannot corrupt them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources


class DictionaryError(ValueError):
    """A dictionary file has a malformed line; the message names file, line and reason."""


@dataclass(frozen=True, slots=True)
class Region:
    full: str
    short: tuple[str, ...]
    level: str
    parent: str


@dataclass(frozen=True, slots=True)
class LegalForm:
    suffix: str
    canonical: str
    kind: str


@dataclass(frozen=True, slots=True)
class Alias:
    alias: str
    full_name: str
    kind: str


@dataclass(frozen=True, slots=True)
class SynonymGroup:
    terms: tuple[str, ...]
    record_type: str | None

    @property
    def canonical(self) -> str:
        return self.terms[0]


def _lines(name: str) -> list[tuple[int, str]]:
    text = resources.files("synonyms").joinpath(name).read_text(encoding="utf-8")
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def _fields(name: str, number: int, line: str, count: int) -> list[str]:
    parts = [p.strip() for p in line.split("|")]
    if len(parts) != count:
        raise DictionaryError(f"{name}:{number}: expected {count} '|'-separated fields, got {len(parts)}")
    return parts


@cache
def dictionary_version() -> str:
    """A digest of every dictionary file: analysis output depends on them, so stores mix it into each
    record's content hash and a reload after a dictionary change re-analyses every record."""
    digest = hashlib.blake2b(digest_size=8)
    for entry in sorted(resources.files("synonyms").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".txt"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def _regions(name: str) -> tuple[Region, ...]:
    out = []
    for number, line in _lines(name):
        full, short, level, parent = _fields(name, number, line, 4)
        if level not in {"province", "city", "county"}:
            raise DictionaryError(f"{name}:{number}: unknown level {level!r}")
        shorts = tuple(s for s in (x.strip() for x in short.split(",")) if s)
        out.append(Region(full, shorts, level, parent))
    return tuple(out)


@cache
def load_regions() -> tuple[Region, ...]:
    """The local regions, with the short forms that questions use for districts (regions.txt)."""
    return _regions("regions.txt")


@cache
def load_national_regions() -> tuple[Region, ...]:
    """Every region of the country down to counties, for region prefixes of names (national_regions.txt)."""
    return _regions("national_regions.txt")


@cache
def load_short_name_words() -> tuple[str, ...]:
    """Words short names add after the 字号 (short_name_words.txt), longest first."""
    return tuple(sorted({line for _, line in _lines("short_name_words.txt")}, key=lambda t: (-len(t), t)))


@cache
def load_national_prefixes() -> tuple[str, ...]:
    """Words that open national companies' names before the 字号 (national_prefixes.txt)."""
    return tuple(line for _, line in _lines("national_prefixes.txt"))


@cache
def load_region_abbreviations() -> dict[str, str]:
    """One-character region abbreviation → the region's full name (region_abbreviations.txt)."""
    known = {r.full for r in load_national_regions()}
    out: dict[str, str] = {}
    for number, line in _lines("region_abbreviations.txt"):
        abbreviation, full = _fields("region_abbreviations.txt", number, line, 2)
        if len(abbreviation) != 1 or full not in known:
            raise DictionaryError(f"region_abbreviations.txt:{number}: expected one character and a region of "
                                  f"national_regions.txt, got {line!r}")
        out[abbreviation] = full
    return out


@cache
def load_legal_forms() -> tuple[LegalForm, ...]:
    """Legal-form suffixes, longest first (legal_forms.txt)."""
    out = [LegalForm(*_fields("legal_forms.txt", n, line, 3)) for n, line in _lines("legal_forms.txt")]
    return tuple(sorted(out, key=lambda f: -len(f.suffix)))


@cache
def load_industry_terms() -> tuple[str, ...]:
    """Industry words, longest first (industry_terms.txt)."""
    return tuple(sorted({line for _, line in _lines("industry_terms.txt")}, key=lambda t: (-len(t), t)))


@cache
def load_name_qualifiers() -> frozenset[str]:
    """Bracket contents that do not identify a subject (name_qualifiers.txt)."""
    return frozenset(line for _, line in _lines("name_qualifiers.txt"))


@cache
def load_aliases() -> tuple[Alias, ...]:
    """Abbreviations and former names (aliases.txt)."""
    out = []
    for number, line in _lines("aliases.txt"):
        alias, full, kind = _fields("aliases.txt", number, line, 3)
        if kind not in {"abbr", "former"}:
            raise DictionaryError(f"aliases.txt:{number}: unknown kind {kind!r}")
        out.append(Alias(alias, full, kind))
    return tuple(out)


@cache
def load_domain_terms() -> tuple[SynonymGroup, ...]:
    """Query synonym groups (domain_terms.txt)."""
    out = []
    for number, line in _lines("domain_terms.txt"):
        terms = [t.strip() for t in line.split(",") if t.strip()]
        record_type = None
        if terms and terms[0].startswith("@type:"):
            record_type = terms.pop(0).removeprefix("@type:")
        if len(terms) < 2:
            raise DictionaryError(f"domain_terms.txt:{number}: a group needs at least two terms")
        out.append(SynonymGroup(tuple(terms), record_type))
    return tuple(out)


@cache
def load_question_words() -> frozenset[str]:
    """Words of a question that ask rather than name (question_words.txt)."""
    return frozenset(word for _, line in _lines("question_words.txt") for word in line.split())


@cache
def load_pronouns() -> tuple[str, ...]:
    """Words that refer to the previous turn's subject (pronouns.txt), longest first."""
    return tuple(sorted({line for _, line in _lines("pronouns.txt")}, key=lambda t: (-len(t), t)))


@cache
def load_departments() -> dict[str, str]:
    """Department words → the part of an authority's name that identifies it (departments.txt)."""
    return {word: part for word, part in (_fields("departments.txt", number, line, 2)
                                         for number, line in _lines("departments.txt"))}


@cache
def load_stopwords() -> frozenset[str]:
    """Words dropped from full-text token streams (stopwords.txt)."""
    return frozenset(line for _, line in _lines("stopwords.txt"))
