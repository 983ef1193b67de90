"""PUSH 3.0 (NPUAP 1998) and BWAT (Bates-Jensen) scoring."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clinical.scores import (
    BWAT_ITEMS,
    EXUDATE_AMOUNTS,
    BwatScore,
    PushScore,
    Tissue,
    bwat_items,
    bwat_score,
    bwat_size_item,
    push_area_subscore,
    push_exudate_subscore,
    push_score,
    push_tissue_subscore,
)

# --- PUSH length x width ------------------------------------------------------

# Every printed band edge of PUSH 3.0 (area in cm^2, sub-score).
PUSH_BAND_EDGES = [
    (0, 0),
    (0.2, 1),
    (0.3, 2),
    (0.6, 2),
    (0.7, 3),
    (1.0, 3),
    (1.1, 4),
    (2.0, 4),
    (2.1, 5),
    (3.0, 5),
    (3.1, 6),
    (4.0, 6),
    (4.1, 7),
    (8.0, 7),
    (8.1, 8),
    (12.0, 8),
    (12.1, 9),
    (24.0, 9),
    (24.1, 10),
]


@pytest.mark.parametrize(("area", "expected"), PUSH_BAND_EDGES)
def test_push_area_band_edges(area: float, expected: int) -> None:
    assert push_area_subscore(area, 1) == expected
    assert push_area_subscore(1, area) == expected


@pytest.mark.parametrize(
    ("length", "width", "expected"),
    [
        (0.5, 0.5, 1),  # 0.25 is "< 0.3" as measured (not rounded up to 0.3)
        (0.29, 1, 1),  # 0.29 < 0.3, though it would round to 0.3
        (0.1, 3, 2),  # 0.1 * 3 is 0.30000000000000004 in floats; exactly 0.3 here
        (0.3, 0.8, 1),  # 0.24
        (0.5, 1.3, 3),  # 0.65 -> 0.7
        (0.5, 1.28, 2),  # 0.64 -> 0.6
        (1.5, 0.7, 4),  # 1.05 -> 1.1
        (1.1, 1.1, 4),  # 1.21 (float noise 1.2100000000000002) -> 1.2
        (4.1, 0.5, 5),  # 2.05 -> 2.1
        (0.2, 0.2, 1),  # 0.04: a real wound, "< 0.3"
        (0, 5, 0),
        (30, 30, 10),
        (1.0, 24.04, 10),  # 24.04 is "> 24.0" as measured (not rounded down to 24.0)
        (4.9, 4.9, 10),  # 24.01 > 24.0
        (4.91, 4.9, 10),  # 24.059
        (1, 24, 9),  # exactly 24.0 is the top of 12.1-24.0
        (2.395, 10, 9),  # 23.95 -> 24.0
        (1.21, 10, 9),  # 12.1
        (1.205, 10, 9),  # 12.05 -> 12.1
        (1.204, 10, 8),  # 12.04 -> 12.0
    ],
)
def test_push_area_open_ends_unrounded_and_rounded_between(
    length: float, width: float, expected: int
) -> None:
    assert push_area_subscore(length, width) == expected


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, True, "2"])
def test_push_area_rejects_bad_lengths(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"^length_cm:"):
        push_area_subscore(bad, 1)
    with pytest.raises(ValueError, match=r"^width_cm:"):
        push_area_subscore(1, bad)


@given(
    small=st.floats(min_value=0, max_value=50),
    large=st.floats(min_value=0, max_value=50),
    width=st.floats(min_value=0, max_value=50),
)
def test_push_area_is_monotone_in_area(small: float, large: float, width: float) -> None:
    small, large = sorted((small, large))
    assert push_area_subscore(small, width) <= push_area_subscore(large, width)
    assert push_area_subscore(width, small) <= push_area_subscore(width, large)
    assert 0 <= push_area_subscore(large, width) <= 10


@given(
    small=st.floats(min_value=0, max_value=50),
    large=st.floats(min_value=0, max_value=50),
    width=st.floats(min_value=0, max_value=50),
    exudate=st.sampled_from(EXUDATE_AMOUNTS),
    slough=st.integers(min_value=0, max_value=100),
)
def test_push_total_is_monotone_in_area(
    small: float, large: float, width: float, exudate: str, slough: int
) -> None:
    small, large = sorted((small, large))
    tissue = Tissue(granulation_pct=100 - slough, slough_pct=slough)
    a = push_score(small, width, exudate, tissue, closed=False)
    b = push_score(large, width, exudate, tissue, closed=False)
    assert a is not None
    assert b is not None
    assert a.total <= b.total <= 17


# --- PUSH exudate and tissue ------------------------------------------------


def test_push_exudate_maps_api_vocabulary() -> None:
    assert [push_exudate_subscore(a) for a in EXUDATE_AMOUNTS] == [0, 1, 1, 2, 3]
    with pytest.raises(ValueError, match=r"^exudate_amount:"):
        push_exudate_subscore("heavy")


@pytest.mark.parametrize(
    ("tissue", "expected"),
    [
        (Tissue(epithelial_pct=100), 1),
        (Tissue(epithelial_pct=50, granulation_pct=50), 2),
        (Tissue(granulation_pct=90, slough_pct=10), 3),
        (Tissue(granulation_pct=50, slough_pct=40, necrotic_pct=0.5), 4),
        (Tissue(necrotic_pct=100), 4),
    ],
)
def test_push_tissue_is_the_worst_tissue_present(tissue: Tissue, expected: int) -> None:
    assert push_tissue_subscore(tissue, closed=False) == expected


def test_push_tissue_closed_is_zero_and_open_without_tissue_has_no_score() -> None:
    assert push_tissue_subscore(None, closed=True) == 0
    assert push_tissue_subscore(Tissue(slough_pct=20), closed=True) == 0
    for empty in (None, Tissue()):
        with pytest.raises(ValueError, match=r"^tissue:"):
            push_tissue_subscore(empty, closed=False)


@pytest.mark.parametrize(
    ("tissue", "field"),
    [
        (Tissue(epithelial_pct=-1), "epithelial_pct"),
        (Tissue(granulation_pct=101), "granulation_pct"),
        (Tissue(slough_pct=math.nan), "slough_pct"),
        (Tissue(necrotic_pct="5"), "necrotic_pct"),  # type: ignore[arg-type]
        (Tissue(granulation_pct=60, slough_pct=50), "tissue"),
    ],
)
def test_tissue_validation_names_the_field(tissue: Tissue, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        tissue.validate()
    with pytest.raises(ValueError, match=f"^{field}:"):
        push_score(1, 1, "none", tissue, closed=False)


def test_tissue_sum_tolerates_float_noise() -> None:
    Tissue(epithelial_pct=33.3, granulation_pct=33.3, slough_pct=33.4).validate()


# --- PUSH totals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "width", "exudate", "tissue", "expected"),
    [
        # Published worked rows (clinical-reference.md).
        (3.7, 3.1, "small", Tissue(slough_pct=60, granulation_pct=40), (8, 1, 3, 12)),
        (3.2, 2.9, "none", Tissue(granulation_pct=100), (8, 0, 2, 10)),
        (2.9, 1.9, "none", Tissue(epithelial_pct=100), (7, 0, 1, 8)),
        (4, 3, "moderate", Tissue(slough_pct=100), (8, 2, 3, 13)),
        # The seed ulcer: 2 x 2 cm, moderate exudate, slough -> 6 + 2 + 3.
        (2, 2, "moderate", Tissue(slough_pct=70, granulation_pct=30), (6, 2, 3, 11)),
    ],
)
def test_push_worked_rows(
    length: float,
    width: float,
    exudate: str,
    tissue: Tissue,
    expected: tuple[int, int, int, int],
) -> None:
    score = push_score(length, width, exudate, tissue, closed=False)
    assert score == PushScore(*expected)
    assert score.to_dict() == dict(
        zip(("area", "exudate", "tissue", "total"), expected, strict=True)
    )


def test_push_light_exudate_is_scant_or_small() -> None:
    tissue = Tissue(slough_pct=100)
    scant = push_score(3.7, 3.1, "scant", tissue, closed=False)
    assert scant is not None
    assert scant.total == 12


@pytest.mark.parametrize(
    ("length", "width", "exudate", "tissue"),
    [
        (None, 2, "none", Tissue(granulation_pct=100)),
        (2, None, "none", Tissue(granulation_pct=100)),
        (2, 2, None, Tissue(granulation_pct=100)),
        (2, 2, "none", None),
        (2, 2, "none", Tissue()),
    ],
)
def test_push_open_wound_with_missing_data_is_not_scored(
    length: float | None, width: float | None, exudate: str | None, tissue: Tissue | None
) -> None:
    assert push_score(length, width, exudate, tissue, closed=False) is None


def test_push_closed_wound() -> None:
    assert push_score(None, None, None, None, closed=True) == PushScore(0, 0, 0, 0)
    assert push_score(0, 0, "none", Tissue(epithelial_pct=100), closed=True) == PushScore(
        0, 0, 0, 0
    )
    # Measurements and exudate that were recorded are used.
    assert push_score(1, 0.5, "small", None, closed=True) == PushScore(2, 1, 0, 3)


# --- BWAT ---------------------------------------------------------------------------


def test_bwat_items_are_the_13_scored_items_in_order() -> None:
    assert BWAT_ITEMS == (
        "size",
        "depth",
        "edges",
        "undermining",
        "necrotic_type",
        "necrotic_amount",
        "exudate_type",
        "exudate_amount",
        "skin_color",
        "peripheral_edema",
        "peripheral_induration",
        "granulation",
        "epithelialization",
    )


@pytest.mark.parametrize(
    ("length", "width", "expected"),
    [
        (0, 0, 1),
        (1.99, 2, 1),  # 3.98
        (2, 2, 2),  # 4.0 starts band 2
        (3.99, 4, 2),  # 15.96
        (4, 4, 3),  # 16.0: gap between "< 16" and "16.1", goes up
        (16.05, 1, 3),  # in the gap
        (16.1, 1, 3),
        (5.99, 6, 3),  # 35.94
        (6, 6, 4),  # 36.0: gap, goes up
        (36.1, 1, 4),
        (7.99, 10, 4),  # 79.9
        (8, 10, 5),  # exactly 80: "> 80" and "< 80" both exclude it; goes up
        (10, 10, 5),
    ],
)
def test_bwat_size_bands(length: float, width: float, expected: int) -> None:
    assert bwat_size_item(length, width) == expected


def test_bwat_size_rejects_negative() -> None:
    with pytest.raises(ValueError, match=r"^width_cm:"):
        bwat_size_item(1, -1)


def _items(value: int = 3, **overrides: int) -> dict[str, int]:
    items = dict.fromkeys(BWAT_ITEMS, value)
    items.update(overrides)
    return items


def test_bwat_total_of_all_items() -> None:
    assert bwat_score(_items(1)) == BwatScore(items=_items(1), total=13)
    top = bwat_score(_items(5))
    assert top is not None
    assert top.total == 65
    mixed = bwat_score(_items(2, depth=4, edges=5))
    assert mixed is not None
    assert mixed.total == 2 * 11 + 4 + 5
    assert mixed.to_dict() == {"items": _items(2, depth=4, edges=5), "total": 31}
    assert list(mixed.items) == list(BWAT_ITEMS)


def test_bwat_size_derived_from_length_and_width_when_not_given() -> None:
    items = _items(2)
    del items["size"]
    derived = bwat_score(items, length_cm=6, width_cm=6)
    assert derived is not None
    assert derived.items["size"] == 4
    assert derived.total == 2 * 12 + 4
    # A given size item wins over the measurements.
    given_size = bwat_score(_items(2), length_cm=6, width_cm=6)
    assert given_size is not None
    assert given_size.items["size"] == 2


def test_bwat_missing_item_is_never_guessed() -> None:
    items = _items(2)
    del items["granulation"]
    assert bwat_score(items) is None
    no_size = _items(2)
    del no_size["size"]
    assert bwat_score(no_size) is None
    assert bwat_score(no_size, length_cm=2) is None
    assert bwat_score({}) is None


def test_bwat_healed_wound_scores_items_1_to_4_zero() -> None:
    """BWAT instructions: "If the wound has healed/resolved, score items 1, 2, 3 & 4 as = 0"."""
    rest = {name: 2 for name in BWAT_ITEMS[4:]}
    healed = bwat_score(rest, healed=True)
    assert healed is not None
    assert healed.items == {"size": 0, "depth": 0, "edges": 0, "undermining": 0, **rest}
    assert list(healed.items) == list(BWAT_ITEMS)
    assert healed.total == 18
    # Given as 0 is the same; measurements do not bring the size back.
    zeros = dict.fromkeys(("size", "depth", "edges", "undermining"), 0)
    same = bwat_score({**zeros, **rest}, length_cm=0, width_cm=0, healed=True)
    assert same == healed
    # Healed but items 5-13 incomplete: no total, items 1-4 already 0.
    assert bwat_score({"granulation": 1}, healed=True) is None
    assert bwat_items({"granulation": 1}, healed=True) == {**zeros, "granulation": 1}
    # An open wound: the same items without 1-4 have no total.
    assert bwat_score(rest) is None


@pytest.mark.parametrize("name", ["size", "depth", "edges", "undermining"])
def test_bwat_healed_wound_refuses_a_positive_item_1_to_4(name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}: a healed wound scores 0"):
        bwat_score({name: 1}, healed=True)
    # Zero on an open wound is outside 1-5.
    with pytest.raises(ValueError, match=f"^{name}: BWAT item scores are whole numbers 1-5"):
        bwat_score({name: 0})


def test_bwat_healed_wound_keeps_items_5_to_13_in_range() -> None:
    with pytest.raises(ValueError, match=r"^granulation: BWAT item scores are whole numbers 1-5"):
        bwat_score({"granulation": 0}, healed=True)
    with pytest.raises(ValueError, match=r"^size: BWAT item scores are whole numbers"):
        bwat_score({"size": False}, healed=True)


@pytest.mark.parametrize(
    ("items", "name"),
    [
        (_items(3, depth=0), "depth"),
        (_items(3, edges=6), "edges"),
        (_items(3, skin_color=True), "skin_color"),
        ({"size": 2.5}, "size"),
        ({"odour": 2}, "odour"),
    ],
)
def test_bwat_rejects_bad_items_by_name(items: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}:"):
        bwat_score(items)


def test_bwat_items_are_of_an_open_wound_unless_told() -> None:
    with pytest.raises(ValueError, match=r"^size: BWAT item scores are whole numbers 1-5"):
        bwat_items({"size": 0})
    assert bwat_items({"size": 2}) == {"size": 2}


def test_fractions_of_a_percent_count_as_present() -> None:
    # "Present" is any percentage above 0, not above 1.
    assert push_tissue_subscore(Tissue(slough_pct=0.5, granulation_pct=50), closed=False) == 3
    assert push_tissue_subscore(Tissue(granulation_pct=0.5, epithelial_pct=50), closed=False) == 2
    assert not Tissue(epithelial_pct=0.5).is_empty()


def test_tissue_over_100_by_half_a_percent_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^tissue: percentages sum to 100.5, more than 100$"):
        Tissue(granulation_pct=50, slough_pct=50.5).validate()


def test_score_messages_name_the_field_and_list_the_vocabulary() -> None:
    with pytest.raises(ValueError, match=r"^length_cm:"):
        bwat_size_item(-1, 1)
    with pytest.raises(ValueError) as exc:
        push_exudate_subscore("heavy")
    assert str(exc.value) == (
        "exudate_amount: 'heavy' is not one of none, scant, small, moderate, large"
    )
