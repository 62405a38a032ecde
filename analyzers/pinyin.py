"""Pinyin forms of names for autocomplete: full pinyin and initials (清远恒达 → qingyuanhengda, qyhd)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from analyzers.normalize import normalize_name


@lru_cache(maxsize=65536)
def pinyin_forms(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, lower case, without separators.

    Non-Chinese characters are kept as they are, so ``ABC科技`` gives ``abckeji`` and ``abckj``.
    """
    text = normalize_name(name).replace("(", "").replace(")", "")
    full = lazy_pinyin(text, errors="default")
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(full).lower(), "".join(initials).lower()
