"""Parsing of the value formats departments send: dates in every format seen, amounts in 万元 or yuan.

Each parser raises :class:`ValueProblem` with a Chinese reason; the caller adds file, row and field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

OPEN_ENDED_WORDS = frozenset({"长期", "永久", "长期有效", "永久有效", "无期限", "无固定期限"})
_EXCEL_EPOCH = date(1899, 12, 30)
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?.*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$")
_EARLIEST = date(1949, 10, 1)
_LATEST = date(2100, 12, 31)


class ValueProblem(ValueError):
    """A value that cannot be read; the message is the reason in Chinese."""


def parse_date(raw: object) -> date | None:
    """Parse a date; ``None`` for an open-ended validity (长期, 永久) or an empty value.

    Accepts 2023-05-01, 2023/5/1, 20230501, 2023年05月01日, 2023.05.01, with or without a time, Excel
    serial numbers, Unix timestamps in seconds or milliseconds, and datetime objects from XLSX cells.
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text or text in OPEN_ENDED_WORDS:
        return None
    found: date | None = None
    try:
        if (m := _YMD.match(text)) or (m := _COMPACT.match(text)):
            found = date(int(m[1]), int(m[2]), int(m[3]))
        elif re.fullmatch(r"\d{12,13}", text):
            found = datetime.fromtimestamp(int(text) / 1000, tz=UTC).date()
        elif re.fullmatch(r"\d{9,10}", text):
            found = datetime.fromtimestamp(int(text), tz=UTC).date()
        elif re.fullmatch(r"\d{4,5}(\.\d+)?", text):
            found = _EXCEL_EPOCH + timedelta(days=int(float(text)))
    except (ValueError, OverflowError) as exc:
        raise ValueProblem(f"日期“{text}”不存在") from exc
    if found is None:
        raise ValueProblem(f"无法识别的日期格式“{text}”")
    if not _EARLIEST <= found <= _LATEST:
        raise ValueProblem(f"日期“{text}”超出合理范围（1949年至2100年）")
    return found


def is_open_ended(raw: object) -> bool:
    """True for 长期 / 永久 and the like."""
    return isinstance(raw, str) and raw.strip() in OPEN_ENDED_WORDS


def parse_amount_wan(raw: object) -> float | None:
    """Parse an amount given in 万元 and return yuan (``0.2`` → ``2000.0``).

    A value written with its own unit is honoured: ``2000元`` stays 2000 yuan, ``0.2万元`` is 2000.
    """
    if raw is None:
        return None
    if isinstance(raw, int | float):
        text = repr(raw)
    else:
        text = str(raw).strip().replace(",", "").replace("，", "").replace(" ", "")
    if not text:
        return None
    factor = Decimal(10000)
    if text.endswith("万元"):
        text = text[:-2]
    elif text.endswith("元"):
        text, factor = text[:-1], Decimal(1)
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueProblem(f"金额“{raw}”不是数字") from exc
    if value < 0:
        raise ValueProblem(f"金额“{raw}”不能为负数")
    if not value.is_finite():
        raise ValueProblem(f"金额“{raw}”不是有限数值")
    return float((value * factor).quantize(Decimal("0.01")))
