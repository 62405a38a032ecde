"""Pinyin forms of names for autocomplete: full pinyin and initials (清远恒达 → qingyuanhengda, qyhd)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from analyzers.normalize import normalize_name


@lru_cache(maxsize=262144)
def _piece(text: str) -> tuple[str, str]:
    # pypinyin is slow (tens of microseconds a character) but names are built from a small vocabulary of
    # regions, brand words and industry words, so caching per piece makes a corpus cheap.
    full = lazy_pinyin(text, errors="default")
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(full).lower(), "".join(initials).lower()


def pinyin_of_normalized(*pieces: str) -> tuple[str, str]:
    """:func:`pinyin_forms` for pieces that are already normalised and free of brackets (the parts that
    :func:`analyzers.names.analyze_name` returns), skipping normalisation."""
    full, initials = [], []
    for piece in pieces:
        if piece:
            f, i = _piece(piece)
            full.append(f)
            initials.append(i)
    return "".join(full), "".join(initials)


def pinyin_forms(*pieces: str) -> tuple[str, str]:
    """Full pinyin and initials of a name given whole or in pieces (region, core, industry), lower case,
    without separators. Non-Chinese characters are kept, so ``ABC科技`` gives ``abckeji`` and ``abckj``.

    Passing the pieces of an analysed name keeps the phrase readings of each piece (银行 → yinhang).
    """
    return pinyin_of_normalized(*(normalize_name(p).replace("(", "").replace(")", "") for p in pieces))
