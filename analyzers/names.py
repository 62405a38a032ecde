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
from synonyms import Region, load_industry_terms, load_legal_forms, load_name_qualifiers, load_regions

_BRACKETED = re.compile(r"\(([^()]*)\)")
_MIN_CORE = 2


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


def _short_of(region_name: str) -> str:
    region = _tables().by_full.get(region_name)
    return region.short[0] if region and region.short else region_name


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


@cache
def _tables() -> _Tables:
    prefixes: dict[str, Region] = {}
    county: dict[str, Region] = {}
    by_full: dict[str, Region] = {}
    for region in load_regions():
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


# Per process, and an indexing worker sees its own share of the subjects (indexer.pipeline._split): at a million
# records 143,000 names each, which this size nearly holds (half this size missed 278,000 times, twice as
# often; this size costs a worker 80 MiB more).
@lru_cache(maxsize=131072)
def analyze_name(name: str) -> NameParts:
    """Analyse a subject name into its parts and matching key.

    Traditional, full-width and bracket variants of one name give the same result, because the name is
    normalised first. Bracketed regions and qualifiers (（中国）, （集团）, （普通合伙）) are set aside.
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
    )


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
