"""Identifier validation: real public codes, generated codes, every single-character change."""

import random
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.codes import (
    USCC_CHARS,
    CodeKind,
    classify_code,
    document_number_forms,
    is_masked_id_number,
    looks_like_document_number,
    mask_id_number,
    mask_id_numbers_in_text,
    normalize_document_number,
    validate_org_code,
    validate_reg_no,
    validate_uscc,
)
from indexer.generate import make_id_number, make_uscc

REAL_VALID = ["91110000802100433B", "914403001922038216", "9144030071526726XG", "91310000132260250X",
              "12100000425006133D"]


def test_real_valid_codes() -> None:
    for code in REAL_VALID:
        check = validate_uscc(code)
        assert check.valid, (code, check.reason)
        assert classify_code(code).kind is CodeKind.USCC


def test_real_invalid_codes_name_the_expected_check_character() -> None:
    check = validate_uscc("914403001922038217")
    assert not check.valid and check.expected_check == "6"
    assert "第18位应为“6”" in check.reason
    check = validate_uscc("9133010057462616XH")
    assert not check.valid and "校验位" in check.reason


def test_reasons_for_malformed_codes() -> None:
    assert "应为18位" in validate_uscc("9144030019220382").reason
    assert "第3位" in validate_uscc("91I403001922038216").reason
    assert "第3至8位" in validate_uscc("91A403001922038216").reason


def test_lower_case_spaces_and_hyphens_are_accepted() -> None:
    assert validate_uscc("9144 0300 7152 6726xg").valid
    assert validate_org_code("55269853-1").valid
    assert validate_org_code("552698531").valid
    assert not validate_org_code("55269853-2").valid


def test_registration_number_check_digit() -> None:
    assert validate_reg_no("110108000000016").valid
    assert not validate_reg_no("110108000000017").valid
    assert "应为15位" in validate_reg_no("11010800000001").reason


def test_masked_codes_are_recognised_as_masked() -> None:
    for code in ("9114082306****333G", "4418**********1234"):
        check = classify_code(code)
        assert check.kind is CodeKind.MASKED and check.valid
    assert is_masked_id_number("4418**********1234")
    assert is_masked_id_number("441802********123X")
    assert not is_masked_id_number("9114082306****333G")
    assert not is_masked_id_number("91440300192203821*")


def test_id_numbers_are_recognised_and_masked() -> None:
    rng = random.Random(3)
    for _ in range(200):
        number = make_id_number(rng, "441802")
        assert classify_code(number).kind is CodeKind.ID_CARD
        masked = mask_id_number(number)
        assert masked == number[:4] + "*" * 10 + number[-4:]
    assert mask_id_numbers_in_text("当事人（身份证441802199001011234）") == "当事人（身份证4418**********1234）"
    # an enterprise credit code in the same text is left alone
    assert "914403001922038216" in mask_id_numbers_in_text("代码914403001922038216")


def test_document_numbers_across_bracket_variants() -> None:
    forms = ["清市监罚〔2023〕12号", "清市监罚(2023)12号", "清市监罚（2023）12号", "清市监罚[2023]12号",
             "清市监罚【2023】12号", " 清市监罚 〔2023〕 12号"]
    assert {normalize_document_number(f) for f in forms} == {"清市监罚(2023)12号"}
    assert all(looks_like_document_number(f) for f in forms)
    assert looks_like_document_number("(2019)浙0111执286号")
    assert not looks_like_document_number("清远市恒达建筑工程有限公司")
    # The year without brackets, as some departments write it: every filing spelling is tried.
    assert looks_like_document_number("清环罚2026第96号") and not looks_like_document_number("罚款2026元")
    assert {"清环罚(2026)96号", "清环罚2026第96号"} <= set(document_number_forms("清环罚〔2026〕96号"))
    assert document_number_forms("清环罚2026第96号")[:2] == ["清环罚2026第96号", "清环罚(2026)96号"]


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), region=st.sampled_from(["441802", "440300", "110000"]),
       prefix=st.sampled_from(["91", "92", "93", "12", "52"]))
def test_generated_codes_validate(seed: int, region: str, prefix: str) -> None:
    code = make_uscc(random.Random(seed), region, prefix)
    assert validate_uscc(code).valid
    assert validate_org_code(code[8:17]).valid


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(REAL_VALID), position=st.integers(min_value=0, max_value=17),
       replacement=st.sampled_from(USCC_CHARS))
def test_every_single_character_change_is_rejected(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1:]
    assert not validate_uscc(changed).valid


def test_id_numbers_are_masked_however_they_are_written() -> None:
    rng = random.Random(5)
    number = make_id_number(rng, "441823")
    wide = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    spaced = " ".join(number[i:i + 4] for i in range(0, 18, 4))
    hyphened = f"{number[:6]}-{number[6:14]}-{number[14:]}"
    for text in (f"ID{number}", f"{number}abc", wide, spaced, hyphened, f"张三{number}", f"电话 3388888 {number}",
                 f"号码{number}1234", f"{number.lower()}号"):
        masked = mask_id_numbers_in_text(text)
        digits = "".join(c for c in unicodedata.normalize("NFKC", masked) if c.isdigit())
        assert number[4:14] not in digits, (text, masked)
        assert "4418**********" in masked, (text, masked)
    # Digits that are not laid out like an ID number stay as they are.
    for text in ("罚款5000元，2023年12月1日", "金额 123456789012345678 元", "代码914403001922038216",
                 "91441802MA4UJ3XK72"):
        assert mask_id_numbers_in_text(text) == text
