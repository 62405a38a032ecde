"""The analysis step of indexing: a canonical record becomes the pre-analysed document a store keeps.

Stores never analyse text themselves; they receive the tokens made here by the same ``analyzers`` code
that analyses queries, so indexing and search cannot disagree. The document is flat (strings and
pre-joined token streams) because it crosses from the analysis worker processes to the writing process,
and pickling a flat object is several times cheaper than pickling the record and its token lists.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import orjson

from analyzers.names import analyze_name, name_bigrams
from analyzers.pinyin import pinyin_of_normalized
from analyzers.tokens import index_tokens
from indexer.model import Record, RecordType, Status, iso_date, record_from_dict, subject_key
from indexer.rows import TEXT_FIELDS
from synonyms import dictionary_version

# Bumped when analysis output changes in a way the dictionaries do not capture: it keys the content hash
# with them, so reloading the same files re-analyses every record (2: the semantic text was added; 3: the
# body is orjson's encoding of the record itself).
ANALYSIS_VERSION = "3"
# Where the fields that corrections or the load itself change begin in a record's body: they are the last
# fields of a Record, and the content hash covers what comes before them.
_VOLATILE_START = b',"status":'

# What a record is about, for semantic search: the descriptive fields of each type, after its type label
# and the licence's name (a licence whose content is 道路普通货物运输 is better described with its name).
SEMANTIC_FIELDS: dict[RecordType, tuple[str, ...]] = {
    RecordType.PENALTY: ("violation_type", "facts", "content"),
    RecordType.LICENSING: ("document_name", "project_name", "content"),
    RecordType.DISHONEST: ("category", "duty"),
    RecordType.COMMITMENT: ("category", "reason", "content"),
}


class AnalysedRecord(NamedTuple):
    """A record with everything a store needs to index it.

    A named tuple: documents cross from the analysis workers to the writer by the thousand, and a batch of
    plain tuples pickles in less than half the time of one of dataclass instances (whose constructor runs
    once per document when it is unpickled)."""

    id: str
    record_type: str
    subject_key: str
    subject_name: str
    subject_category: str
    subject_code: str
    org_code: str
    reg_no: str
    document_number: str
    decision_date: str | None
    publish_until: str | None
    authority: str
    district: str
    category: str
    amount: float | None
    audience: str
    # The three large fields are UTF-8 bytes, as SQLite stores text: they cross from the analysis workers to
    # the writer and into the store without being decoded and encoded again on the way.
    name_tokens: bytes  # space-separated
    text_tokens: bytes  # space-separated
    suggest_forms: tuple[str, ...]  # prefixes of these find the subject in autocomplete
    semantic_text: str  # what an encoder embeds ("" when the record describes nothing)
    semantic_key: str  # digest of semantic_text: records with the same text share one vector
    content_hash: str  # what the source said, so a reload can tell unchanged from updated
    body: bytes  # the record as JSON

    @property
    def record(self) -> Record:
        return record_from_dict(orjson.loads(self.body))


def encode(record: Record) -> tuple[str, bytes]:
    """The content hash and JSON body of a record, from one encoding: the hash covers the body up to the
    volatile fields (status, source position) and is keyed with the dictionaries' version, on which the
    tokens depend."""
    # orjson encodes the dataclass, its enums and dates in C (a third less time than building a dict for it);
    # sorted keys give the details one order whatever the column order of the upload, so the hash is stable.
    body = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    content = body[:body.rindex(_VOLATILE_START)]
    digest = hashlib.blake2b(content, digest_size=12, key=(dictionary_version() + ANALYSIS_VERSION).encode())
    return digest.hexdigest(), body


def with_status(body: str | bytes, status: Status, reason: str, when: date | None) -> str:
    """A record body with its status replaced (a stored correction applied to a reloaded row)."""
    data = orjson.loads(body)
    data.update(status=status.value, status_reason=reason, status_date=iso_date(when))
    return orjson.dumps(data).decode()


@lru_cache(maxsize=131072)  # as analyze_name's
def suggest_forms(name: str) -> tuple[str, ...]:
    """The spellings under which autocomplete finds a subject: the full normalised name, the name without
    its region, short region + name, and the full pinyin and initials of the last two."""
    parts = analyze_name(name)
    body = parts.core + parts.industry
    forms = {parts.normalized, body, parts.region_short + body}
    forms.update(pinyin_of_normalized(parts.core, parts.industry))
    forms.update(pinyin_of_normalized(parts.region_short, parts.core, parts.industry))
    return tuple(sorted(f for f in forms if f))


# jieba cuts text into independent blocks at punctuation and spaces, so analysing clause by clause gives
# the same tokens as analysing the whole text (tests/test_analysis.py checks it).
_CLAUSE = re.compile(r"[，；。、,;：:！？!?\s]+")


def text_tokens(record: Record) -> list[str]:
    """Index tokens of a record's descriptive fields, analysed clause by clause with a cache: legal bases,
    violation types and boilerplate clauses (当事人…未明码标价) repeat across thousands of records while the
    clause with an amount or a date varies, so most clauses are analysed once per process."""
    tokens: list[str] = []
    details = record.details
    for name in TEXT_FIELDS[record.record_type]:
        value = details.get(name)
        if value:
            tokens.extend(_value_tokens(value))
    return tokens


@lru_cache(maxsize=16384)
def _value_tokens(value: str) -> tuple[str, ...]:
    # Whole values repeat too (categories, legal bases, licence contents): one lookup instead of a split.
    # Kept small: every record also brings values that never recur (facts), and each worker holds its own.
    return tuple(token for clause in _CLAUSE.split(value) if clause for token in _clause_tokens(clause))


@lru_cache(maxsize=262144)
def _clause_tokens(clause: str) -> tuple[str, ...]:
    return tuple(index_tokens(clause))


def semantic_text(record: Record) -> str:
    """The text an encoder embeds: the record type's label, then its descriptive fields."""
    values = [record.details.get(name, "") for name in SEMANTIC_FIELDS[record.record_type]]
    described = "；".join(dict.fromkeys(v for v in values if v))
    return f"{record.record_type.label}：{described}" if described else ""


def semantic_key(text: str) -> str:
    """The key under which a semantic text's vector is cached."""
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest() if text else ""


def analyse(record: Record) -> AnalysedRecord:
    """Analyse one record with the shared analyzers."""
    parts = analyze_name(record.subject_name)
    digest, body = encode(record)
    semantic = semantic_text(record)
    return AnalysedRecord(
        id=record.id,
        record_type=record.record_type.value,
        subject_key=subject_key(record),
        subject_name=record.subject_name,
        subject_category=record.subject_category.value,
        subject_code=record.subject_code,
        org_code=record.details.get("org_code", ""),
        reg_no=record.details.get("reg_no", ""),
        document_number=record.document_number,
        decision_date=iso_date(record.decision_date),
        publish_until=iso_date(record.publish_until),
        authority=record.authority,
        district=record.district,
        category=record.category,
        amount=record.amount,
        audience=record.audience.value,
        name_tokens=" ".join(name_bigrams(parts.normalized)).encode(),
        text_tokens=" ".join(text_tokens(record)).encode(),
        suggest_forms=suggest_forms(record.subject_name),
        semantic_text=semantic,
        semantic_key=semantic_key(semantic),
        content_hash=digest,
        body=body,
    )
