"""Amount conditions written in Chinese questions: 罚款超过10万元, 5000元以上, 不少于一万元, 低于2千元 …,
read as inclusive bounds in yuan."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A stated fine is a whole number of yuan or has fen at most: "more than N" is N plus one fen.
_FEN = 0.01
_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_NUMBER = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千]+)\s*(万|千|百)?\s*(?:元|块)"
_ABOVE = "超过|高于|大于|多于|逾"
_AT_LEAST = "不少于|不低于|至少|达到|满"
_BELOW = "低于|少于|小于|不到|不足"
_AT_MOST = "不超过|不高于|不多于|最多|至多"
_PATTERNS = [
    (re.compile(rf"({_ABOVE})\s*{_NUMBER}"), "above"),
    (re.compile(rf"({_AT_LEAST})\s*{_NUMBER}"), "at_least"),
    (re.compile(rf"({_BELOW})\s*{_NUMBER}"), "below"),
    (re.compile(rf"({_AT_MOST})\s*{_NUMBER}"), "at_most"),
    (re.compile(rf"(){_NUMBER}\s*(?:以上|及以上)"), "at_least"),
    (re.compile(rf"(){_NUMBER}\s*(?:以下|及以下|以内)"), "at_most"),
]


@dataclass(frozen=True, slots=True)
class AmountBound:
    """Inclusive bounds in yuan (None: open), and the words they were read from."""

    minimum: float | None
    maximum: float | None
    text: str


def _chinese_number(text: str) -> float:
    """一万, 两千五百, 十 … as a number (units below 万 only, which is what questions about fines use)."""
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += (digit or 1) * _UNITS[char]
            digit = 0
    return float(total + digit)


def _yuan(number: str, unit: str | None) -> float:
    value = float(number) if number[0].isdigit() else _chinese_number(number)
    return value * _UNITS.get(unit or "", 1)


def find_amount(text: str) -> AmountBound | None:
    """The first amount condition in ``text``, or None."""
    for pattern, kind in _PATTERNS:
        if m := pattern.search(text):
            yuan = _yuan(m.group(2), m.group(3))
            bounds = {"above": (yuan + _FEN, None), "at_least": (yuan, None), "below": (None, yuan - _FEN),
                      "at_most": (None, yuan)}[kind]
            return AmountBound(*bounds, text=m.group().strip())
    return None

