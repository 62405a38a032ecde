"""The built-in FAQ of the credit rules (faq.toml): which entry a question asks, if any."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from analyzers.normalize import normalize_text

_NOT_TEXT = re.compile(r"[\W_]+")
# A question about the rules asks how, what, whether or how long.
_ASKING = ("怎么", "如何", "怎样", "什么", "吗", "多久", "多长", "哪些", "能不能", "可以", "能否", "为什么", "为何",
           "是否", "办法", "流程", "需要", "几年", "期限", "要求")
_MIN_SIMILARITY = 0.2


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    title: str
    requires: tuple[tuple[str, ...], ...]
    examples: tuple[str, ...]
    answer: str
    rule: str


@cache
def load_faq() -> tuple[FaqEntry, ...]:
    """The entries of faq.toml."""
    data = tomllib.loads(resources.files("search_api.conversation").joinpath("faq.toml").read_text(encoding="utf-8"))
    return tuple(FaqEntry(e["id"], e["title"], tuple(tuple(g) for g in e["requires"]), tuple(e["examples"]),
                          e["answer"].strip(), e["rule"]) for e in data["entry"])


def entry(entry_id: str) -> FaqEntry:
    return next(e for e in load_faq() if e.id == entry_id)


def _bigrams(text: str) -> set[str]:
    text = _NOT_TEXT.sub("", normalize_text(text))
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def dice(a: str, b: str) -> float:
    """Character-bigram Dice similarity of two texts."""
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


Similarity = Callable[[str, Sequence[str]], float]


def match_faq(question: str, similarity: Similarity | None = None) -> FaqEntry | None:
    """The entry whose required words the question has and whose examples it is closest to; None when the
    question does not ask about the rules. ``similarity`` (question, examples) → [0, 1] replaces the
    character overlap when a sentence-transformers model is configured (the better of the two counts)."""
    text = normalize_text(question)
    best: tuple[float, FaqEntry] | None = None
    for candidate in load_faq():
        if not all(any(term in text for term in group) for group in candidate.requires):
            continue
        score = max(dice(text, example) for example in candidate.examples)
        if similarity is not None:
            score = max(score, similarity(text, candidate.examples))
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is None:
        return None
    asking = any(word in text for word in _ASKING)
    return best[1] if best[0] >= _MIN_SIMILARITY or asking else None
