"""Validation and classification of the identifiers found in credit records.

Every validator returns a :class:`CodeCheck` whose ``reason`` is a Chinese sentence a user can act on
(wrong length, illegal character at position N, check character should be X).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from operator import mul

from analyzers.normalize import normalize_code, normalize_text

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARS)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
# GB 11714 values: digits are themselves, letters A–Z are 10–35; the check character is a digit or X.
_ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_CHECK_CHARS = "0123456789X"
_ORG_VALUE = {c: int(c, 36) for c in _ORG_CHARS}
# Whole-code shapes built from the character sets above, so that one regex pass accepts a well-formed code.
_USCC_SHAPE = re.compile(f"[{USCC_CHARS}]{{2}}[0-9]{{6}}[{USCC_CHARS}]{{10}}")
_ORG_SHAPE = re.compile(f"[{_ORG_CHARS}]{{8}}[{_ORG_CHECK_CHARS}]")


class CodeKind(StrEnum):
    USCC = "uscc"  # 统一社会信用代码
    ORG_CODE = "org_code"  # 组织机构代码
    REG_NO = "reg_no"  # 15-digit 工商注册号
    ID_CARD = "id_card"  # 居民身份证号码
    MASKED = "masked"  # any of the above with * in it
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The outcome of checking one identifier."""

    kind: CodeKind
    normalized: str
    valid: bool
    reason: str = ""
    expected_check: str = ""


def uscc_check_char(body: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a 统一社会信用代码."""
    if len(body) != len(_USCC_WEIGHTS):
        raise ValueError(f"expected {len(_USCC_WEIGHTS)} characters, got {len(body)}")
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, body), _USCC_WEIGHTS))  # all in C: a hot path of loads
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character for the 8-character body of a 组织机构代码."""
    if len(body) != len(_ORG_WEIGHTS):
        raise ValueError(f"expected {len(_ORG_WEIGHTS)} characters, got {len(body)}")
    total = sum(map(mul, map(_ORG_VALUE.__getitem__, body), _ORG_WEIGHTS))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def reg_no_check_digit(body: str) -> str:
    """The ISO 7064 MOD 11,10 check digit for the first 14 digits of a 15-digit 工商注册号."""
    p = 10
    for c in body:
        s = (p + int(c)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def id_card_check_char(body: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def is_valid_uscc(code: str) -> bool:
    """Whether a normalised 18-character code is a valid 统一社会信用代码, without the reasons
    :func:`validate_uscc` gives and without its cache: for the hundreds of one-off variants of a mistyped code,
    which would only push the codes a load or a server sees again out of that cache."""
    return bool(_USCC_SHAPE.fullmatch(code)) and code[17] == uscc_check_char(code[:17])


@lru_cache(maxsize=65536)
def validate_uscc(raw: str) -> CodeCheck:
    """Check a 统一社会信用代码 (GB 32100-2015)."""
    code = normalize_code(raw)
    if len(code) != 18:
        return CodeCheck(CodeKind.USCC, code, False, f"统一社会信用代码应为18位，实际为{len(code)}位")
    if not _USCC_SHAPE.fullmatch(code):  # one regex pass accepts nearly every code; this finds the fault
        for i, c in enumerate(code, start=1):
            if c not in _USCC_VALUE:
                return CodeCheck(CodeKind.USCC, code, False, f"第{i}位字符“{c}”不是统一社会信用代码允许的字符")
        return CodeCheck(CodeKind.USCC, code, False, "第3至8位应为行政区划代码（数字）")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return CodeCheck(CodeKind.USCC, code, False,
                         f"校验位错误：第18位应为“{expected}”，实际为“{code[17]}”", expected)
    return CodeCheck(CodeKind.USCC, code, True)


@lru_cache(maxsize=65536)
def validate_org_code(raw: str) -> CodeCheck:
    """Check a 组织机构代码 (GB 11714), with or without the hyphen before the check character."""
    code = normalize_code(raw)
    if len(code) != 9:
        return CodeCheck(CodeKind.ORG_CODE, code, False, f"组织机构代码应为9位，实际为{len(code)}位")
    if not _ORG_SHAPE.fullmatch(code):
        i, c = next((i, c) for i, c in enumerate(code, start=1)
                    if c not in _ORG_VALUE or (i == 9 and c not in _ORG_CHECK_CHARS))
        return CodeCheck(CodeKind.ORG_CODE, code, False, f"第{i}位字符“{c}”不是组织机构代码允许的字符")
    expected = org_code_check_char(code[:8])
    if code[8] != expected:
        return CodeCheck(CodeKind.ORG_CODE, code, False,
                         f"校验位错误：第9位应为“{expected}”，实际为“{code[8]}”", expected)
    return CodeCheck(CodeKind.ORG_CODE, code, True)


def validate_reg_no(raw: str) -> CodeCheck:
    """Check a 15-digit 工商注册号 (ISO 7064 MOD 11,10)."""
    code = normalize_code(raw)
    if len(code) != 15:
        return CodeCheck(CodeKind.REG_NO, code, False, f"工商注册号应为15位，实际为{len(code)}位")
    for i, c in enumerate(code, start=1):
        if not c.isdigit():
            return CodeCheck(CodeKind.REG_NO, code, False, f"第{i}位字符“{c}”不是数字")
    expected = reg_no_check_digit(code[:14])
    if code[14] != expected:
        return CodeCheck(CodeKind.REG_NO, code, False,
                         f"校验位错误：第15位应为“{expected}”，实际为“{code[14]}”", expected)
    return CodeCheck(CodeKind.REG_NO, code, True)


def _plausible_birth_date(digits: str) -> bool:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return 1900 <= born.year <= date.today().year


def is_id_card_like(code: str) -> bool:
    """True for an 18-digit or 15-digit string laid out like a resident ID number (region + birth date).

    The check character is deliberately not required: a mistyped ID number is still personal data.
    ID numbers open with a province code (1x–8x); enterprise credit codes open with 9.
    """
    if not code or code[0] not in "12345678":
        return False
    if len(code) == 18 and code[:17].isdigit() and (code[17].isdigit() or code[17] == "X"):
        return _plausible_birth_date(code[6:14])
    if len(code) == 15 and code.isdigit():
        return _plausible_birth_date("19" + code[6:12])
    return False


def is_masked(raw: str) -> bool:
    """True when an identifier has been masked with ``*`` by its publisher."""
    return "*" in raw


def is_masked_id_number(code: str) -> bool:
    """A resident ID number as courts publish it (``4418**********1234``): 18 characters, the visible ones
    digits (the last may be X), with the birth date hidden or laid out like an ID number. Masked credit
    codes (``9114082306****333G``) hide fewer characters and open with 9."""
    if len(code) != 18 or "*" not in code or not code[:17].replace("*", "").isdigit():
        return False
    return code.count("*") >= 8 or is_id_card_like(code.replace("*", "0"))


def classify_code(raw: str) -> CodeCheck:
    """Recognise which identifier ``raw`` is and validate it.

    Lower case, embedded spaces and hyphens are accepted. A string that fits no identifier comes back
    as ``UNKNOWN`` with the reason why.
    """
    code = normalize_code(raw)
    if is_masked(code):
        ok = 6 <= len(code) <= 18 and all(c == "*" or c in _USCC_VALUE for c in code)
        return CodeCheck(CodeKind.MASKED, code, ok, "" if ok else "脱敏代码格式不正确")
    if len(code) == 18:
        uscc = validate_uscc(code)
        if is_id_card_like(code):
            # An all-digit ID number passes the USCC checksum about once in 31; its own check decides.
            ok = id_card_check_char(code[:17]) == code[17]
            if ok or not uscc.valid:
                return CodeCheck(CodeKind.ID_CARD, code, ok, "" if ok else "身份证号码校验位错误")
        return uscc
    if len(code) == 9:
        return validate_org_code(code)
    if len(code) == 15:
        reg = validate_reg_no(code)
        if not reg.valid and is_id_card_like(code):
            return CodeCheck(CodeKind.ID_CARD, code, True)
        return reg
    return CodeCheck(CodeKind.UNKNOWN, code, False, f"无法识别的代码：长度为{len(code)}位")


def masked_code_matches(masked: str, code: str) -> bool:
    """True when a code published with * (9144180212****345G) agrees with ``code`` on every visible
    character: courts publish companies' codes masked, and such records belong to the full code's subject."""
    return "*" in masked and len(masked) == len(code) and all(m in ("*", c) for m, c in zip(masked, code, strict=True))


def looks_like_code(text: str) -> bool:
    """True when a query is plausibly meant as an identifier rather than a name or text."""
    code = normalize_code(text)
    return 8 <= len(code) <= 20 and bool(re.fullmatch(r"[0-9A-Z*]+", code)) and any(c.isdigit() for c in code)


def mask_id_number(value: str) -> str:
    """Mask a personal ID number for public display: ``441802199001011234`` → ``4418**********1234``."""
    code = normalize_code(value)
    if len(code) <= 8:
        return "*" * len(code)
    return code[:4] + "*" * (len(code) - 8) + code[-4:]


# A run of digits (ASCII or full-width) in which single spaces or hyphens may separate groups, long enough to hold
# a resident ID number: how people write one (4418 0219 7505 0505 07, 441802-19750505-0507), whatever comes
# before or after it (ID441802…, 张三441802…, …0507号).
_DIGIT = "0-9\uff10-\uff19"
_SEPARATORS = frozenset(" \u3000-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d")
_SEPARATOR = re.escape("".join(sorted(_SEPARATORS)))
_ID_RUN = re.compile(f"[{_DIGIT}](?:[{_SEPARATOR}]?[{_DIGIT}])*(?:[{_SEPARATOR}]?[XxＸｘ])?")
_ID_RUN_MIN = 15
# Most texts hold no run of 15 digits at all: one search tells.
_LONG_RUN = re.compile(f"[{_DIGIT}](?:[{_SEPARATOR}]?[{_DIGIT}]){{{_ID_RUN_MIN - 1}}}")
_ASCII_DIGITS = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")


def _id_windows(digits: str, group_starts: set[int], group_ends: set[int]) -> Iterator[tuple[int, int]]:
    """The (start, end) of each resident ID number in a run of ``digits`` whose groups start and end at the given
    offsets: an 18- or 15-character number laid out like an ID that fills whole groups, or an 18-character one
    with a correct check character anywhere (an ID number glued to other digits)."""
    start = 0
    while start <= len(digits) - _ID_RUN_MIN:
        for size in (18, 15):
            window = digits[start:start + size]
            if len(window) < size or "X" in window[:-1] or (size == 15 and "X" in window):
                continue
            whole = start in group_starts and start + size in group_ends
            if is_id_card_like(window) and (whole or (size == 18 and id_card_check_char(window[:17]) == window[17])):
                yield start, start + size
                start += size
                break
        else:
            start += 1


def mask_id_numbers_in_text(text: str) -> str:
    """Mask every resident ID number inside free text, however it is spelt: full-width digits, groups split by
    spaces or hyphens, glued to a name, a letter or other digits.

    Errs towards masking: an all-digit string laid out like an ID number is masked even when it also
    passes the credit-code checksum, since showing an ID number costs far more than hiding a code.
    """
    if not text or not _LONG_RUN.search(text):
        return text
    pieces: list[str] = []
    last = 0
    for run in _ID_RUN.finditer(text):
        if run.end() - run.start() < _ID_RUN_MIN:
            continue
        # The run's digits, each with its position in the text, and where its groups start and end.
        positions = [run.start() + i for i, c in enumerate(run.group()) if c not in _SEPARATORS]
        digits = "".join(text[p] for p in positions).translate(_ASCII_DIGITS).upper()
        starts = {0} | {i for i in range(1, len(positions)) if positions[i] != positions[i - 1] + 1}
        ends = {len(positions)} | {i for i in starts if i}
        for begin, end in _id_windows(digits, starts, ends):
            pieces += [text[last:positions[begin]], mask_id_number(digits[begin:end])]
            last = positions[end - 1] + 1
    return "".join(pieces) + text[last:] if pieces else text


# Decision and case numbers: an issuer prefix, a year in brackets, then a serial ending in 号
# (清市监罚〔2023〕12号, (2019)浙0111执286号, 粤食药监许〔2021〕第0035号).
_DOC_NUMBER = re.compile(r"^[^\s()]{0,30}\((?:19|20)\d{2}\)[^\s()]{0,30}?第?\d+号?$")
# Departments also write the year without brackets (清环罚2026第96号, 清环罚202696号 is too ambiguous): an issuer
# abbreviation in Chinese, a year, 第 or not, a serial, 号.
_BARE_DOC_NUMBER = re.compile(r"^([\u4e00-\u9fff]{1,12}?(?:字)?)((?:19|20)\d{2})(第?)(\d{1,6})号$")
_BRACKETED_PARTS = re.compile(r"^([^\s()]{0,30})\(((?:19|20)\d{2})\)(第?)(\d{1,6})号$")


def normalize_document_number(raw: str) -> str:
    """Normalise a 决定书文号 / 案号: brackets unified, spaces removed, case folded."""
    return normalize_text(raw).replace(" ", "").upper()


def looks_like_document_number(text: str) -> bool:
    """True for a decision or case number such as ``清市监罚〔2023〕12号``, ``(2019)浙0111执286号`` or
    ``清环罚2026第96号``."""
    normalized = normalize_document_number(text)
    return bool(_DOC_NUMBER.match(normalized) or _BARE_DOC_NUMBER.match(normalized))


def document_number_forms(number: str) -> list[str]:
    """The spellings under which one 文书号 may be filed, the given one first: with the year bracketed or bare,
    with 第 before the serial or without (清环罚(2026)96号, 清环罚2026第96号 …)."""
    normalized = normalize_document_number(number)
    m = _BARE_DOC_NUMBER.match(normalized) or _BRACKETED_PARTS.match(normalized)
    if not m:
        return [normalized]
    issuer, year, _, serial = m.groups()
    forms = [f"{issuer}({year}){serial}号", f"{issuer}({year})第{serial}号"]
    if issuer:  # a bare year needs the issuer in front to be told from the serial
        forms += [f"{issuer}{year}第{serial}号", f"{issuer}{year}{serial}号"]
    return list(dict.fromkeys([normalized, *forms]))


_CODE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{18}|[0-9A-Za-z]{8}-?[0-9A-Za-z])(?![0-9A-Za-z])")
_DOC_IN_TEXT = re.compile(r"\((?:19|20)\d{2}\)[^\s()，。,;；？?！!]{0,30}?第?\d+号")
_DOC_PREFIX_CHARS = 12


def find_codes(text: str) -> list[str]:
    """Valid 统一社会信用代码 and 组织机构代码 written inside free text (91441802MA4UJ3XK72 的处罚), normalised,
    in order of appearance; resident ID numbers are never returned."""
    found: list[str] = []
    for m in _CODE_IN_TEXT.finditer(normalize_text(text).upper()):
        check = classify_code(m.group(1))
        if check.valid and check.kind in (CodeKind.USCC, CodeKind.ORG_CODE) and not is_id_card_like(check.normalized) \
                and check.normalized not in found:
            found.append(check.normalized)
    return found


def find_document_numbers(text: str) -> list[str]:
    """Candidate 文书号 / 案号 inside free text, longest first for each: the issuer prefix before the bracketed
    year cannot be told from the words before it (查询清市监罚〔2023〕12号), so every prefix of up to twelve
    characters is a candidate for the store to confirm."""
    normalized = normalize_document_number(text)
    candidates: list[str] = []
    for m in _DOC_IN_TEXT.finditer(normalized):
        head = normalized[max(0, m.start() - _DOC_PREFIX_CHARS):m.start()]
        head = re.split(r"[\s()，。,;；？?！!]", head)[-1]
        candidates.extend(head[i:] + m.group() for i in range(len(head) + 1))
    return list(dict.fromkeys(candidates))
