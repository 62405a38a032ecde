"""jieba tokenisation with the project's user dictionary, and query synonym expansion.

Index mode emits the sub-words of long words as well (建筑工程 → 建筑, 工程, 建筑工程) so that a query
cut in the coarser query mode always finds its words in the index.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache

import jieba

from analyzers.normalize import normalize_text
from synonyms import (
    load_domain_terms,
    load_industry_terms,
    load_legal_forms,
    load_regions,
    load_stopwords,
)

jieba.setLogLevel(logging.WARNING)

# Frequency given to user-dictionary words: high enough that jieba keeps them whole, as its own
# dictionary gives common two-character words a few thousand.
_USER_WORD_FREQ = 20000
_NOT_A_WORD = re.compile(r"^[\W_]+$")
# Whether the HMM guesses unknown words. Off: the HMM pass is the slowest part of jieba and the names it
# would guess are covered by the character n-grams of the name field.
_HMM = False


def user_words() -> list[str]:
    """Every word the user dictionary adds: legal forms, regions, industry and domain terms."""
    words: set[str] = set()
    for region in load_regions():
        words.add(region.full)
        words.update(s for s in region.short if len(s) >= 2)
    words.update(f.suffix for f in load_legal_forms())
    words.update(load_industry_terms())
    for group in load_domain_terms():
        words.update(group.terms)
    return sorted(w for w in words if len(w) >= 2)


@cache
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in user_words():
        tokenizer.add_word(word, freq=_USER_WORD_FREQ)
    return tokenizer


def warm_up() -> None:
    """Load jieba's dictionary now instead of on the first request."""
    _tokenizer()


def _keep(tokens: Iterable[str]) -> list[str]:
    stop = load_stopwords()
    return [t for t in tokens if t.strip() and t not in stop and not _NOT_A_WORD.match(t)]


def index_tokens(text: str) -> list[str]:
    """Tokens for the index side: normalised, jieba search mode (words plus their sub-words)."""
    if not text:
        return []
    return _keep(_tokenizer().cut_for_search(normalize_text(text), HMM=_HMM))


def query_tokens(text: str) -> list[str]:
    """Tokens for the query side: normalised, jieba precise mode."""
    if not text:
        return []
    return _keep(_tokenizer().cut(normalize_text(text), HMM=_HMM))


def words(text: str) -> list[str]:
    """Every word of a normalised text in jieba's precise mode, punctuation and stopwords included: what
    a question is made of, for the caller to classify."""
    if not text:
        return []
    return [w for w in _tokenizer().cut(normalize_text(text), HMM=_HMM) if w.strip()]


@cache
def _synonym_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for group in load_domain_terms():
        for term in group.terms:
            index[term] = tuple(dict.fromkeys((*index.get(term, ()), *group.terms)))
    return index


def expand_synonyms(token: str) -> tuple[str, ...]:
    """The token followed by its domain synonyms (罚款 → 罚款, 行政处罚, 处罚 …)."""
    group = _synonym_index().get(token)
    if not group:
        return (token,)
    return (token, *[t for t in group if t != token])


@cache
def _record_type_terms() -> dict[str, str]:
    return {t: g.record_type for g in load_domain_terms() if g.record_type for t in g.terms}


def record_type_of_term(token: str) -> str | None:
    """The record type a query word names (老赖 → dishonest), or None."""
    return _record_type_terms().get(token)
