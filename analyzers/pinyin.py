"""Pinyin forms of names for autocomplete: full pinyin and initials (清远恒达 → qingyuanhengda, qyhd)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

from analyzers.normalize import normalize_name

_KEPT = "\0"  # marks the runs that have no pinyin (ABC, digits, punctuation): kept whole in both forms


def _keep(run: str) -> str:
    return _KEPT + run


@lru_cache(maxsize=262144)
def _piece(text: str) -> tuple[str, str]:
    # pypinyin is slow (tens of microseconds a character) but names are built from a small vocabulary of
    # regions, brand words and industry words, so caching per piece makes a corpus cheap. One conversion
    # gives both forms: a syllable's initial is its first letter (as Style.FIRST_LETTER has it).
    syllables = lazy_pinyin(text, errors=_keep)
    full = "".join(s[1:] if s[0] == _KEPT else s for s in syllables)
    initials = "".join(s[1:] if s[0] == _KEPT else s[0] for s in syllables)
    return full.lower(), initials.lower()


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


@lru_cache(maxsize=16384)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of one character (行 → hang, xing)."""
    return frozenset(r for group in pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore") for r in group)


def same_sound(a: str, b: str) -> bool:
    """Whether two characters can be read alike (创 and 闯 both chuang): a typist's homophone slip."""
    return bool(readings(a) & readings(b))
