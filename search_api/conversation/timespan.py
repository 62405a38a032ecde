"""Time ranges written in Chinese questions: 2023年, 2023年上半年, 2024年3月, 2023年第二季度, 今年, 去年,
前年, 近三年, 最近6个月, 本月, 上个月 … relative to the service's current day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "十一": 11, "十二": 12, "半": 0}
_NUMBER = r"(\d{1,2}|十[一二]?|[一二两三四五六七八九十半])"


@dataclass(frozen=True, slots=True)
class TimeSpan:
    start: date
    end: date
    text: str  # the words it was read from
    label: str  # how the answer restates it (2023年上半年, 近3年)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMERALS[text]


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _years_back(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _months_back(today: date, months: int) -> date:
    month = today.month - months
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(today.day, _month_end(year, month).day))


_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"((?:19|20)\d{2})\s*年?\s*[-至到~]\s*((?:19|20)\d{2})\s*年"), "years"),
    (re.compile(r"((?:19|20)\d{2})\s*年\s*(上半年|下半年)"), "half"),
    (re.compile(r"((?:19|20)\d{2})\s*年\s*第?([一二三四1-4])\s*季度"), "quarter"),
    (re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2}|十[一二]?|[一二三四五六七八九十])\s*月份?"), "month"),
    (re.compile(r"((?:19|20)\d{2})\s*年(?:度|以来)?"), "year"),
    (re.compile(r"(今年|本年度?|去年|上一?年度?|前年)(上半年|下半年)?"), "relative_year"),
    (re.compile(r"(?:近|最近|过去|这|前)" + _NUMBER + r"\s*(个?月|年|周)(?:内|以来|来)?"), "recent"),
    (re.compile(_NUMBER + r"\s*(个?月|年)(?:内|以来)"), "recent"),
    (re.compile(r"(本月|这个月|上个?月)"), "relative_month"),
]


def find_timespan(text: str, today: date) -> TimeSpan | None:
    """The first time range the text names, or None."""
    best: tuple[int, TimeSpan] | None = None
    for pattern, kind in _PATTERNS:
        m = pattern.search(text)
        if m is None:
            continue
        span = _read(kind, m, today)
        if span is not None and (best is None or m.start() < best[0]):
            best = (m.start(), span)
    return best[1] if best else None


def _read(kind: str, m: re.Match[str], today: date) -> TimeSpan | None:
    text = m.group(0)
    if kind == "years":
        first, last = sorted((int(m.group(1)), int(m.group(2))))
        return TimeSpan(date(first, 1, 1), date(last, 12, 31), text, f"{first}年至{last}年")
    if kind == "year":
        year = int(m.group(1))
        return TimeSpan(date(year, 1, 1), date(year, 12, 31), text, f"{year}年")
    if kind == "half":
        year = int(m.group(1))
        first = m.group(2) == "上半年"
        return TimeSpan(date(year, 1, 1) if first else date(year, 7, 1), date(year, 6, 30) if first
                        else date(year, 12, 31), text, f"{year}年{m.group(2)}")
    if kind == "quarter":
        year, quarter = int(m.group(1)), _number(m.group(2))
        start = date(year, 3 * quarter - 2, 1)
        return TimeSpan(start, _month_end(year, 3 * quarter), text, f"{year}年第{quarter}季度")
    if kind == "month":
        year, month = int(m.group(1)), _number(m.group(2))
        if not 1 <= month <= 12:
            return None
        return TimeSpan(date(year, month, 1), _month_end(year, month), text, f"{year}年{month}月")
    if kind == "relative_year":
        word = m.group(1)
        year = today.year - (2 if word == "前年" else 1 if word.startswith(("去", "上")) else 0)
        start, end = date(year, 1, 1), min(date(year, 12, 31), today)
        label = f"{year}年"
        if m.group(2):
            first = m.group(2) == "上半年"
            start, end = (date(year, 1, 1), date(year, 6, 30)) if first else (date(year, 7, 1), date(year, 12, 31))
            label += m.group(2)
        return TimeSpan(start, end, text, label)
    if kind == "recent":
        count = _number(m.group(1))
        unit = m.group(2)
        if count == 0:  # 近半年
            count, unit = 6, "个月"
        if unit == "年":
            start = _years_back(today, count)
            label = f"近{count}年"
        elif unit == "周":
            start = today - timedelta(weeks=count)
            label = f"近{count}周"
        else:
            start = _months_back(today, count)
            label = f"近{count}个月"
        return TimeSpan(start, today, text, label)
    if kind == "relative_month":
        months = 1 if m.group(1).startswith("上") else 0
        month_start = _months_back(today.replace(day=1), months)
        end = min(_month_end(month_start.year, month_start.month), today)
        return TimeSpan(month_start, end, text, f"{month_start.year}年{month_start.month}月")
    return None
