"""Analyzer rules: normalisation, company-name parts and keys, abbreviations, tokens, pinyin."""

import pytest

from analyzers.names import abbreviation_score, analyze_name, name_bigrams, name_key, name_ngrams
from analyzers.normalize import normalize_name, normalize_text
from analyzers.pinyin import pinyin_forms
from analyzers.tokens import expand_synonyms, index_tokens, query_tokens, record_type_of_term


def test_traditional_input_gets_the_simplified_key() -> None:
    assert name_key("淸遠市恆達建築工程有限公司") == name_key("清远市恒达建筑工程有限公司") == "恒达建筑工程"
    assert normalize_name("淸遠市恆達建築工程有限公司") == "清远市恒达建筑工程有限公司"


@pytest.mark.parametrize("variant", [
    "清远市恒达建筑工程有限公司",
    "清远市恒达建筑工程有限责任公司",
    "清 远 市 恒达建筑工程有限公司",
    "清远市恒达建筑工程\u200b有限公司",
    "广东省清远市恒达建筑工程有限公司",
    "清远恒达建筑工程有限公司",
    "恒达建筑工程（清远）有限公司",
])
def test_variants_of_one_subject_share_a_key(variant: str) -> None:
    assert name_key(variant) == "恒达建筑工程"


def test_full_width_and_bracket_variants_normalise_alike() -> None:
    forms = ["ＡＢＣ科技（中国）有限公司", "abc科技(中国)有限公司", "ABC科技【中国】有限公司",
             "ABC科技〔中国〕有限公司", "ABC科技[中国]有限公司"]
    assert {normalize_name(f) for f in forms} == {"abc科技(中国)有限公司"}
    assert {name_key(f) for f in forms} == {"abc科技"}


def test_name_parts() -> None:
    parts = analyze_name("广东省清远市清城区恒达商贸有限公司")
    assert parts.regions == ("广东省", "清远市", "清城区")
    assert (parts.core, parts.industry, parts.legal_form) == ("恒达", "商贸", "有限公司")
    assert parts.region_short == "清城"
    bracketed = analyze_name("深圳市振业(集团)股份有限公司")
    assert bracketed.qualifiers == ("集团",)
    assert bracketed.legal_form == "股份有限公司"
    partnership = analyze_name("清远市北江律师事务所(普通合伙)")
    assert partnership.qualifiers == ("普通合伙",) and partnership.legal_form == "事务所"


def test_branch_is_a_different_subject_from_its_parent() -> None:
    branch = analyze_name("清远恒达建筑工程有限公司清城分公司")
    assert branch.branch == "清城分公司"
    assert branch.key != name_key("清远恒达建筑工程有限公司")
    assert branch.key.startswith("恒达建筑工程")


def test_county_short_forms_do_not_eat_brand_names() -> None:
    assert analyze_name("广州白云山医药集团股份有限公司").core == "白云山"
    assert analyze_name("上海浦东发展银行股份有限公司").core == "浦东"


def test_another_brand_gets_another_key() -> None:
    assert name_key("清远市恒达建筑工程有限公司") != name_key("清远市宏达建筑工程有限公司")


def test_person_name_is_its_own_key() -> None:
    assert name_key("张三") == "张三"


@pytest.mark.parametrize(("short", "full", "unrelated"), [
    ("浦发银行", "上海浦东发展银行股份有限公司", "清远市恒达建筑工程有限公司"),
    ("深振业", "深圳市振业(集团)股份有限公司", "深圳市业振实业有限公司"),
    ("恒达建筑", "清远市恒达建筑工程有限公司", "清远市达恒建筑工程有限公司"),
    ("清远恒达", "清远市恒达建筑工程有限公司", "清远市宏图建筑工程有限公司"),
])
def test_abbreviations_score_above_unrelated_names(short: str, full: str, unrelated: str) -> None:
    assert abbreviation_score(short, full) >= 0.8
    assert abbreviation_score(short, full) > abbreviation_score(short, unrelated) + 0.05


def test_characters_out_of_order_are_not_an_abbreviation() -> None:
    assert abbreviation_score("发浦银行", "上海浦东发展银行股份有限公司") < 0.5


def test_name_ngrams_let_two_character_queries_match() -> None:
    grams = name_ngrams(normalize_name("清远市恒达建筑工程有限公司"))
    assert "恒达" in grams and "达建" in grams and "恒" in grams
    assert name_bigrams(normalize_name("恒达（清远）建筑")) == ["恒达", "达清", "清远", "远建", "建筑"]


def test_query_tokens_are_found_among_index_tokens() -> None:
    text = "清远市恒达建筑工程有限公司在清城区建筑工地未对裸露土方采取覆盖措施，造成扬尘污染"
    assert set(query_tokens(text)) <= set(index_tokens(text))
    assert "建筑工程" in index_tokens(text) and "有限公司" in index_tokens(text)


def test_tokens_are_normalised_and_stopwords_dropped() -> None:
    assert query_tokens("銷售過期食品") == query_tokens("销售过期食品")
    assert "的" not in query_tokens("哪些企业的食品")
    assert "，" not in index_tokens("罚款，警告")


def test_domain_synonyms() -> None:
    assert set(expand_synonyms("老赖")) >= {"老赖", "失信被执行人", "失信"}
    assert expand_synonyms("清远") == ("清远",)
    assert record_type_of_term("罚款") == "penalty"
    assert record_type_of_term("容缺") == "commitment"


def test_pinyin_for_autocomplete() -> None:
    parts = analyze_name("清远市恒达建筑工程有限公司")
    full, initials = pinyin_forms(parts.region_short, parts.core)
    assert (full, initials) == ("qingyuanhengda", "qyhd")
    assert pinyin_forms("银行") == ("yinhang", "yh")  # the phrase reading, not xing
    assert pinyin_forms("ABC科技") == ("abckeji", "abckj")


def test_normalize_text_removes_invisible_characters_and_folds_case() -> None:
    assert normalize_text("\ufeffＡＢＣ\u200d　有限公司 ") == "abc 有限公司"
