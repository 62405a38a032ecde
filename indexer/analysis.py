"""The analysis step of indexing: a canonical record becomes the pre-analysed document a store keeps.

Stores never analyse text themselves; they receive the tokens made here by the same ``analyzers`` code
that analyses queries, so indexing and search cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from analyzers.names import analyze_name, name_ngrams
from analyzers.pinyin import pinyin_forms
from analyzers.tokens import index_tokens
from indexer.model import Record, record_to_dict, subject_key
from indexer.rows import TEXT_FIELDS

# Fields that corrections or the load itself change; they are not part of a record's content.
_VOLATILE = ("status", "status_reason", "status_date", "source_file", "source_row")


@dataclass(slots=True)
class AnalysedRecord:
    """A record with everything a store needs to index it."""

    record: Record
    id: str
    subject_key: str
    name_key: str
    name_tokens: list[str]
    text_tokens: list[str]
    suggest_forms: list[str]  # prefixes of these find the subject in autocomplete
    content_hash: str
    body: str  # the record as JSON, made here so that the writing process only writes


def content_hash(record: Record) -> str:
    """A hash of what the source said about a record, so a reload can tell unchanged from updated."""
    data = record_to_dict(record)
    for key in _VOLATILE:
        data.pop(key, None)
    return hashlib.blake2b(json.dumps(data, ensure_ascii=False, sort_keys=True).encode(),
                           digest_size=12).hexdigest()


def record_body(record: Record) -> str:
    """The record as the JSON text stores keep."""
    return json.dumps(record_to_dict(record), ensure_ascii=False)


@lru_cache(maxsize=131072)
def suggest_forms(name: str) -> list[str]:
    """The spellings under which autocomplete finds a subject: the full normalised name, the name without
    its region, short region + name, and the full pinyin and initials of the last two."""
    parts = analyze_name(name)
    body = parts.core + parts.industry
    forms = {parts.normalized, body, parts.region_short + body}
    forms.update(pinyin_forms(parts.core, parts.industry))
    forms.update(pinyin_forms(parts.region_short, parts.core, parts.industry))
    return sorted(f for f in forms if f)


def text_tokens(record: Record) -> list[str]:
    """Index tokens of a record's descriptive fields, analysed field by field: fields such as the legal
    basis or the violation type repeat across thousands of records, so each distinct value is analysed
    once per process."""
    tokens: list[str] = []
    for name in TEXT_FIELDS[record.record_type]:
        value = record.details.get(name)
        if value:
            tokens.extend(_field_tokens(value))
    return tokens


@lru_cache(maxsize=262144)
def _field_tokens(value: str) -> tuple[str, ...]:
    return tuple(index_tokens(value))


def analyse(record: Record) -> AnalysedRecord:
    """Analyse one record with the shared analyzers."""
    parts = analyze_name(record.subject_name)
    return AnalysedRecord(
        record=record,
        id=record.id,
        subject_key=subject_key(record),
        name_key=parts.key,
        name_tokens=name_ngrams(parts.normalized),
        text_tokens=text_tokens(record),
        suggest_forms=suggest_forms(record.subject_name),
        content_hash=content_hash(record),
        body=record_body(record),
    )
