"""Re-ranking of subject names: exact name > same 字号 with another legal form or region > the same 字号 with
a slip elsewhere > abbreviation > fuzzy. Scores are in [0, 1] and come with a Chinese explanation a user can read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from analyzers.names import abbreviation_score, analyze_name
from analyzers.normalize import normalize_name
from synonyms import load_aliases


@dataclass(frozen=True, slots=True)
class NameScore:
    score: float
    explanation: str


@cache
def _aliases() -> dict[str, tuple[str, str]]:
    return {normalize_name(a.alias): (normalize_name(a.full_name), a.kind) for a in load_aliases()}


def alias_target(query: str) -> str | None:
    """The registered name a listed abbreviation or former name stands for (浦发银行 → 上海浦东发展银行…)."""
    found = _aliases().get(normalize_name(query))
    return found[0] if found else None


def score_name(query: str, candidate: str) -> NameScore:
    """How well a typed name matches a subject's registered name."""
    q, c = analyze_name(query), analyze_name(candidate)
    if q.normalized == c.normalized:
        return NameScore(1.0, "名称完全一致")
    alias = _aliases().get(q.normalized)
    if alias and alias[0] == c.normalized:
        return NameScore(0.97, "曾用名一致" if alias[1] == "former" else "登记的简称")
    if q.key == c.key:
        conflict = bool(q.regions and c.regions and not set(q.regions) & set(c.regions))
        if conflict:
            return NameScore(0.85, "字号相同，但地区不同")
        differs = [w for w, same in (("组织形式", q.legal_form == c.legal_form),
                                     ("地区", q.regions == c.regions or not q.regions)) if not same]
        return NameScore(0.95 if differs else 0.98, f"字号相同（{'、'.join(differs)}不同）" if differs else "字号相同")
    if c.region_short and q.key == c.region_short + c.key:
        # 清新利凤机械设备 for 清远市清新区利凤机械设备有限公司: a county's short form is not stripped from a
        # query (it may be a 字号), but written before this subject's own 字号 it is the subject's county.
        return NameScore(0.95, "字号相同（地区简写）")
    # What follows the region: a slip there (建筑工 for 建筑工程, 有限公 for 有限公司) is measured without
    # the long region prefix that every neighbour shares.
    tail = fuzz.ratio(q.core + q.industry + q.legal_form, c.core + c.industry + c.legal_form) / 100
    if len(c.core) >= 2 and q.core.startswith(c.core) and tail >= 0.85:
        # The 字号 is intact: close to the same-name tiers, and closer when the region is the one written.
        score = 0.80 + 0.12 * tail + 0.04 * (q.regions == c.regions)
        return NameScore(round(score, 4), f"字号一致，其余部分相近（相似度{tail:.0%}）")
    # An abbreviation keeps every character it uses in the full name's order, so a query with a character
    # the region, 字号 and industry lack cannot be one: skip the costlier subsequence scoring.
    abbreviation = 0.0
    if set(q.normalized) <= set(c.region_short + c.core + c.industry):
        abbreviation = abbreviation_score(q.normalized, c)
    if abbreviation >= 0.8:
        return NameScore(round(0.80 + 0.65 * (abbreviation - 0.8), 4), "简称匹配（字序一致）")
    similarity = fuzz.ratio(q.key, c.key) / 100
    return NameScore(round(0.69 * similarity, 4), f"名称相近（相似度{similarity:.0%}）")
