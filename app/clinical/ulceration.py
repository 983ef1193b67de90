"""CTCAE v5.0 "Skin ulceration", graded beside "Dermatitis radiation".

Source: NCI Common Terminology Criteria for Adverse Events v5.0 (2017), Skin
and subcutaneous tissue disorders, term "Skin ulceration":

1 Combined area of ulcers <1 cm; nonblanchable erythema of intact skin with
  associated warmth or edema
2 Combined area of ulcers 1 - 2 cm; partial thickness skin loss involving skin
  or subcutaneous fat
3 Combined area of ulcers >2 cm; full-thickness skin loss involving damage to
  or necrosis of subcutaneous tissue that may extend down to fascia
4 Any size ulcer with extensive destruction, tissue necrosis, or damage to
  muscle, bone, or supporting structures with or without full thickness skin
  loss
5 Death (never derived)

Each grade joins an area criterion and a depth criterion with ";" (either
meets it), so the grade is the higher of the area level and the depth level;
the reasons name what set it. It is graded only when an ulcer is recorded
(``ulceration`` other than none, or ``deep_tissue_damage``); otherwise the
answer is None, not grade 0, because the term does not apply.

Judgement calls:

* "Combined area ... cm" is read as the ulcer area in cm^2 (the wound's area
  in use: traced, measured or the ellipse estimate), since an area is what the
  criterion names. Bands: < 1 -> 1; 1 to 2 inclusive -> 2; > 2 -> 3. An
  ulcer without an area recorded is graded on its depth alone, and the
  reasons say the area was not measured.
* Depth: a partial-thickness ulcer meets grade 2; a full-thickness ulcer
  (through the dermis) meets grade 3; ``deep_tissue_damage`` (muscle, bone or
  supporting structures) or ``necrosis`` in an ulcer meets grade 4.
* Grade 1's "nonblanchable erythema of intact skin" describes skin that has
  not ulcerated; an assessment with an ulcer recorded has broken skin, so
  grade 1 is reached by a small area only.

Pure functions, standard library only.
"""

from __future__ import annotations

import math

from app.clinical.grading import Findings, Grade, Reason

TERM = "Skin ulceration"
SCALE = "ctcae_skin_ulceration"

# (exclusive upper bound of the combined area in cm^2, grade, criterion); above
# the last bound the area meets grade 3.
_AREA_1 = (1.0, 1, "Combined area of ulcers <1 cm")
_AREA_2 = (2.0, 2, "Combined area of ulcers 1 - 2 cm")
_AREA_3 = (3, "Combined area of ulcers >2 cm")

_PARTIAL = (2, "partial thickness skin loss involving skin or subcutaneous fat")
_FULL = (
    3,
    "full-thickness skin loss involving damage to or necrosis of subcutaneous tissue"
    " that may extend down to fascia",
)
_DEEP = (
    4,
    "Any size ulcer with extensive destruction, tissue necrosis, or damage to muscle,"
    " bone, or supporting structures",
)


def has_ulcer(findings: Findings) -> bool:
    """Whether an ulcer is recorded (the term applies)."""
    return findings.ulceration != "none" or findings.deep_tissue_damage


def _area_reason(area_cm2: float) -> Reason:
    upper1, grade1, text1 = _AREA_1
    upper2, grade2, text2 = _AREA_2
    if area_cm2 < upper1:
        grade, text = grade1, text1
    elif area_cm2 <= upper2:
        grade, text = grade2, text2
    else:
        grade, text = _AREA_3
    return Reason(finding="area_cm2", value=f"{area_cm2:g}", grade=grade, criterion=text)


def _depth_reasons(findings: Findings) -> list[Reason]:
    met: list[Reason] = []
    if findings.ulceration == "partial_thickness":
        met.append(Reason("ulceration", "partial_thickness", *_PARTIAL))
    if findings.ulceration == "full_thickness":
        met.append(Reason("ulceration", "full_thickness", *_FULL))
    if findings.deep_tissue_damage:
        met.append(Reason("deep_tissue_damage", "true", *_DEEP))
    if findings.necrosis:
        met.append(Reason("necrosis", "true", *_DEEP))
    return met


def grade_skin_ulceration(findings: Findings, area_cm2: float | None) -> Grade | None:
    """CTCAE v5.0 "Skin ulceration" grade (1-4) of an assessment, or None when no
    ulcer is recorded (the term does not apply).

    Source: NCI CTCAE v5.0 (2017), "Skin ulceration" (module docstring): the
    higher of the combined-area level (< 1 cm^2: 1; 1-2: 2; > 2: 3) and the
    depth level (partial thickness 2, full thickness 3, deep tissue damage or
    necrosis 4). ``area_cm2`` is the ulcer's area in use, None when not
    measured (then depth alone decides, and a reason says so). Reasons list the
    criteria at the final level. ValueError for a negative or non-finite area.
    """
    if not has_ulcer(findings):
        return None
    met = _depth_reasons(findings)
    if area_cm2 is not None:
        if not math.isfinite(area_cm2) or area_cm2 < 0:
            raise ValueError(f"area_cm2: must be a finite number >= 0, got {area_cm2!r}")
        met.append(_area_reason(area_cm2))
    grade = max(reason.grade for reason in met)
    reasons = [reason for reason in met if reason.grade == grade]
    if area_cm2 is None:
        reasons.append(
            Reason("area_cm2", "not measured", grade, "graded on the depth of tissue loss alone")
        )
    return Grade(scale=SCALE, value=grade, reasons=tuple(reasons))
