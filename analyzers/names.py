"""Subject-name analysis: region prefix, 字号 (core), industry words, legal form, bracketed parts.

The parts give a matching key that ignores what does not identify a subject (region, legal form,
qualifiers such as （集团）), and the features that later matching needs to score an abbreviation such as
浦发银行 against 上海浦东发展银行股份有限公司. All word lists come from ``synonyms``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise

from rapidfuzz.distance import LCSseq

from analyzers.normalize import normalize_name
from synonyms import (
    Region,
    load_industry_terms,
    load_legal_forms,
    load_name_qualifiers,
    load_national_prefixes,
    load_national_regions,
    load_region_abbreviations,
    load_regions,
    load_short_name_words,
)

_BRACKETED = re.compile(r"\(([^()]*)\)")
_MIN_CORE = 2
_STARTS = 6  # places of a short form's first character in a name that alignment tries


@dataclass(frozen=True, slots=True)
class NameParts:
    """The analysed parts of one subject name."""

    normalized: str
    regions: tuple[str, ...]
    core: str
    industry: str
    legal_form: str
    legal_kind: str
    qualifiers: tuple[str, ...]
    branch: str
    key: str
    region_short: str  # the shortest spelling of the innermost region, as people type it (清远市 → 清远)
    # Where the parts stand in the name as its characters are written (brackets dropped), for reading short forms
    # against it (see align): the 字号, the 字号 as people write it (after 中国), what follows it, the branch part.
    spelled: str = ""
    core_start: int = -1
    brand_start: int = -1
    tail_start: int = 0
    branch_start: int = 0


def _short_of(region_name: str) -> str:
    """The spelling of a region people type before a 字号: its first short form, else the full name without its
    last character (镇海区 → 镇海) when two remain."""
    region = _tables().by_full.get(region_name)
    if region and region.short:
        return region.short[0]
    return region_name[:-1] if len(region_name) > 2 and region_name[-1] in "县区市旗" else region_name


@dataclass(frozen=True)
class _Tables:
    prefixes: dict[str, Region]  # full names and safe short forms of provinces and cities
    county_prefixes: dict[str, Region]  # full names and short forms of counties
    by_full: dict[str, Region]
    max_region: int
    legal: dict[str, tuple[str, str]]  # suffix → (canonical, kind)
    branch_suffixes: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    industry: frozenset[str]
    industry_lengths: tuple[int, ...]
    qualifiers: frozenset[str]
    abbreviations: dict[str, str]  # one-character abbreviation → region full name (沪 → 上海市)
    short_name_words: tuple[str, ...]  # words short names add after the 字号 (集团, 股份)
    national_prefixes: tuple[str, ...]  # words before a national company's 字号 (中国)


@cache
def _tables() -> _Tables:
    prefixes: dict[str, Region] = {}
    county: dict[str, Region] = {}
    by_full: dict[str, Region] = {}
    # The local regions first: their short forms (清城 for 清城区) are the ones people of this city type.
    for region in (*load_regions(), *load_national_regions()):
        if region.full in by_full:
            continue
        by_full[region.full] = region
        # One-character short forms (粤, 沪) are licence-plate style and collide with brand names.
        spellings = [region.full, *[s for s in region.short if len(s) >= 2]]
        target = county if region.level == "county" else prefixes
        for spelling in spellings:
            target.setdefault(spelling, region)
    forms = load_legal_forms()
    legal = {f.suffix: (f.canonical, f.kind) for f in forms if f.kind != "branch"}
    terms = load_industry_terms()
    return _Tables(
        prefixes=prefixes,
        county_prefixes=county,
        by_full=by_full,
        max_region=max(len(s) for s in [*prefixes, *county]),
        legal=legal,
        branch_suffixes=tuple(f.suffix for f in forms if f.kind == "branch"),
        company_suffixes=tuple(f.suffix for f in forms if f.kind == "company"),
        industry=frozenset(terms),
        industry_lengths=tuple(sorted({len(t) for t in terms}, reverse=True)),
        qualifiers=load_name_qualifiers(),
        abbreviations=load_region_abbreviations(),
        short_name_words=load_short_name_words(),
        national_prefixes=load_national_prefixes(),
    )


def _region_of(text: str) -> Region | None:
    t = _tables()
    return t.prefixes.get(text) or t.county_prefixes.get(text)


def _strip_regions(name: str) -> tuple[list[str], str]:
    """Strip region prefixes (广东省清远市清城区 …) while at least a two-character name remains.

    Counties count only in their full form (清城区): their short forms open brand names too often
    (上海浦东发展银行, 广州白云山医药).
    """
    t = _tables()
    found: list[str] = []
    while True:
        hit: Region | None = None
        for size in range(min(t.max_region, len(name) - _MIN_CORE), 1, -1):
            head = name[:size]
            hit = t.prefixes.get(head)
            if hit is None and (county := t.county_prefixes.get(head)) is not None and head == county.full:
                hit = county
            if hit is not None:
                found.append(hit.full)
                name = name[size:]
                break
        if hit is None:
            return found, name


def _strip_legal_form(name: str) -> tuple[str, str, str]:
    t = _tables()
    for size in range(min(len(name) - 1, 9), 0, -1):
        form = t.legal.get(name[-size:])
        if form is not None:
            return name[:-size], form[0], form[1]
    return name, "", ""


def _strip_industry(name: str) -> tuple[str, str]:
    t = _tables()
    industry = ""
    stripped = True
    while stripped:
        stripped = False
        for size in t.industry_lengths:
            if len(name) - size >= _MIN_CORE and name[-size:] in t.industry:
                industry = name[-size:] + industry
                name = name[:-size]
                stripped = True
                break
    return name, industry


def _split_branch(name: str) -> tuple[str, str]:
    """Split ``恒达有限公司清城分公司`` into the parent name and the branch part."""
    t = _tables()
    if not name.endswith(t.branch_suffixes):
        return name, ""
    best = -1
    for suffix in t.company_suffixes:
        pos = name.rfind(suffix)
        if pos > 0 and pos + len(suffix) < len(name):
            best = max(best, pos + len(suffix))
    if best < 0:
        return name, ""
    return name[:best], name[best:]


def parse_name(name: str) -> NameParts:
    """Analyse a subject name into its parts and matching key.

    Traditional, full-width and bracket variants of one name give the same result, because the name is
    normalised first. Bracketed regions and qualifiers (（中国）, （集团）, （普通合伙）) are set aside. Not cached:
    for what people type (a query, a row to screen), which would only push recurring names out of the cache of
    :func:`analyze_name`.
    """
    t = _tables()
    normalized = normalize_name(name)
    qualifiers: list[str] = []
    bracket_regions: list[str] = []

    def drop(m: re.Match[str]) -> str:
        inner = m.group(1)
        region = _region_of(inner)
        if region is not None:
            bracket_regions.append(region.full)
            return ""
        if inner in t.qualifiers:
            qualifiers.append(inner)
            return ""
        return inner

    plain = _BRACKETED.sub(drop, normalized).replace("(", "").replace(")", "")
    parent, branch = _split_branch(plain)
    rest, legal_form, legal_kind = _strip_legal_form(parent)
    regions, rest = _strip_regions(rest)
    core, industry = _strip_industry(rest)
    key = core + industry + (f"#{branch}" if branch else "")
    all_regions = tuple(regions + bracket_regions)
    spelled = normalized.replace("(", "").replace(")", "")
    core_start = spelled.find(core) if core else -1
    national = next((p for p in t.national_prefixes if core.startswith(p) and len(core) - len(p) >= _MIN_CORE), "")
    return NameParts(
        normalized=normalized,
        regions=all_regions,
        core=core,
        industry=industry,
        legal_form=legal_form,
        legal_kind=legal_kind,
        qualifiers=tuple(qualifiers),
        branch=branch,
        key=key or normalized,
        region_short=_short_of(all_regions[-1]) if all_regions else "",
        spelled=spelled,
        core_start=core_start,
        # 中国东方航空: the 字号 people write begins after the national prefix.
        brand_start=core_start + len(national) if core_start >= 0 else -1,
        tail_start=core_start + len(core) if core_start >= 0 else len(spelled),
        branch_start=len(spelled) - len(branch) if branch else len(spelled),
    )


# Per process, and an indexing worker sees its own share of the subjects (indexer.pipeline._split): at a million
# records 143,000 names each, which this size nearly holds (half this size missed 278,000 times, twice as
# often; this size costs a worker 80 MiB more).
analyze_name = lru_cache(maxsize=131072)(parse_name)
"""Cached :func:`parse_name`, for the names of records, which recur."""


def name_key(name: str) -> str:
    """The matching key of a subject name (:attr:`NameParts.key`)."""
    return analyze_name(name).key


def name_ngrams(name: str) -> list[str]:
    """Character unigrams and bigrams of a normalised name, so that one- and two-character queries match
    inside names that jieba would cut differently."""
    return [c for c in name if c not in "()"] + name_bigrams(name)


def name_bigrams(name: str) -> list[str]:
    """Character bigrams of a normalised name: what the full-text index keeps of a subject's name and what a
    query asks of it, gram by gram, so that a two-character query matches inside a name that jieba would cut
    differently. (Indexed unigrams served no query, and were a sixth of the tokens of a record.)"""
    return [a + b for a, b in pairwise(c for c in name if c not in "()")]


@dataclass(frozen=True, slots=True)
class Alignment:
    """Where the characters of a short form stand, in order, in a full name (see :func:`align`)."""

    runs: int  # contiguous stretches of the full name the characters were found in
    core_used: int  # characters of the 字号 among them
    core_length: int
    brand_kept: bool  # it holds the first two characters of the 字号, side by side (德昌 of 德昌电机)
    at_head: bool  # it starts at the first character of the 字号 or of the name
    region_abbreviation: bool  # it opened with the one-character abbreviation of the name's region (沪 for 上海)
    suffix_kept: bool  # its last character stands in the industry word or the legal form (…股份, …电气)
    in_branch: bool  # some of its characters were only found in the branch part (…清城分公司)
    word_added: str  # a word short names add (集团 in 君正集团) that the name lacks, read without it


def _positions(short: str, text: str, start: int) -> list[int] | None:
    """The positions of ``short``'s characters in ``text``, in order, the first at ``start``, each next one at the
    nearest place after the one before (so that neighbours stay neighbours); None when one is missing."""
    if start < 0:
        return None
    found = [start]
    for char in short[1:]:
        at = text.find(char, found[-1] + 1)
        if at < 0:
            return None
        found.append(at)
    return found


@lru_cache(maxsize=4096)
def _readings(short: str) -> tuple[tuple[str, str, str], ...]:
    """The ways to read a short form, in order of preference: as written; without a leading one-character region
    abbreviation (沪农商行), naming that region; without a trailing word that short names add (君正集团); without
    both. Each as (body, abbreviated region or "", word added or "")."""
    t = _tables()
    opening = t.abbreviations.get(short[:1], "") if len(short) > 2 else ""
    bodies = [(short, "")] + ([(short[1:], opening)] if opening else [])
    out = [(body, region, "") for body, region in bodies]
    for body, region in bodies:
        word = next((w for w in t.short_name_words if body.endswith(w) and len(body) - len(w) >= _MIN_CORE), "")
        if word:
            out.append((body[:-len(word)], region, word))
    return tuple(out)


def align(short: str, full: NameParts) -> Alignment | None:
    """How ``short`` (a normalised short form, such as 德昌股份, 沪农商行 or 龙版传媒) reads as an abbreviation of
    the name ``full``: every character found in the name in order, in one of the readings of :func:`_readings`;
    None when it is not such an abbreviation. Of the places where its first character occurs, the one that keeps
    the 字号's head and uses most of it in fewest stretches wins."""
    text = full.spelled
    regions: set[str] | None = None
    for body, region, word in _readings(short):
        start = text.find(body[0])
        if _positions(body, text, start) is None:
            continue  # the common case: what cannot follow its first place cannot follow a later one either
        if region:
            regions = _region_and_parents(full.regions) if regions is None else regions
            if region not in regions:
                continue
        best: tuple[tuple[bool, int, int, int], list[int]] | None = None
        for _ in range(_STARTS):
            found = _positions(body, text, start)
            if found is None:
                break
            brand = full.brand_start >= 0 and full.brand_start in found and full.brand_start + 1 in found
            core_used = sum(1 for p in found if full.core_start <= p < full.tail_start)
            runs = 1 + sum(1 for a, b in pairwise(found) if b != a + 1)
            rank = (brand, core_used, -runs, -start)
            if best is None or rank > best[0]:
                best = (rank, found)
            start = text.find(body[0], start + 1)
        assert best is not None
        (brand, core_used, runs, _), found = best
        return Alignment(runs=-runs, core_used=core_used, core_length=len(full.core), brand_kept=brand,
                         at_head=found[0] in (0, full.core_start, full.brand_start) or bool(region),
                         region_abbreviation=bool(region), suffix_kept=full.tail_start <= found[-1] < full.branch_start,
                         in_branch=found[-1] >= full.branch_start, word_added=word)
    return None


def region_abbreviation_of(text: str) -> str:
    """How people spell the region that the first character of ``text`` abbreviates (沪农商行 → 上海), or ""."""
    region = _tables().abbreviations.get(text[:1], "")
    return _short_of(region) if region else ""


def _region_and_parents(regions: tuple[str, ...]) -> set[str]:
    """A name's regions with the regions they lie in (广州市 → 广东省): 粤 abbreviates a Guangzhou company too."""
    by_full = _tables().by_full
    out: set[str] = set()
    for name in regions:
        while name and name not in out:
            out.add(name)
            region = by_full.get(name)
            name = region.parent if region else ""
    return out


@dataclass(frozen=True, slots=True)
class AbbreviationFeatures:
    """How well a short form covers a full name."""

    in_order: float  # share of the short form's characters found in order in the full name
    core_coverage: float  # share of the core's characters that the short form keeps, in order
    starts_at_head: bool  # the short form starts with the first character of the region or core
    keeps_industry: bool  # the short form ends with the industry word's end (…银行) or head (康明汽车)


def abbreviation_features(short: str, full: str | NameParts) -> AbbreviationFeatures:
    """Ordered-subsequence features of ``short`` against the ``full`` name (or its analysed parts)."""
    s = normalize_name(short)
    parts = full if isinstance(full, NameParts) else analyze_name(full)
    body = parts.region_short + parts.core + parts.industry
    if not s or not body:
        return AbbreviationFeatures(0.0, 0.0, False, False)
    in_order = LCSseq.similarity(s, body) / len(s)
    heads = {parts.core[:1], parts.region_short[:1]} - {""}
    return AbbreviationFeatures(
        in_order=in_order,
        core_coverage=LCSseq.similarity(s, parts.core) / max(len(parts.core), 1),
        starts_at_head=s[0] in heads,
        keeps_industry=bool(parts.industry) and (any(s.endswith(parts.industry[-k:]) for k in (1, 2))
                                                 or s.endswith(parts.industry[:2])),
    )


def abbreviation_score(short: str, full: str | NameParts) -> float:
    """Score in [0, 1] that ``short`` is an abbreviation of ``full`` (浦发银行 → 上海浦东发展银行…).

    A true abbreviation keeps the order of the full name's characters, uses at least one character of
    the 字号 and usually starts where the region or 字号 starts. Characters out of order cost heavily.
    """
    f = abbreviation_features(short, full)
    if f.core_coverage == 0.0:
        return 0.3 * f.in_order**2
    if f.in_order < 1.0:
        return 0.5 * f.in_order**2
    return min(1.0, 0.55 + 0.3 * f.core_coverage + 0.1 * f.starts_at_head + 0.05 * f.keeps_industry)
