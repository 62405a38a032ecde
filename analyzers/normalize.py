"""Text normalisation shared by indexing and querying.

The same function must run on both sides, so that a record indexed from a traditional-character,
full-width upload is found by a simplified, half-width query and vice versa.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Brackets that departments use interchangeably in names and document numbers. NFKC already folds the
# full-width （） and ［］; the CJK tortoise-shell and lenticular brackets survive NFKC, so map them here.
_BRACKET_MAP = {"〔": "(", "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")", "〖": "(", "〗": ")",
                "｛": "(", "｝": ")", "{": "(", "}": ")", "﹝": "(", "﹞": ")", "〘": "(", "〙": ")"}
# Applied as two substitutions: translating a Chinese string through a table cost twice as much as both.
_OPENING = re.compile("[" + re.escape("".join(k for k, v in _BRACKET_MAP.items() if v == "(")) + "]")
_CLOSING = re.compile("[" + re.escape("".join(k for k, v in _BRACKET_MAP.items() if v == ")")) + "]")
# Characters that are invisible in a browser but break equality: zero-width joiners, BOM, soft hyphen.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f]")
# Either of the above: text without any passes through unchanged.
_UNUSUAL = re.compile(f"[{re.escape(''.join(_BRACKET_MAP))}]|{_INVISIBLE.pattern}")
# Variant characters that OpenCC's t2s table keeps as they are but that people use for the same
# simplified character in names (淸 is a common variant of 清 in older registrations).
_VARIANTS = str.maketrans({"淸": "清", "敎": "教", "麪": "面", "爲": "为", "綫": "线", "衆": "众"})

_converter = opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified ones.

    Text that encodes in GB2312 contains no traditional characters, which is the common case; it skips
    the converter entirely so that indexing pays for OpenCC only on the rare traditional input.
    """
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return str(_converter.convert(text.translate(_VARIANTS)))
    return text


def _unify_brackets(text: str) -> str:
    return _CLOSING.sub(")", _OPENING.sub("(", text))


def normalize_text(text: str) -> str:
    """NFKC (full-width to half-width), invisible characters removed, brackets unified to ``()``,
    traditional to simplified, Latin letters lower-cased, runs of white space folded to one space."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        # Most text has neither odd brackets nor invisible characters: one search decides that.
        if _UNUSUAL.search(text):
            text = _unify_brackets(_INVISIBLE.sub("", text))
        text = to_simplified(text)
    elif _UNUSUAL.search(text):
        text = _unify_brackets(_INVISIBLE.sub("", text))
    # str.split() splits on exactly the characters that \s matches.
    return " ".join(text.split()).lower()


_CODE_SEPARATORS = re.compile(r"[\s\-_]")


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """Normalise a subject name: :func:`normalize_text` with every space removed.

    Cached because the same subject name recurs in many records of a corpus.
    """
    return normalize_text(name).replace(" ", "")


def normalize_code(code: str) -> str:
    """Upper-case a code and remove spaces and hyphens (``5526 9853-1`` → ``552698531``)."""
    if code.isascii():
        # Most codes arrive clean: one C call decides that, where the substitution costs a regex pass.
        return code.upper() if code.isalnum() else _CODE_SEPARATORS.sub("", code).upper()
    return _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", code)).upper()
