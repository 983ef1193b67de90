"""Wound scores: PUSH 3.0 and the Bates-Jensen Wound Assessment Tool (BWAT).

Sources:

* PUSH 3.0: National Pressure Ulcer Advisory Panel, Pressure Ulcer Scale for
  Healing, version 3.0 (1998). Total 0-17 = length x width sub-score (0-10) +
  exudate amount (0-3) + tissue type (0-4).
* BWAT: Bates-Jensen BM, Bates-Jensen Wound Assessment Tool (revised PSST,
  2001). 13 scored items, each 1-5, total 13-65. Its instructions for use
  score items 1-4 (size, depth, edges, undermining) 0 once the wound has
  healed/resolved, so a healed wound totals 9-45.

Judgement calls (written down because the sources leave them open):

* PUSH length x width. The two open-ended bands are read on the product as
  measured, unrounded: "< 0.3" is any product above 0 and below 0.3 (0.5 x 0.5
  = 0.25 scores 1), "> 24.0" any product above 24.0 (1.0 x 24.04 = 24.04
  scores 10). Between them the bands are printed in 0.1 steps with gaps
  (0.6 to 0.7, ...), so a product there is rounded to one decimal
  (ROUND_HALF_UP, on the decimal values as entered, so 0.1 x 3 is exactly 0.3
  and 0.65 -> 0.7) and placed in its printed band. Sub-score 0 means no area at
  all (a product of exactly 0).
* PUSH exudate: the API vocabulary has five amounts; scant and small are the
  tool's "light", large is its "heavy" (API contract).
* PUSH tissue type for an open wound with no tissue recorded (no tissue given,
  or every percentage 0) has no score: the total is not computed rather than
  guessed. A closed wound scores tissue 0 ("closed/resurfaced") and, when no
  length, width or exudate is recorded, area 0 and exudate 0 (a resurfaced wound
  has no open area and no exudate).
* BWAT size bands as printed leave gaps (16.0 to 16.1, 36.0 to 36.1) and put
  exactly 80 in no band. Each printed upper bound is strict ("< 16", "< 36",
  "< 80"), so a gap value cannot belong to the lower band without contradicting
  the text; it goes to the next band up. The bands used are therefore
  [0, 4) -> 1, [4, 16) -> 2, [16, 36) -> 3, [36, 80) -> 4, [80, inf) -> 5.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

EXUDATE_AMOUNTS: tuple[str, ...] = ("none", "scant", "small", "moderate", "large")

# PUSH 3.0 exudate amount: none 0, light 1, moderate 2, heavy 3.
_PUSH_EXUDATE: dict[str, int] = {"none": 0, "scant": 1, "small": 1, "moderate": 2, "large": 3}

# PUSH 3.0 length x width. Open ends on the unrounded product: above 0 and
# below 0.3 scores 1, above 24.0 scores 10. Between them, the bands on the
# product rounded to 0.1 cm^2: (largest rounded area in the band, sub-score).
_PUSH_AREA_SMALLEST = (Decimal("0.3"), 1)
_PUSH_AREA_BANDS: tuple[tuple[Decimal, int], ...] = (
    (Decimal("0.6"), 2),
    (Decimal("1.0"), 3),
    (Decimal("2.0"), 4),
    (Decimal("3.0"), 5),
    (Decimal("4.0"), 6),
    (Decimal("8.0"), 7),
    (Decimal("12.0"), 8),
    (Decimal("24.0"), 9),
)
_PUSH_AREA_LARGEST = (Decimal("24.0"), 10)

# BWAT item 1 (size) bands: (exclusive upper bound of L x W in cm^2, item score).
_BWAT_SIZE_BANDS: tuple[tuple[Decimal, int], ...] = (
    (Decimal(4), 1),
    (Decimal(16), 2),
    (Decimal(36), 3),
    (Decimal(80), 4),
)
_BWAT_SIZE_ABOVE = 5

BWAT_ITEMS: tuple[str, ...] = (
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
# Items 1-4, scored 0 once the wound has healed (BWAT instructions for use).
BWAT_HEALED_ITEMS: tuple[str, ...] = ("size", "depth", "edges", "undermining")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _length(name: str, value: float) -> Decimal:
    """A length in cm as the exact decimal that was entered (repr round-trips)."""
    if not _is_number(value) or not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name}: must be >= 0, got {value!r}")
    return Decimal(repr(float(value)))


@dataclass(frozen=True)
class Tissue:
    """Percentages of the wound bed by tissue type (API contract "tissue")."""

    epithelial_pct: float = 0
    granulation_pct: float = 0
    slough_pct: float = 0
    necrotic_pct: float = 0

    def validate(self) -> None:
        """Each percentage 0-100 and their sum <= 100; ValueError names the field."""
        values: list[float] = []
        for name in TISSUE_FIELDS:
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or not 0 <= value <= 100:
                raise ValueError(f"{name}: must be a number from 0 to 100, got {value!r}")
            values.append(value)
        total = math.fsum(values)
        # Tolerance for entries such as 33.3 + 33.3 + 33.4 summing to 100.00000000000001.
        if total > 100 + 1e-9:
            raise ValueError(f"tissue: percentages sum to {total:g}, more than 100")

    def is_empty(self) -> bool:
        """True when no tissue type is recorded as present."""
        return not any(getattr(self, name) > 0 for name in TISSUE_FIELDS)


# Tissue's fields by name: dataclasses.fields() builds its tuple on every call,
# and assessments validate tissue on every write.
TISSUE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Tissue))


@dataclass(frozen=True)
class PushScore:
    """PUSH 3.0 sub-scores and total (0-17)."""

    area: int
    exudate: int
    tissue: int
    total: int

    def to_dict(self) -> dict[str, int]:
        """Plain-JSON form: {"area", "exudate", "tissue", "total"}."""
        return {
            "area": self.area,
            "exudate": self.exudate,
            "tissue": self.tissue,
            "total": self.total,
        }


def push_area_subscore(length_cm: float, width_cm: float) -> int:
    """PUSH 3.0 length x width sub-score, 0-10.

    Source: NPUAP PUSH 3.0 (1998): 0 -> 0; < 0.3 -> 1; 0.3-0.6 -> 2; 0.7-1.0 -> 3;
    1.1-2.0 -> 4; 2.1-3.0 -> 5; 3.1-4.0 -> 6; 4.1-8.0 -> 7; 8.1-12.0 -> 8;
    12.1-24.0 -> 9; > 24.0 -> 10. The open ends ("< 0.3", "> 24.0") are read on
    the unrounded product; between them L x W is rounded half-up to one decimal
    (module docstring). ValueError for negative or non-finite lengths.
    """
    product = _length("length_cm", length_cm) * _length("width_cm", width_cm)
    if product == 0:
        return 0
    below, smallest = _PUSH_AREA_SMALLEST
    if product < below:
        return smallest
    above, largest = _PUSH_AREA_LARGEST
    if product > above:
        return largest
    rounded = product.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    for upper, score in _PUSH_AREA_BANDS[:-1]:
        if rounded <= upper:
            return score
    # 0.3 <= product <= 24.0 rounds to at most 24.0: the last band (12.1-24.0).
    return _PUSH_AREA_BANDS[-1][1]


def push_exudate_subscore(amount: str) -> int:
    """PUSH 3.0 exudate amount sub-score: none 0, light 1, moderate 2, heavy 3.

    Source: NPUAP PUSH 3.0 (1998); API vocabulary scant/small = light,
    large = heavy. ValueError for an amount outside EXUDATE_AMOUNTS.
    """
    if amount not in _PUSH_EXUDATE:
        raise ValueError(f"exudate_amount: {amount!r} is not one of {', '.join(EXUDATE_AMOUNTS)}")
    return _PUSH_EXUDATE[amount]


def push_tissue_subscore(tissue: Tissue | None, *, closed: bool) -> int:
    """PUSH 3.0 tissue type sub-score: the worst tissue present.

    Source: NPUAP PUSH 3.0 (1998): closed/resurfaced 0, epithelial 1,
    granulation 2, slough 3, necrotic tissue (eschar) 4. A closed wound scores 0.
    An open wound with no tissue recorded raises ValueError (there is no score
    to give; push_score returns None instead).
    """
    if closed:
        return 0
    if tissue is None or tissue.is_empty():
        raise ValueError("tissue: no tissue type recorded for an open wound")
    tissue.validate()
    return _worst_tissue(tissue)


def _worst_tissue(tissue: Tissue) -> int:
    """The PUSH tissue sub-score of a validated, non-empty tissue record."""
    if tissue.necrotic_pct > 0:
        return 4
    if tissue.slough_pct > 0:
        return 3
    if tissue.granulation_pct > 0:
        return 2
    return 1


def push_score(
    length_cm: float | None,
    width_cm: float | None,
    exudate_amount: str | None,
    tissue: Tissue | None,
    *,
    closed: bool,
) -> PushScore | None:
    """PUSH 3.0 total (0-17) or None when it cannot be computed without guessing.

    Source: NPUAP PUSH 3.0 (1998). None for an open wound missing length, width,
    exudate amount or tissue type. A closed wound scores tissue 0, and area 0 and
    exudate 0 when those are not recorded (module docstring).
    """
    if tissue is not None:
        tissue.validate()
    if length_cm is not None and width_cm is not None:
        area = push_area_subscore(length_cm, width_cm)
    elif closed:
        area = 0
    else:
        return None
    if exudate_amount is not None:
        exudate = push_exudate_subscore(exudate_amount)
    elif closed:
        exudate = 0
    else:
        return None
    if closed:
        tissue_score = 0
    elif tissue is None or tissue.is_empty():
        return None
    else:
        tissue_score = _worst_tissue(tissue)  # validated above
    return PushScore(
        area=area, exudate=exudate, tissue=tissue_score, total=area + exudate + tissue_score
    )


@dataclass(frozen=True)
class BwatScore:
    """BWAT item scores (in BWAT_ITEMS order) and total (13-65; 9-45 once healed)."""

    items: dict[str, int]
    total: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: {"items": {...}, "total"}."""
        return {"items": dict(self.items), "total": self.total}


def bwat_size_item(length_cm: float, width_cm: float) -> int:
    """BWAT item 1 (size) from length x width in cm^2.

    Source: Bates-Jensen Wound Assessment Tool (2001), item 1: 1 < 4; 2 4 to < 16;
    3 16.1 to < 36; 4 36.1 to < 80; 5 > 80. Gap values (16.0-16.1, 36.0-36.1,
    exactly 80) go to the next band up (module docstring).
    """
    product = _length("length_cm", length_cm) * _length("width_cm", width_cm)
    for upper, score in _BWAT_SIZE_BANDS:
        if product < upper:
            return score
    return _BWAT_SIZE_ABOVE


def bwat_items(
    items: Mapping[str, int],
    *,
    length_cm: float | None = None,
    width_cm: float | None = None,
    healed: bool = False,
) -> dict[str, int]:
    """The BWAT item scores to add up: the given items, checked, completed by
    what the tool itself decides (in BWAT_ITEMS order, missing items left out).

    Source: Bates-Jensen Wound Assessment Tool (2001), instructions for use.
    - A healed (resolved) wound scores items 1-4 (size, depth, edges,
      undermining) 0: "If the wound has healed/resolved, score items 1, 2, 3 &
      4 as = 0". Given as 0 or omitted, they are 0; a score 1-5 on one of them
      contradicts the healing and raises ValueError naming the item.
    - Otherwise every item scores 1-5, and the size item may be derived from
      length x width when not given (a given size item wins).
    ValueError names an unknown item or a score outside its range.
    """
    for name in items:
        if name not in BWAT_ITEMS:
            raise ValueError(f"{name}: not a BWAT item")
    scored = dict(items)
    for name, value in scored.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name}: BWAT item scores are whole numbers, got {value!r}")
        if healed and name in BWAT_HEALED_ITEMS:
            if value != 0:
                raise ValueError(
                    f"{name}: a healed wound scores 0 on BWAT items 1-4 (size, depth, edges,"
                    f" undermining), got {value}"
                )
        elif not 1 <= value <= 5:
            raise ValueError(f"{name}: BWAT item scores are whole numbers 1-5, got {value!r}")
    if healed:
        scored.update(dict.fromkeys(BWAT_HEALED_ITEMS, 0))
    elif "size" not in scored and length_cm is not None and width_cm is not None:
        scored["size"] = bwat_size_item(length_cm, width_cm)
    return {name: scored[name] for name in BWAT_ITEMS if name in scored}


def bwat_score(
    items: Mapping[str, int],
    *,
    length_cm: float | None = None,
    width_cm: float | None = None,
    healed: bool = False,
) -> BwatScore | None:
    """BWAT total from its 13 item scores, or None when any item is missing.

    Source: Bates-Jensen Wound Assessment Tool (2001), 13 scored items each 1-5
    (total 13-65); a healed wound scores items 1-4 as 0 (total 9-45). The items
    are completed and checked by bwat_items; missing items are never guessed.
    ValueError as bwat_items.
    """
    scored = bwat_items(items, length_cm=length_cm, width_cm=width_cm, healed=healed)
    if len(scored) < len(BWAT_ITEMS):
        return None
    return BwatScore(items=scored, total=sum(scored.values()))
