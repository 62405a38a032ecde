"""Query understanding for the one search box: is it a code, a document number, a name or a question?"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from analyzers.codes import (
    USCC_CHARS,
    CodeKind,
    classify_code,
    is_valid_uscc,
    looks_like_code,
    looks_like_document_number,
    normalize_document_number,
)
from analyzers.names import parse_name
from analyzers.normalize import normalize_code, normalize_name, normalize_text
from analyzers.tokens import query_tokens
from synonyms import load_domain_terms


class QueryKind(StrEnum):
    CODE = "code"
    DOCUMENT_NUMBER = "document_number"
    NAME = "name"
    QUESTION = "question"  # answered as /v1/ask answers it
    TEXT = "text"


# What makes a query a question (or a request) rather than words to search: a question mark, a sentence-final
# particle, an interrogative, or a request to look something up.
_QUESTION = re.compile(r"[？?]|[吗呢]$|有没有|有无|是否|是不是|多少|几家|几条|几个|几次|几起|哪些|哪个|哪家|哪几|"
                       r"什么|怎么|怎样|如何|为什么|请问|能否|可不可以|列出|列举|查一下|帮我|告诉我")


@dataclass(slots=True)
class Understood:
    """How a query was understood; ``maybe_name`` marks a short text query that could also be a name
    (阳山康泰食品: 食品 is an industry word and a topic), which the index decides."""

    kind: QueryKind
    normalized: str
    code_kind: str = ""  # uscc, org_code, reg_no when kind is CODE
    code_valid: bool = True
    code_reason: str = ""
    tokens: list[str] = field(default_factory=list)
    maybe_name: bool = False


_TOPIC_WORDS = frozenset(t for g in load_domain_terms() for t in g.terms)


def understand(query: str) -> Understood:
    """Classify a search-box query and normalise it for its kind."""
    text = normalize_text(query)
    if looks_like_code(query):
        check = classify_code(query)
        if check.kind in (CodeKind.USCC, CodeKind.ORG_CODE, CodeKind.REG_NO) or len(check.normalized) in (17, 18, 19):
            return Understood(QueryKind.CODE, check.normalized, check.kind.value, check.valid, check.reason)
    # Other identifiers (承诺编码, 许可编号 such as JY44182026000278) are looked up as document numbers.
    if looks_like_document_number(query) or looks_like_code(query):
        return Understood(QueryKind.DOCUMENT_NUMBER, normalize_document_number(query))
    # Not the cached analyze_name: that cache is sized for the names a load repeats, and every distinct query
    # kept in it would grow a server's memory until it is full.
    parts = parse_name(query)
    compact = normalize_name(query)
    # A registered name ends with its legal form; a question that quotes one goes on after it.
    if _QUESTION.search(text) and not (parts.legal_form and compact.endswith(parts.legal_form)):
        return Understood(QueryKind.QUESTION, text)
    tokens = query_tokens(query)
    topical = any(tok in _TOPIC_WORDS for tok in tokens)
    # A name is short, has no spaces or sentence punctuation, and either carries a legal form or names no
    # topic of the domain; anything else is searched as text.
    if parts.legal_form or (len(compact) <= 16 and not topical and " " not in text
                            and not any(p in text for p in "，。？?！!、")):
        return Understood(QueryKind.NAME, compact, tokens=tokens)
    plain = " " not in text and not any(p in text for p in "，。？?！!、")
    return Understood(QueryKind.TEXT, text, tokens=tokens,
                      maybe_name=plain and len(compact) <= 16 and bool(parts.industry) and len(parts.core) >= 2)


def one_edit_codes(code: str) -> list[str]:
    """Valid 统一社会信用代码 one edit away from ``code`` (a character changed, dropped, added or two
    neighbours swapped): the candidates for "did you mean"."""
    code = normalize_code(code)
    variants: set[str] = set()
    if len(code) == 18:
        for i in range(18):
            variants.update(code[:i] + c + code[i + 1:] for c in USCC_CHARS if c != code[i])
        variants.update(code[:i] + code[i + 1] + code[i] + code[i + 2:] for i in range(17))
    elif len(code) == 17:
        for i in range(18):
            variants.update(code[:i] + c + code[i:] for c in USCC_CHARS)
    elif len(code) == 19:
        variants.update(code[:i] + code[i + 1:] for i in range(19))
    variants.discard(code)
    return sorted(filter(is_valid_uscc, variants))
