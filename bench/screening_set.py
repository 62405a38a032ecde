"""The project's labelled screening set, built from the subjects of an indexed corpus.

True pairs are what bidder lists really contain: the exact name, another legal form, traditional
characters, a typo (a character lost or doubled outside the 字号), a region dropped or shortened, a short
form (字号 + the head of the industry word) and a former name; each expects the subject's code. Near
misses change one character of the 字号 to a name no subject has; they expect no confident match.

Ambiguous pairs are left out, because for them the honest answer is "review": a subject whose name, up to
its legal form, another subject also carries (the generator reuses names more than registries allow), and
a variant without its region when another subject shares the 字号 and industry words.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import opencc

from analyzers.names import analyze_name
from stores.base import Subject

KINDS = ("exact", "legal_form", "traditional", "typo", "region", "short_form", "former_name", "near_miss")
_FORMS = {"有限责任公司": "有限公司", "股份有限公司": "股份公司", "有限公司": "有限责任公司"}


@dataclass(frozen=True, slots=True)
class Pair:
    kind: str
    query: str
    expected_code: str  # "" for a near miss: no subject should be confidently matched


def _legal_form_variant(name: str) -> str | None:
    for old, new in _FORMS.items():
        if name.endswith(old):
            return name[: -len(old)] + new
    return None


def build_set(subjects: Iterable[Subject], per_kind: int = 100, seed: int = 11) -> list[Pair]:
    """Up to ``per_kind`` pairs of each kind, deterministic for a given corpus and seed."""
    rng = random.Random(seed)
    to_traditional = opencc.OpenCC("s2t")
    companies, keys, places = [], defaultdict(set), defaultdict(set)
    for s in subjects:
        parts = analyze_name(s.name)
        keys[parts.key].add(s.code)
        places[(parts.key, parts.regions)].add(s.code)
        if s.category != "person" and len(s.code) == 18 and "*" not in s.code and parts.legal_form and \
                len(parts.core) >= 2 and parts.industry:
            companies.append((s, parts))
    companies.sort(key=lambda c: c[0].key)
    rng.shuffle(companies)
    chars = sorted({c for s, p in companies for c in p.core})
    pairs: dict[str, list[Pair]] = defaultdict(list)

    def add(kind: str, query: str | None, code: str) -> None:
        if query and len(pairs[kind]) < per_kind:
            pairs[kind].append(Pair(kind, query, code))

    for s, p in companies:
        if places[(p.key, p.regions)] != {s.code}:
            continue  # another subject with the same name up to its legal form: only a person can tell them apart
        unique = keys[p.key] == {s.code}
        add("exact", s.name, s.code)
        add("legal_form", _legal_form_variant(s.name), s.code)
        add("traditional", to_traditional.convert(s.name), s.code)
        cut = rng.randrange(len(p.industry))
        add("typo", s.name.replace(p.industry, p.industry[:cut] + p.industry[cut + 1:], 1) if len(p.industry) > 2
            else s.name.replace(p.legal_form, p.legal_form[:-1], 1), s.code)
        if unique and p.regions:
            add("region", rng.choice([p.core + p.industry + p.legal_form, p.region_short + p.core + p.industry]),
                s.code)
        if unique and len(p.industry) >= 2:
            add("short_form", p.core + p.industry[:2], s.code)
        former = [n for n in s.names if n != s.name and analyze_name(n).key != p.key]
        if former:
            add("former_name", former[0], s.code)
        at = rng.randrange(len(p.core))
        for _ in range(10):
            core = p.core[:at] + rng.choice(chars) + p.core[at + 1:]
            if core != p.core and core + p.industry not in keys:
                add("near_miss", s.name.replace(p.core, core, 1), "")
                break
    return [pair for kind in KINDS for pair in pairs[kind]]


def evaluate(pairs: list[Pair], results: list[dict[str, Any]]) -> dict[str, Any]:
    """recall@1 over true pairs (a confident match to the expected code), precision over every confident
    match, and the share sent to review — overall and per kind."""
    per_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    confident = correct = positives = found = 0
    for pair, result in zip(pairs, results, strict=True):
        stats = per_kind[pair.kind]
        stats["n"] += 1
        matched = result["match"]["code"] if result["verdict"] in ("hit", "clear") and result["match"] else None
        stats["review"] += result["verdict"] == "review"
        if matched is not None:
            confident += 1
            stats["confident"] += 1
            if matched == pair.expected_code:
                correct += 1
                stats["correct"] += 1
        if pair.expected_code:
            positives += 1
            found += matched == pair.expected_code
    return {
        "recall_at_1": found / positives if positives else 0.0,
        "precision": correct / confident if confident else 1.0,
        "pairs": len(pairs),
        "per_kind": {k: dict(v) for k, v in per_kind.items()},
    }
