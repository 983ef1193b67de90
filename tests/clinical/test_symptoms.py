"""Patient-reported symptoms: PRO-CTCAE levels, NRS bands, change between reports."""

from __future__ import annotations

import pytest

from app.clinical.symptoms import (
    BURNING,
    ITCH,
    NRS_SYMPTOMS,
    PAIN,
    PRO_LABELS,
    PRO_LEVELS,
    SKIN_REACTION,
    SYMPTOMS,
    Trend,
    check_nrs,
    moderate_or_worse,
    nrs_band,
    pro_score,
    score,
    trend,
)


def test_pro_ctcae_levels_score_zero_to_four_in_order() -> None:
    assert [pro_score(level) for level in PRO_LEVELS] == [0, 1, 2, 3, 4]
    assert PRO_LEVELS == ("none", "mild", "moderate", "severe", "very_severe")
    assert PRO_LABELS["very_severe"] == "Very severe"
    assert set(PRO_LABELS) == set(PRO_LEVELS)
    assert SYMPTOMS == (SKIN_REACTION, PAIN, ITCH, BURNING)
    assert NRS_SYMPTOMS == (PAIN, ITCH, BURNING)


@pytest.mark.parametrize("level", ["", "Mild", "very severe", "not_applicable", "4"])
def test_unknown_pro_level_is_refused_naming_the_item(level: str) -> None:
    with pytest.raises(ValueError, match=r"^skin_reaction: must be one of none, mild"):
        pro_score(level)


@pytest.mark.parametrize("symptom", NRS_SYMPTOMS)
def test_nrs_accepts_integers_zero_to_ten(symptom: str) -> None:
    assert [check_nrs(symptom, v) for v in range(11)] == list(range(11))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "must be between 0 and 10"),
        (11, "must be between 0 and 10"),
        (True, "must be an integer 0-10"),
        (5.0, "must be an integer 0-10"),
        ("5", "must be an integer 0-10"),
    ],
)
def test_nrs_refuses_out_of_range_or_non_integers(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^itch: {message}$"):
        check_nrs(ITCH, value)  # type: ignore[arg-type]


def test_only_the_three_nrs_symptoms_have_a_numeric_scale() -> None:
    with pytest.raises(ValueError, match=r"^skin_reaction: not a numeric rating scale symptom$"):
        check_nrs(SKIN_REACTION, 3)


# Serlin 1995: 1-4 mild, 5-6 moderate, 7-10 severe (pain; burning by analogy).
SERLIN = ["none"] + ["mild"] * 4 + ["moderate"] * 2 + ["severe"] * 4
# Reich 2012 on the integer scale: 1-3 mild, 4-6 moderate, 7-8 severe, 9-10 very severe.
REICH = ["none"] + ["mild"] * 3 + ["moderate"] * 3 + ["severe"] * 2 + ["very_severe"] * 2


@pytest.mark.parametrize(("symptom", "bands"), [(PAIN, SERLIN), (BURNING, SERLIN), (ITCH, REICH)])
def test_nrs_bands_follow_their_sources(symptom: str, bands: list[str]) -> None:
    assert [nrs_band(symptom, v) for v in range(11)] == bands


def test_band_of_an_out_of_range_value_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^pain: must be between 0 and 10$"):
        nrs_band(PAIN, 11)


@pytest.mark.parametrize(
    ("symptom", "value", "expected"),
    [
        (SKIN_REACTION, "none", False),
        (SKIN_REACTION, "mild", False),
        (SKIN_REACTION, "moderate", True),
        (SKIN_REACTION, "very_severe", True),
        (PAIN, 4, False),
        (PAIN, 5, True),
        (PAIN, 10, True),
        (BURNING, 4, False),
        (BURNING, 5, True),
        (ITCH, 3, False),
        (ITCH, 4, True),
        (ITCH, 0, False),
    ],
)
def test_moderate_or_worse(symptom: str, value: int | str, expected: bool) -> None:
    assert moderate_or_worse(symptom, value) is expected


def test_score_reads_each_symptom_on_its_own_scale() -> None:
    assert score(SKIN_REACTION, "severe") == 3
    assert score(PAIN, 7) == 7
    with pytest.raises(ValueError, match=r"^pain: must be an integer 0-10$"):
        score(PAIN, "moderate")
    with pytest.raises(ValueError, match=r"^skin_reaction: must be one of"):
        score(SKIN_REACTION, 2)


def test_trend_needs_two_reports() -> None:
    assert trend(PAIN, []) is None
    assert trend(PAIN, [6]) is None


@pytest.mark.parametrize(
    ("symptom", "reports", "change", "direction"),
    [
        # Two NRS points is the smallest change that counts (Farrar 2001).
        (PAIN, [3, 5], 2, "worse"),
        (PAIN, [3, 4], 1, "stable"),
        (PAIN, [5, 3], -2, "better"),
        (PAIN, [5, 4], -1, "stable"),
        (PAIN, [4, 4], 0, "stable"),
        (ITCH, [8, 9, 2], -6, "better"),
        (BURNING, [0, 7, 2], 2, "worse"),
        # One PRO-CTCAE level counts.
        (SKIN_REACTION, ["mild", "moderate"], 1, "worse"),
        (SKIN_REACTION, ["severe", "moderate"], -1, "better"),
        (SKIN_REACTION, ["mild", "severe", "mild"], 0, "stable"),
    ],
)
def test_trend_compares_first_and_latest(
    symptom: str, reports: list[int | str], change: int, direction: str
) -> None:
    t = trend(symptom, reports)
    assert t is not None
    assert (t.change, t.direction, t.reports) == (change, direction, len(reports))
    assert t.first == score(symptom, reports[0])
    assert t.latest == score(symptom, reports[-1])


def test_trend_as_a_dict() -> None:
    t = trend(SKIN_REACTION, ["none", "mild", "severe"])
    assert t == Trend(SKIN_REACTION, 0, 3, 3, "worse", 3)
    assert t.to_dict() == {
        "first": 0,
        "latest": 3,
        "change": 3,
        "direction": "worse",
        "reports": 3,
    }


def test_trend_refuses_a_bad_report() -> None:
    with pytest.raises(ValueError, match=r"^burning: must be between 0 and 10$"):
        trend(BURNING, [2, 12])
