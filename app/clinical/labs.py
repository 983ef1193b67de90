"""Laboratory values: unit conversion, plausibility and CTCAE v5.0 grading.

Four tests matter for wound healing under radiotherapy and anti-angiogenic
therapy: hemoglobin (oxygen delivery), platelets and neutrophils (bleeding,
infection; anlotinib and radiotherapy both suppress marrow) and albumin
(nutrition). Grades follow the Common Terminology Criteria for Adverse Events
(CTCAE) v5.0, 27 Nov 2017, terms "Anemia", "Platelet count decreased",
"Neutrophil count decreased" and "Hypoalbuminemia".

Pure functions, standard library only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

TESTS: tuple[str, ...] = ("hemoglobin", "platelets", "neutrophils", "albumin")

CANONICAL_UNITS: dict[str, str] = {
    "hemoglobin": "g/dL",
    "platelets": "10^9/L",
    "neutrophils": "10^9/L",
    "albumin": "g/dL",
}

# Hemoglobin in mmol/L is conventionally expressed per iron-containing monomer
# (molar mass 16 114.5 g/mol; ICSH/IFCC reference method, van Assendelft 1996):
# 1 mmol/L = 16.114 g/L = 1.611 g/dL, the factor used by Dutch and Scandinavian labs.
HEMOGLOBIN_G_DL_PER_MMOL_L = 1.611

# Accepted units per test, spelled as a user would type them, with the factor that
# multiplies a value in that unit to give the canonical unit. Cell counts: 10^3/uL
# equals 10^9/L (1 uL = 1e-6 L); a count per uL (= per mm3) is 1e-3 x 10^9/L.
_CONVERSIONS: dict[str, dict[str, float]] = {
    "hemoglobin": {"g/dL": 1.0, "g/L": 0.1, "mmol/L": HEMOGLOBIN_G_DL_PER_MMOL_L},
    "platelets": {
        "10^9/L": 1.0,
        "10^3/uL": 1.0,
        "10^3/µL": 1.0,
        "/mm3": 1e-3,
        "/uL": 1e-3,
    },
    "neutrophils": {
        "10^9/L": 1.0,
        "10^3/uL": 1.0,
        "10^3/µL": 1.0,
        "/mm3": 1e-3,
        "/uL": 1e-3,
    },
    "albumin": {"g/dL": 1.0, "g/L": 0.1},
}

ACCEPTED_UNITS: dict[str, tuple[str, ...]] = {
    test: tuple(units) for test, units in _CONVERSIONS.items()
}

# Plausibility: (lowest, highest) canonical value a living patient's sample can
# show. Anything outside is a typo or a unit mix-up (e.g. hemoglobin 120 entered
# in g/dL instead of g/L). Upper bounds are well above any reported extreme:
# hemoglobin in polycythaemia rarely exceeds 23 g/dL; platelets in essential
# thrombocythaemia a few thousand x10^9/L; neutrophils in leukaemoid reactions
# a few hundred x10^9/L; albumin in serum never reaches 10 g/dL. Hemoglobin and
# albumin of exactly zero are not survivable, so the lower bound excludes zero;
# counts of zero are possible (aplasia, agranulocytosis).
PLAUSIBLE_RANGES: dict[str, tuple[float, float, bool]] = {
    # test: (low, high, low_inclusive)
    "hemoglobin": (0.0, 25.0, False),
    "platelets": (0.0, 5000.0, True),
    "neutrophils": (0.0, 500.0, True),
    "albumin": (0.0, 10.0, False),
}

CTCAE_TERMS: dict[str, str] = {
    "hemoglobin": "Anemia",
    "platelets": "Platelet count decreased",
    "neutrophils": "Neutrophil count decreased",
    "albumin": "Hypoalbuminemia",
}


class UnitError(ValueError):
    """A unit that is not accepted for the test; the message lists the accepted ones."""


def _normalise_unit(unit: str) -> str:
    """Compare units without spaces, case, the 'x' prefix or the micro-sign variant."""
    text = unit.strip().replace(" ", "").replace("\u03bc", "u").replace("\u00b5", "u").lower()
    if text.startswith(("x10", "\u00d710")):
        text = text[1:]
    return text


def _check_test(test: str) -> None:
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {', '.join(TESTS)}")


def check_plausible(test: str, canonical_value: float) -> None:
    """Reject values that cannot come from a living patient (unit mix-ups, typos).

    Bounds are in PLAUSIBLE_RANGES (a judgement from physiology, documented there;
    no published source defines them). Raises ValueError naming the rule broken.
    """
    _check_test(test)
    unit = CANONICAL_UNITS[test]
    if not math.isfinite(canonical_value):
        raise ValueError(f"{test} must be a finite number, got {canonical_value!r}")
    low, high, low_inclusive = PLAUSIBLE_RANGES[test]
    if canonical_value < 0:
        raise ValueError(f"{test} cannot be negative (got {canonical_value:g} {unit})")
    if not low_inclusive and canonical_value <= low:
        raise ValueError(f"{test} must be greater than {low:g} {unit} (got {canonical_value:g})")
    if canonical_value > high:
        raise ValueError(
            f"{test} {canonical_value:g} {unit} is above the plausible maximum of {high:g} {unit};"
            " check the unit"
        )


def to_canonical(test: str, value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` to the canonical unit of ``test`` and check it.

    Canonical units are those CTCAE v5.0 states its thresholds in (g/dL for
    hemoglobin and albumin, 10^9/L for cell counts). Hemoglobin mmol/L uses the
    monomer convention, 1 mmol/L = 1.611 g/dL (ICSH, van Assendelft 1996).
    Raises UnitError (a ValueError) for an unknown unit, listing the accepted
    ones, and ValueError for an implausible result (see check_plausible).
    """
    _check_test(test)
    wanted = _normalise_unit(unit)
    factor = next(
        (f for name, f in _CONVERSIONS[test].items() if _normalise_unit(name) == wanted),
        None,
    )
    if factor is None:
        raise UnitError(
            f"unit {unit!r} is not accepted for {test}; "
            f"use one of {', '.join(ACCEPTED_UNITS[test])}"
        )
    canonical = value * factor
    check_plausible(test, canonical)
    return canonical


@dataclass(frozen=True)
class ReferenceLimits:
    """Lower limits of normal (LLN) used for CTCAE grade 1.

    CTCAE grades grade 1 against the laboratory's own LLN; these defaults are
    common adult reference values and are meant to be configured per clinic.
    hemoglobin_lln_g_dl 12.0 is the adult female limit (WHO anaemia threshold
    for non-pregnant women; 13.0 for men), chosen because the seed case is a
    woman; platelets 150 x10^9/L, neutrophils 2.0 x10^9/L, albumin 3.5 g/dL.
    """

    hemoglobin_lln_g_dl: float = 12.0
    platelets_lln: float = 150.0
    neutrophils_lln: float = 2.0
    albumin_lln: float = 3.5

    def lln(self, test: str) -> float:
        """The lower limit of normal for ``test``, in its canonical unit."""
        _check_test(test)
        return {
            "hemoglobin": self.hemoglobin_lln_g_dl,
            "platelets": self.platelets_lln,
            "neutrophils": self.neutrophils_lln,
            "albumin": self.albumin_lln,
        }[test]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class LabGrade:
    """A CTCAE v5.0 grade (0-4) for one lab value, with the threshold that set it."""

    term: str
    value: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"term": self.term, "value": self.value, "reasons": list(self.reasons)}


# CTCAE v5.0 fixed thresholds, highest grade first: (grade, value must be below).
# Grade 1 is "<LLN" down to the grade-2 threshold and is added from the limits.
_FIXED_THRESHOLDS: dict[str, tuple[tuple[int, float], ...]] = {
    # Anemia: 1 <LLN-10.0 g/dL; 2 <10.0-8.0; 3 <8.0; 4 life-threatening.
    "hemoglobin": ((3, 8.0), (2, 10.0)),
    # Platelet count decreased: 1 <LLN-75.0 x10^9/L; 2 <75.0-50.0; 3 <50.0-25.0; 4 <25.0.
    "platelets": ((4, 25.0), (3, 50.0), (2, 75.0)),
    # Neutrophil count decreased: 1 <LLN-1.5 x10^9/L; 2 <1.5-1.0; 3 <1.0-0.5; 4 <0.5.
    "neutrophils": ((4, 0.5), (3, 1.0), (2, 1.5)),
    # Hypoalbuminemia: 1 <LLN-3 g/dL; 2 <3-2; 3 <2; 4 life-threatening.
    "albumin": ((3, 2.0), (2, 3.0)),
}

# Terms whose grade 4 is defined by clinical consequences, not by a value.
_GRADE4_CLINICAL = {
    "hemoglobin": "life-threatening consequences; urgent intervention indicated",
    "albumin": "life-threatening consequences; urgent intervention indicated",
}


def grade_lab(
    test: str, canonical_value: float, limits: ReferenceLimits = ReferenceLimits()
) -> LabGrade:
    """Grade a lab value by CTCAE v5.0 (NCI, 2017).

    Thresholds, value in the canonical unit:
    - Anemia (hemoglobin, g/dL): 1 <LLN-10.0; 2 <10.0-8.0; 3 <8.0.
    - Platelet count decreased (10^9/L): 1 <LLN-75.0; 2 <75.0-50.0; 3 <50.0-25.0; 4 <25.0.
    - Neutrophil count decreased (10^9/L): 1 <LLN-1.5; 2 <1.5-1.0; 3 <1.0-0.5; 4 <0.5.
    - Hypoalbuminemia (g/dL): 1 <LLN-3; 2 <3-2; 3 <2.
    Ranges are "below": exactly 10.0 g/dL hemoglobin is grade 1, not 2. Grade 4
    of Anemia and Hypoalbuminemia is "life-threatening consequences; urgent
    intervention indicated", a clinical judgement that no value can derive, so
    the highest grade returned for them is 3 and its reasons say so.
    Raises ValueError for an unknown test or an implausible value.
    """
    check_plausible(test, canonical_value)
    term = CTCAE_TERMS[test]
    unit = CANONICAL_UNITS[test]
    for grade, below in _FIXED_THRESHOLDS[test]:
        if canonical_value < below:
            reasons = [
                f"{test} {canonical_value:g} {unit} < {below:g} {unit}: "
                f"CTCAE v5.0 {term} grade {grade}"
            ]
            if test in _GRADE4_CLINICAL and grade == 3:
                reasons.append(
                    f"grade 4 ({_GRADE4_CLINICAL[test]}) is a clinical judgement, "
                    "not derivable from the value"
                )
            return LabGrade(term=term, value=grade, reasons=tuple(reasons))
    lln = limits.lln(test)
    if canonical_value < lln:
        return LabGrade(
            term=term,
            value=1,
            reasons=(
                f"{test} {canonical_value:g} {unit} < LLN {lln:g} {unit}: "
                f"CTCAE v5.0 {term} grade 1",
            ),
        )
    return LabGrade(
        term=term,
        value=0,
        reasons=(f"{test} {canonical_value:g} {unit} >= LLN {lln:g} {unit}: not decreased",),
    )
