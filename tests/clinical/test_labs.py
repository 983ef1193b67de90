"""CTCAE v5.0 lab grading, unit conversion and plausibility (app.clinical.labs)."""

from __future__ import annotations

import math

import pytest

from app.clinical.labs import (
    ACCEPTED_UNITS,
    CANONICAL_UNITS,
    TESTS,
    LabGrade,
    ReferenceLimits,
    UnitError,
    check_plausible,
    grade_lab,
    to_canonical,
)


def test_every_test_has_a_canonical_unit_that_it_accepts() -> None:
    assert set(CANONICAL_UNITS) == set(TESTS)
    for test in TESTS:
        assert CANONICAL_UNITS[test] in ACCEPTED_UNITS[test]
        assert to_canonical(test, 1.0, CANONICAL_UNITS[test]) == 1.0


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected"),
    [
        ("hemoglobin", 12.5, "g/dL", 12.5),
        ("hemoglobin", 125.0, "g/L", 12.5),
        # 6.0 mmol/L x 1.611 g/dL per mmol/L = 9.666 g/dL
        ("hemoglobin", 6.0, "mmol/L", 9.666),
        ("hemoglobin", 6.0, "mmol/l", 9.666),
        ("platelets", 180.0, "10^9/L", 180.0),
        ("platelets", 180.0, "10^3/uL", 180.0),
        ("platelets", 180.0, "10^3/\u00b5L", 180.0),  # micro sign
        ("platelets", 180.0, "10^3/\u03bcL", 180.0),  # Greek mu
        ("platelets", 180.0, "x10^9/L", 180.0),
        ("platelets", 180000.0, "/mm3", 180.0),
        ("neutrophils", 1200.0, "/uL", 1.2),
        ("neutrophils", 1.2, " 10^9/l ", 1.2),
        ("albumin", 32.0, "g/L", 3.2),
        ("albumin", 3.2, "G/DL", 3.2),
    ],
)
def test_to_canonical_converts_accepted_units(
    test: str, value: float, unit: str, expected: float
) -> None:
    assert to_canonical(test, value, unit) == pytest.approx(expected)


def test_unknown_unit_names_the_unit_and_lists_accepted_ones() -> None:
    with pytest.raises(UnitError) as info:
        to_canonical("hemoglobin", 7.0, "mg/dL")
    message = str(info.value)
    assert "'mg/dL'" in message
    for unit in ("g/dL", "g/L", "mmol/L"):
        assert unit in message
    assert isinstance(info.value, ValueError)


def test_albumin_does_not_accept_molar_units() -> None:
    with pytest.raises(UnitError, match="albumin"):
        to_canonical("albumin", 500.0, "umol/L")


def test_unknown_test_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown test 'glucose'"):
        to_canonical("glucose", 5.0, "mmol/L")
    with pytest.raises(ValueError, match="unknown test"):
        grade_lab("glucose", 5.0)
    with pytest.raises(ValueError, match="unknown test"):
        ReferenceLimits().lln("glucose")


@pytest.mark.parametrize(
    ("test", "value", "unit", "rule"),
    [
        # g/L typed as g/dL: 120 g/dL is impossible
        ("hemoglobin", 120.0, "g/dL", "plausible maximum of 25"),
        ("hemoglobin", 0.0, "g/dL", "greater than 0"),
        ("hemoglobin", -1.0, "g/dL", "cannot be negative"),
        # platelets as a raw count typed against 10^9/L
        ("platelets", 150000.0, "10^9/L", "plausible maximum of 5000"),
        ("platelets", -5.0, "10^9/L", "cannot be negative"),
        ("neutrophils", 501.0, "10^9/L", "plausible maximum of 500"),
        ("albumin", 35.0, "g/dL", "plausible maximum of 10"),
        ("albumin", 0.0, "g/L", "greater than 0"),
        ("albumin", math.nan, "g/dL", "finite"),
        ("platelets", math.inf, "10^9/L", "finite"),
    ],
)
def test_implausible_values_are_rejected_naming_the_rule(
    test: str, value: float, unit: str, rule: str
) -> None:
    with pytest.raises(ValueError, match=rule):
        to_canonical(test, value, unit)


def test_plausibility_bounds_are_inclusive_where_documented() -> None:
    check_plausible("platelets", 0.0)  # aplasia: a zero count is possible
    check_plausible("neutrophils", 0.0)
    check_plausible("hemoglobin", 25.0)
    check_plausible("platelets", 5000.0)
    with pytest.raises(ValueError):
        check_plausible("hemoglobin", 25.01)


def test_grade_lab_rejects_implausible_values() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        grade_lab("neutrophils", -0.1)


# --- CTCAE v5.0 thresholds, every edge. "<10.0-8.0" means 8.0 <= value < 10.0. ---


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (13.0, 0),
        (12.0, 0),  # exactly LLN is not below LLN
        (11.99, 1),
        (10.0, 1),  # exactly 10.0 is grade 1, not 2
        (9.99, 2),
        (8.0, 2),  # exactly 8.0 is grade 2, not 3
        (7.99, 3),
        (4.0, 3),  # grade 4 is not derivable from a value
    ],
)
def test_anemia_edges(value: float, grade: int) -> None:
    result = grade_lab("hemoglobin", value)
    assert result.term == "Anemia"
    assert result.value == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (150.0, 0),
        (149.9, 1),
        (75.0, 1),
        (74.9, 2),
        (50.0, 2),
        (49.9, 3),
        (25.0, 3),
        (24.9, 4),
        (0.0, 4),
    ],
)
def test_platelet_count_decreased_edges(value: float, grade: int) -> None:
    result = grade_lab("platelets", value)
    assert result.term == "Platelet count decreased"
    assert result.value == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (2.0, 0),
        (1.99, 1),
        (1.5, 1),
        (1.49, 2),
        (1.0, 2),
        (0.99, 3),
        (0.5, 3),
        (0.49, 4),
    ],
)
def test_neutrophil_count_decreased_edges(value: float, grade: int) -> None:
    result = grade_lab("neutrophils", value)
    assert result.term == "Neutrophil count decreased"
    assert result.value == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (3.5, 0),
        (3.49, 1),
        (3.0, 1),
        (2.99, 2),
        (2.0, 2),
        (1.99, 3),
        (1.0, 3),
    ],
)
def test_hypoalbuminemia_edges(value: float, grade: int) -> None:
    result = grade_lab("albumin", value)
    assert result.term == "Hypoalbuminemia"
    assert result.value == grade


def test_reasons_quote_the_threshold() -> None:
    assert grade_lab("hemoglobin", 9.0).reasons == (
        "hemoglobin 9 g/dL < 10 g/dL: CTCAE v5.0 Anemia grade 2",
    )
    assert grade_lab("platelets", 120.0).reasons == (
        "platelets 120 10^9/L < LLN 150 10^9/L (default):"
        " CTCAE v5.0 Platelet count decreased grade 1",
    )
    assert grade_lab("neutrophils", 3.1).reasons == (
        "neutrophils 3.1 10^9/L >= LLN 2 10^9/L (default): not decreased",
    )


def test_grade_3_anemia_and_hypoalbuminemia_say_grade_4_is_clinical() -> None:
    for test, value in (("hemoglobin", 6.0), ("albumin", 1.5)):
        reasons = grade_lab(test, value).reasons
        assert len(reasons) == 2
        assert "grade 4" in reasons[1]
        assert "not derivable" in reasons[1]
    # platelets grade 3 has a value-defined grade 4, so no such note
    assert len(grade_lab("platelets", 30.0).reasons) == 1


def test_hemoglobin_default_lln_is_sex_specific() -> None:
    """WHO 2011: anaemia below 13.0 g/dL in men, 12.0 in non-pregnant women. A
    man with 12.5 g/dL is below normal (grade 1); a woman is not."""
    man = grade_lab("hemoglobin", 12.5, sex="male")
    assert man.value == 1
    assert man.reasons == (
        "hemoglobin 12.5 g/dL < LLN 13 g/dL (default for men, WHO 2011): CTCAE v5.0 Anemia grade 1",
    )
    woman = grade_lab("hemoglobin", 12.5, sex="female")
    assert woman.value == 0
    assert "(default for women, WHO 2011)" in woman.reasons[0]
    assert grade_lab("hemoglobin", 12.99, sex="male").value == 1
    assert grade_lab("hemoglobin", 13.0, sex="male").value == 0
    # Sex other or unknown: the women's (lower) limit, and the reason says so.
    for sex in ("other", "unknown", None):
        got = grade_lab("hemoglobin", 12.5, sex=sex)
        assert got.value == 0
        assert "sex not recorded as female or male" in got.reasons[0]
    # Only hemoglobin has a sex-specific default.
    assert ReferenceLimits().lln("platelets", "male") == 150.0


def test_male_and_female_defaults_are_configurable() -> None:
    limits = ReferenceLimits(hemoglobin_lln_g_dl=11.5, hemoglobin_male_lln_g_dl=13.5)
    assert grade_lab("hemoglobin", 13.2, limits, sex="male").value == 1
    assert grade_lab("hemoglobin", 11.8, limits, sex="female").value == 0
    assert limits.lln("hemoglobin", "male") == 13.5 and limits.lln("hemoglobin") == 11.5


def test_the_laboratorys_own_lln_wins_over_the_default() -> None:
    # The laboratory says its LLN is 13.5 g/dL: 13.2 is below normal, for anyone.
    own = grade_lab("hemoglobin", 13.2, lln=13.5, sex="female")
    assert own.value == 1
    assert own.reasons == (
        "hemoglobin 13.2 g/dL < LLN 13.5 g/dL (the laboratory's): CTCAE v5.0 Anemia grade 1",
    )
    # A man at 12.5 with a laboratory LLN of 12.0: not decreased.
    assert grade_lab("hemoglobin", 12.5, lln=12.0, sex="male").value == 0
    assert grade_lab("platelets", 145.0, lln=140.0).value == 0
    # Fixed thresholds still decide grades 2 and up.
    assert grade_lab("hemoglobin", 9.5, lln=9.0).value == 2


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_a_laboratory_lln_must_be_positive_and_finite(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^lower_limit_normal:"):
        grade_lab("platelets", 200.0, lln=bad)


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (4.0, 0),
        (3.99, 1),
        (3.0, 1),
        (2.99, 2),
        (2.0, 2),
        (1.99, 3),
        (1.0, 3),
        (0.99, 4),
        (0.0, 4),
    ],
)
def test_white_blood_cell_decreased_edges(value: float, grade: int) -> None:
    result = grade_lab("wbc", value)
    assert result.term == "White blood cell decreased"
    assert result.value == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (1.0, 0),
        (0.99, 1),
        (0.8, 1),
        (0.79, 2),
        (0.5, 2),
        (0.49, 3),
        (0.2, 3),
        (0.19, 4),
        (0.0, 4),
    ],
)
def test_lymphocyte_count_decreased_edges(value: float, grade: int) -> None:
    result = grade_lab("lymphocytes", value)
    assert result.term == "Lymphocyte count decreased"
    assert result.value == grade


def test_white_cells_and_lymphocytes_take_cell_count_units() -> None:
    assert to_canonical("wbc", 3500, "/uL") == pytest.approx(3.5)
    assert to_canonical("lymphocytes", 0.6, "10^3/uL") == pytest.approx(0.6)
    check_plausible("wbc", 1000.0)
    check_plausible("lymphocytes", 0.0)
    with pytest.raises(ValueError, match="plausible maximum"):
        check_plausible("lymphocytes", 1000.1)


def test_custom_limits_for_every_count() -> None:
    limits = ReferenceLimits(platelets_lln=140.0, neutrophils_lln=1.8, albumin_lln=3.4)
    assert grade_lab("platelets", 145.0, limits).value == 0
    assert grade_lab("neutrophils", 1.9, limits).value == 0
    assert grade_lab("albumin", 3.45, limits).value == 0
    assert grade_lab("albumin", 3.35, limits).value == 1


def test_lln_below_fixed_threshold_keeps_ctcae_ranges() -> None:
    # A lab whose LLN is under 10.0 g/dL: 9.5 is still "<10.0-8.0", grade 2.
    limits = ReferenceLimits(hemoglobin_lln_g_dl=9.0)
    assert grade_lab("hemoglobin", 9.5, limits).value == 2


def test_to_dict_is_json_ready() -> None:
    grade = grade_lab("platelets", 20.0)
    assert isinstance(grade, LabGrade)
    assert grade.to_dict() == {
        "term": "Platelet count decreased",
        "value": 4,
        "reasons": ["platelets 20 10^9/L < 25 10^9/L: CTCAE v5.0 Platelet count decreased grade 4"],
    }
    assert ReferenceLimits().to_dict() == {
        "hemoglobin_lln_g_dl": 12.0,
        "hemoglobin_male_lln_g_dl": 13.0,
        "platelets_lln": 150.0,
        "neutrophils_lln": 2.0,
        "albumin_lln": 3.5,
        "wbc_lln": 4.0,
        "lymphocytes_lln": 1.0,
    }


def test_seed_case_style_entry_from_mmol() -> None:
    # 5.0 mmol/L x 1.611 = 8.055 g/dL -> "<10.0-8.0": grade 2
    value = to_canonical("hemoglobin", 5.0, "mmol/L")
    assert value == pytest.approx(8.055)
    assert grade_lab("hemoglobin", value).value == 2


def test_unrecorded_sex_reason_in_full() -> None:
    assert grade_lab("hemoglobin", 12.5, sex="unknown").reasons == (
        "hemoglobin 12.5 g/dL >= LLN 12 g/dL (default; sex not recorded as female or male:"
        " the women's, WHO 2011): not decreased",
    )


def test_grade_4_note_in_full() -> None:
    assert grade_lab("hemoglobin", 6.0).reasons[1] == (
        "grade 4 (life-threatening consequences; urgent intervention indicated) is a"
        " clinical judgement, not derivable from the value"
    )


def test_a_laboratory_lln_below_one_is_accepted() -> None:
    # Lymphocytes: a laboratory LLN of 0.9 x10^9/L.
    assert grade_lab("lymphocytes", 0.85, lln=0.9).value == 1
    assert grade_lab("lymphocytes", 0.95, lln=0.9).value == 0


def test_unit_spelling_variants_are_accepted() -> None:
    # Spaces, the Greek mu and the micro sign, and a leading multiplication sign.
    assert to_canonical("platelets", 120, "10^3 / uL") == 120
    assert to_canonical("platelets", 120, "10^3/\u03bcL") == 120
    assert to_canonical("platelets", 120, "10^3/\u00b5L") == 120
    assert to_canonical("platelets", 120, "\u00d710^9/L") == 120
    assert to_canonical("platelets", 120, "x10^9/L") == 120


def test_lab_messages_in_full() -> None:
    with pytest.raises(ValueError) as exc:
        check_plausible("hemoglobin", 120.0)
    assert str(exc.value) == (
        "hemoglobin 120 g/dL is above the plausible maximum of 25 g/dL; check the unit"
    )
    with pytest.raises(ValueError) as exc:
        to_canonical("albumin", 3.0, "mg/dL")
    assert str(exc.value) == "unit 'mg/dL' is not accepted for albumin; use one of g/dL, g/L"
    with pytest.raises(ValueError) as exc:
        check_plausible("glucose", 5.0)
    assert str(exc.value) == (
        "unknown test 'glucose'; expected one of hemoglobin, platelets, neutrophils, albumin,"
        " wbc, lymphocytes"
    )
