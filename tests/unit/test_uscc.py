"""GB 32100-2015 check character, worked by hand, and typo suggestions.

Character set (value = position):

    0 1 2 3 4 5 6 7 8 9 A  B  C  D  E  F  G  H  J  K  L  M  N  P  Q  R  T  U  W  X  Y
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30

Weights of positions 1..17 (3^(i-1) mod 31):

    1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28

Check value c = 31 - (sum mod 31), and c = 31 is written as "0".
"""

from __future__ import annotations

import pytest

from mujun.catalog import uscc


def test_constants_are_those_of_the_standard() -> None:
    assert uscc.CHARSET == "0123456789ABCDEFGHJKLMNPQRTUWXY"
    assert len(uscc.CHARSET) == 31
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    for forbidden in "IOSVZ":
        assert forbidden not in uscc.CHARSET


def test_worked_example_test_series_code() -> None:
    # body 9 1 3 7 1 3 0 0 M A 0 0 0 0 0 0 1
    # value 9 1 3 7 1 3 0 0 21 10 0 0 0 0 0 0 1
    # 9*1 + 1*3 + 3*9 + 7*27 + 1*19 + 3*26 + 0*16 + 0*17 + 21*20 + 10*29 + 0*25 + 0*13 + 0*8
    #   + 0*24 + 0*10 + 0*30 + 1*28
    # = 9 + 3 + 27 + 189 + 19 + 78 + 0 + 0 + 420 + 290 + 0 + 0 + 0 + 0 + 0 + 0 + 28 = 1063
    # 1063 mod 31 = 1063 - 34*31 = 1063 - 1054 = 9
    # 31 - 9 = 22 -> CHARSET[22] = "N"
    body = "91371300MA0000001"
    assert sum(uscc.CHARSET.index(ch) * w for ch, w in zip(body, uscc.WEIGHTS, strict=True)) == 1063
    assert uscc.check_char(body) == "N"
    assert uscc.is_valid("91371300MA0000001N")


def test_worked_example_docstring_code() -> None:
    # body 9 1 3 5 0 1 0 0 M 0 0 0 1 0 0 Y 4
    # value 9 1 3 5 0 1 0 0 21 0 0 0 1 0 0 30 4
    # 9*1 + 1*3 + 3*9 + 5*27 + 0*19 + 1*26 + 0*16 + 0*17 + 21*20 + 0*29 + 0*25 + 0*13 + 1*8
    #   + 0*24 + 0*10 + 30*30 + 4*28
    # = 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 = 1640
    # 1640 mod 31 = 1640 - 52*31 = 1640 - 1612 = 28
    # 31 - 28 = 3 -> CHARSET[3] = "3"
    body = "91350100M000100Y4"
    assert uscc.check_char(body) == "3"
    assert uscc.is_valid("91350100M000100Y43")
    assert not uscc.is_valid("91350100M000100Y44")


def test_worked_example_published_code() -> None:
    # 914403001922038216 (华为技术有限公司, Shenzhen), a code printed on a real business licence.
    # value 9 1 4 4 0 3 0 0 1 9 2 2 0 3 8 2 1
    # 9*1 + 1*3 + 4*9 + 4*27 + 0*19 + 3*26 + 0*16 + 0*17 + 1*20 + 9*29 + 2*25 + 2*13 + 0*8
    #   + 3*24 + 8*10 + 2*30 + 1*28
    # = 9 + 3 + 36 + 108 + 0 + 78 + 0 + 0 + 20 + 261 + 50 + 26 + 0 + 72 + 80 + 60 + 28 = 831
    # 831 mod 31 = 831 - 26*31 = 831 - 806 = 25
    # 31 - 25 = 6 -> "6"
    assert uscc.check_char("91440300192203821") == "6"
    assert uscc.is_valid("914403001922038216")


def test_worked_example_sum_divisible_by_31_gives_zero() -> None:
    # body 91371300MA0000004: as the first example but the last value is 4, so the last term is
    # 4*28 = 112 instead of 28: sum = 1063 - 28 + 112 = 1147 = 37*31, 1147 mod 31 = 0,
    # 31 - 0 = 31, which is written "0".
    assert uscc.check_char("91371300MA0000004") == "0"
    assert uscc.is_valid("91371300MA00000040")


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91371300MA0000001", "长度"),  # 17 characters
        ("91371300MA0000001NX", "长度"),  # 19 characters
        ("91371300MAO000001N", "O"),  # letter O is not in the set
        ("91371300MA0000001P", "校验位应为“N”"),
    ],
)
def test_problem_says_why(code: str, fragment: str) -> None:
    why = uscc.problem(code)
    assert why is not None
    assert fragment in why
    assert not uscc.is_valid(code)


def test_letter_o_for_zero_is_suggested() -> None:
    good = "91371300MA0000001N"
    typo = "91371300MAO000001N"  # position 11: O instead of 0
    assert not uscc.is_valid(typo)
    assert uscc.suggest(typo) == [good]


def test_zero_typed_for_letter_o_elsewhere_does_not_confuse() -> None:
    # The code has many 0s; only the O position may be swapped back.
    good = "91350100M000100Y43"
    typo = good.replace("M000", "MO00")
    assert uscc.suggest(typo) == [good]


def test_letter_i_for_one_is_suggested() -> None:
    good = "91371300MA0000001N"
    typo = "9I371300MA0000001N"  # position 2: I instead of 1
    assert not uscc.is_valid(typo)
    assert uscc.suggest(typo) == [good]
    typo_last = "91371300MA000000IN"  # position 17: I instead of 1
    assert uscc.suggest(typo_last) == [good]


def test_no_suggestion_when_no_single_swap_helps() -> None:
    assert uscc.suggest("91371300MA0000001P") == []


def test_normalise_full_width_lower_case_and_spaces() -> None:
    code = "91371300MA0000001N"
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    assert uscc.normalise(full_width) == code
    assert uscc.normalise("91371300ma0000001n") == code
    assert uscc.normalise(" 9137 1300\u3000MA00\t00001N ") == code


def test_valid_mask_matches_is_valid() -> None:
    codes = [
        "91371300MA0000001N",
        "91371300MA0000001P",
        "91371300MAO000001N",
        "914403001922038216",
        "９１３７１３００ＭＡ００００００１Ｎ",  # full width: not normalised, so invalid here
        "short",
        None,
        "",
    ]
    mask = uscc.valid_mask(codes)
    assert mask.tolist() == [c is not None and uscc.is_valid(c) for c in codes]
    assert mask.tolist() == [True, False, False, True, False, False, False, False]


def test_normalise_drops_zero_width_marks_pasted_from_web_pages() -> None:
    # "９１３７ 1300MA00000<ZWSP>395": full-width digits, a space and a zero-width space all vanish.
    assert uscc.normalise("９１３７ 1300MA00000\u200b395") == "91371300MA00000395"
