"""How well a typed name matches a subject's registered name, as a score in [0, 1] with a Chinese explanation.

The scores come in tiers, each named below with what it means; screening confirms a subject at
``CONFIRM_THRESHOLD`` (0.9, the request's ``threshold``) when no other subject comes within ``TIE_GAP``, and asks
a person from ``REVIEW_FLOOR`` up. So a tier above 0.9 is one that alone can decide who a bidder is, a tier
between the two is a lead a person must confirm, and below the floor a name is not a plausible match.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq, Levenshtein

from analyzers.names import Alignment, NameParts, align, parse_name
from analyzers.normalize import normalize_name
from analyzers.pinyin import same_sound
from synonyms import load_aliases

# -- what screening does with a score ------------------------------------------------------------------------
CONFIRM_THRESHOLD = 0.9  # the default threshold: a subject confirmed on its name alone
REVIEW_FLOOR = 0.6  # below this a name is not a plausible match: nothing for a person to look at
TIE_GAP = 0.03  # another subject scoring within this of the best makes the name ambiguous: a person decides
# A short form fits many names about as well: it confirms a subject only when no other comes within this.
SHORT_FORM_GAP = 0.07
# -- the tiers ----------------------------------------------------------------------------------------------
EXACT = 1.0  # the same name once normalised (full-width, traditional, brackets)
SAME_KEY = 0.98  # the same 字号, industry words and legal form (有限公司 for 有限责任公司), region as written
REGISTERED_ALIAS = 0.97  # an abbreviation or former name listed in synonyms/aliases.txt
# The same 字号 and industry words without a legal form (山东黄金): this subject's name, or a short form of a
# longer one (山东黄金矿业股份有限公司), so no higher than the best short form.
SAME_KEY_SHORT = 0.93
SAME_KEY_OTHER_FORM = 0.95  # the same 字号 and industry words in another region's spelling or legal form
COUNTY_SHORT = 0.95  # the 字号 written after the short form of the subject's county (清新利凤机械设备)
SAME_KEY_OTHER_REGION = 0.85  # the same 字号 in another region: another company, most likely
# The 字号 intact and a slip after it (建筑工 for 建筑工程): base, plus up to TAIL for how alike the rest is, plus
# REGION when the region is the one written; a slip of a letter or two stays above the threshold.
CORE_INTACT, CORE_INTACT_TAIL, CORE_INTACT_REGION = 0.80, 0.12, 0.04
CORE_INTACT_MIN_TAIL = 0.85
# One character of the 字号 or industry words wrong, everything else the same: the likely subject, but a real
# company may differ from another by one character, so a person confirms. A homophone is the likelier slip.
SLIP_HOMOPHONE, SLIP = 0.88, 0.86
SLIP_MIN_LENGTH = 4  # in a shorter name one character is a different name
# A short form whose characters stand in order in the name (德昌股份, 龙版传媒, 沪农商行): base, plus BRAND when it
# holds the first two characters of the 字号 side by side (else HEAD when it starts there or at the region), plus
# COMPACT when it reads in one stretch (half of it in two), plus SUFFIX when it ends in the industry word or legal
# form as short names do (…股份, …电气). At best 0.93: below the same-name tiers, and as high for every name the
# short form fits as well, so that two such names leave the choice to a person. A short form that uses no
# character of the 字号 is no abbreviation of it.
ABBREVIATION = 0.80
ABBREVIATION_BRAND, ABBREVIATION_HEAD, ABBREVIATION_COMPACT, ABBREVIATION_SUFFIX = 0.06, 0.03, 0.04, 0.03
ABBREVIATION_ADDED_WORD = 0.02  # taken off when the short form holds a word the name lacks (君正集团)
# A short form that stands in order in one name only, reading at least this well, names that subject: the others
# would have to hold its characters too. Confirmed, then, at SOLE_SHORT_FORM.
SOLE_SHORT_FORM_MIN, SOLE_SHORT_FORM = 0.82, 0.92
# Leads for a person, never confirmed: what a short form may stand for when it is no abbreviation by the rules
# above. Its characters stand in order in the name but none of them in the 字号 (上海能源 for 上海大屯能源…, a
# region and an industry word); or it holds the head of the name's 字号 and adds characters the name lacks
# (海天味业 for 佛山市海天调味食品…): base, plus up to SHARE for the share of its characters found in order.
# Below ABBREVIATION, so that a short form that is an abbreviation comes first; above REVIEW_FLOOR, so that the
# subject is offered instead of a false 未发现不良记录.
IN_ORDER_NO_CORE = 0.72
CORE_HEAD_LEAD, CORE_HEAD_LEAD_SHARE = 0.66, 0.10
BARE_FORM = "公司"  # the one legal form short names end with (中微公司, 中金公司): no full name's legal form
# A branch (…分公司) for a name without one, or another branch: the same company's other office, which has
# records of its own: never confirmed on the name, shown for review.
BRANCH_CAP = 0.8
FUZZY = 0.69  # anything else: this times the similarity of the 字号 and industry words, at most 0.69


# What kind of evidence a score rests on: a short form may fit several names, and screening asks more of it.
FULL_NAME, SHORT_FORM = "full_name", "short_form"


@dataclass(frozen=True, slots=True)
class NameScore:
    score: float
    explanation: str
    kind: str = FULL_NAME


@cache
def _aliases() -> dict[str, tuple[str, str]]:
    return {normalize_name(a.alias): (normalize_name(a.full_name), a.kind) for a in load_aliases()}


def alias_target(query: str) -> str | None:
    """The registered name a listed abbreviation or former name stands for (浦发银行 → 上海浦东发展银行…)."""
    found = _aliases().get(normalize_name(query))
    return found[0] if found else None


def known_by_short_name(parts: NameParts) -> bool:
    """A joint-stock company or a group: the companies whose short names people write (listed companies must be
    股份有限公司). Among names a short form fits equally, these are shown first; it never confirms one."""
    return parts.legal_form == "股份有限公司" or "集团" in parts.normalized


def score_name(query: str | NameParts, candidate: str | NameParts) -> NameScore:
    """How well a typed name matches a subject's registered name (either as text or already analysed)."""
    return NameScorer(query if isinstance(query, NameParts) else parse_name(query))(
        candidate if isinstance(candidate, NameParts) else parse_name(candidate))


class NameScorer:
    """:func:`score_name` for one typed name against many candidates: what depends on the typed name alone is
    worked out once."""

    def __init__(self, query: NameParts) -> None:
        self.q = query
        self.alias = _aliases().get(query.normalized)
        self.regions = frozenset(query.regions)
        self.body = query.core + query.industry

    def __call__(self, c: NameParts) -> NameScore:
        found = self._tiers(c)
        if self.q.branch != c.branch and found.score > BRANCH_CAP:
            what = "分支机构不同" if self.q.branch and c.branch else "一方为分支机构"
            return NameScore(BRANCH_CAP, f"{found.explanation}，但{what}", found.kind)
        return found

    def _tiers(self, c: NameParts) -> NameScore:
        q = self.q
        if q.normalized == c.normalized:
            return NameScore(EXACT, "名称完全一致")
        if self.alias and self.alias[0] == c.normalized:
            return NameScore(REGISTERED_ALIAS, "曾用名一致" if self.alias[1] == "former" else "登记的简称")
        other_region = bool(self.regions and c.regions and self.regions.isdisjoint(c.regions))
        if q.key == c.key:
            if other_region:
                return NameScore(SAME_KEY_OTHER_REGION, "字号相同，但地区不同")
            if not q.legal_form and c.legal_form:
                return NameScore(SAME_KEY_SHORT, "字号相同（未写组织形式，也可能是其他名称的简称）", SHORT_FORM)
            differs = [w for w, same in (("组织形式", q.legal_form == c.legal_form),
                                         ("地区", q.regions == c.regions or not q.regions)) if not same]
            if differs:
                return NameScore(SAME_KEY_OTHER_FORM, f"字号相同（{'、'.join(differs)}不同）")
            return NameScore(SAME_KEY, "字号相同")
        if c.region_short and q.key == c.region_short + c.key:
            # 清新利凤机械设备 for 清远市清新区利凤机械设备有限公司: a county's short form is not stripped from a
            # query (it may be a 字号), but written before this subject's own 字号 it is the subject's county.
            return NameScore(COUNTY_SHORT, "字号相同（地区简写）")
        body = self.body
        if len(c.core) >= 2 and body.startswith(c.core) and not other_region:
            # The 字号 intact and a slip in what follows it (建筑工 for 建筑工程, 有限公 for 有限公司), measured on
            # that part alone: the 字号 every near name shares would hide a different business behind it.
            tail = fuzz.ratio(body[len(c.core):] + q.legal_form, c.industry + c.legal_form) / 100
            if tail >= CORE_INTACT_MIN_TAIL:
                score = CORE_INTACT + CORE_INTACT_TAIL * tail + CORE_INTACT_REGION * (q.regions == c.regions)
                return NameScore(round(score, 4), f"字号一致，其余部分相近（相似度{tail:.0%}）")
        if slip := _slip(q, c, body, c.core + c.industry):
            return slip
        if q.legal_form in ("", BARE_FORM) and (lead := self._short_form(c)) is not None:
            return lead
        similarity = fuzz.ratio(q.key, c.key) / 100
        return NameScore(round(FUZZY * similarity, 4), f"名称相近（相似度{similarity:.0%}）")

    def _short_form(self, c: NameParts) -> NameScore | None:
        """A typed name without a legal form (or ending in a bare 公司) read as a short form of ``c``: an
        abbreviation, or a lead for a person (IN_ORDER_NO_CORE, CORE_HEAD_LEAD); None when it is neither."""
        typed = self.q.spelled
        if (alignment := align(typed, c)) is not None:
            if alignment.core_used:
                return _abbreviation(alignment)
            return NameScore(IN_ORDER_NO_CORE, "简称的字依次出现在名称中，但不含字号，请核实", SHORT_FORM)
        if len(c.core) >= 2 and c.core[:2] in typed:
            share = LCSseq.similarity(typed, c.spelled) / len(typed)
            return NameScore(round(CORE_HEAD_LEAD + CORE_HEAD_LEAD_SHARE * share, 4),
                             f"名称的字号开头“{c.core[:2]}”在简称中，但简称另有名称中没有的字，请核实", SHORT_FORM)
        return None


def _slip(q: NameParts, c: NameParts, body_q: str, body_c: str) -> NameScore | None:
    """One character of the 字号 or industry words wrong (创合 for 创和), with the same region, legal form and
    branch: the likely subject, for a person to confirm."""
    if len(body_c) < SLIP_MIN_LENGTH or abs(len(body_q) - len(body_c)) > 1 or q.branch != c.branch:
        return None
    if (q.regions and q.regions != c.regions) or (q.legal_form and q.legal_form != c.legal_form):
        return None
    if Levenshtein.distance(body_q, body_c, score_cutoff=1) != 1:
        return None
    if len(body_q) == len(body_c):
        typed, registered = next((a, b) for a, b in zip(body_q, body_c, strict=True) if a != b)
        if same_sound(typed, registered):
            return NameScore(SLIP_HOMOPHONE, f"字号有一字同音不同（“{typed}”应为“{registered}”？），请核实")
        return NameScore(SLIP, f"字号有一字不同（“{typed}”与“{registered}”），请核实")
    return NameScore(SLIP, "字号多或少一个字，请核实")


def _abbreviation(a: Alignment) -> NameScore:
    compact = 1.0 if a.runs == 1 else 0.5 if a.runs == 2 else 0.0
    score = (ABBREVIATION + (ABBREVIATION_BRAND if a.brand_kept else ABBREVIATION_HEAD * a.at_head)
             + ABBREVIATION_COMPACT * compact + ABBREVIATION_SUFFIX * a.suffix_kept
             - ABBREVIATION_ADDED_WORD * bool(a.word_added))
    how = "（地区简称）" if a.region_abbreviation else ""
    said = "，含字号" if a.brand_kept else ""
    if a.word_added:
        said += f"，名称中无“{a.word_added}”"
    return NameScore(round(score, 4), f"简称匹配{how}：字序一致{said}", SHORT_FORM)
