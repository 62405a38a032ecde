"""Plain-text synonym dictionaries and the loader that serves them to analyzers and store mappings."""

from synonyms.loader import (
    Alias,
    LegalForm,
    Region,
    SynonymGroup,
    dictionary_version,
    load_aliases,
    load_departments,
    load_domain_terms,
    load_industry_terms,
    load_legal_forms,
    load_name_qualifiers,
    load_pronouns,
    load_question_words,
    load_regions,
    load_stopwords,
)

__all__ = [
    "Alias",
    "LegalForm",
    "Region",
    "SynonymGroup",
    "dictionary_version",
    "load_aliases",
    "load_departments",
    "load_domain_terms",
    "load_industry_terms",
    "load_legal_forms",
    "load_name_qualifiers",
    "load_pronouns",
    "load_question_words",
    "load_regions",
    "load_stopwords",
]
