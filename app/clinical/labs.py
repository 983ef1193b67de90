"""Laboratory values: unit conversion, plausibility and CTCAE v5.0 grading.

The tests that matter for wound healing under radiotherapy and anti-angiogenic
therapy: hemoglobin (oxygen delivery), platelets, neutrophils, white cells and
lymphocytes (bleeding, infection; anlotinib and radiotherapy both suppress
marrow, and radiotherapy depletes lymphocytes) and albumin (nutrition).
Grades follow the Common Terminology Criteria for Adverse Events (CTCAE)
v5.0, 27 Nov 2017, terms "Anemia", "Platelet count decreased", "Neutrophil
count decreased", "White blood cell decreased", "Lymphocyte count decreased"
and "Hypoalbuminemia".

Grade 1 is "<LLN", below the laboratory's own lower limit of normal: the one
the result came with when the laboratory sent it, else a default
(ReferenceLimits), sex-specific for hemoglobin.

Pure functions, standard library only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

TESTS: tuple[str, ...] = (
    "hemoglobin",
    "platelets",
    "neutrophils",
    "albumin",
    "wbc",
    "lymphocytes",
)

CANONICAL_UNITS: dict[str, str] = {
    "hemoglobin": "g/dL",
    "platelets": "10^9/L",
    "neutrophils": "10^9/L",
    "albumin": "g/dL",
    "wbc": "10^9/L",
    "lymphocytes": "10^9/L",
}

# Hemoglobin in mmol/L is conventionally expressed per iron-containing monomer
# (molar mass 16 114.5 g/mol; ICSH/IFCC reference method, van Assendelft 1996):
# 1 mmol/L = 16.114 g/L = 1.611 g/dL, the factor used by Dutch and Scandinavian labs.
HEMOGLOBIN_G_DL_PER_MMOL_L = 1.611

# Accepted units per test, spelled as a user would type them, with the factor that
# multiplies a value in that unit to give the canonical unit. Cell counts: 10^3/uL
# equals 10^9/L (1 uL = 1e-6 L); a count per uL (= per mm3) is 1e-3 x 10^9/L.
_CELL_COUNT_UNITS: dict[str, float] = {
    "10^9/L": 1.0,
    "10^3/uL": 1.0,
    "10^3/µL": 1.0,
    "/mm3": 1e-3,
    "/uL": 1e-3,
}
_CONVERSIONS: dict[str, dict[str, float]] = {
    "hemoglobin": {"g/dL": 1.0, "g/L": 0.1, "mmol/L": HEMOGLOBIN_G_DL_PER_MMOL_L},
    "platelets": {
        "10^9/L": 1.0,
        "10^3/uL": 1.0,
        "10^3/µL": 1.0,
        "/mm3": 1e-3,
        "/uL": 1e-3,
    },
    "neutrophils": _CELL_COUNT_UNITS,
    "albumin": {"g/dL": 1.0, "g/L": 0.1},
    "wbc": _CELL_COUNT_UNITS,
    "lymphocytes": _CELL_COUNT_UNITS,
}

ACCEPTED_UNITS: dict[str, tuple[str, ...]] = {
    test: tuple(units) for test, units in _CONVERSIONS.items()
}

# Plausibility: (lowest, highest) canonical value a living patient's sample can
# show. Anything outside is a typo or a unit mix-up (e.g. hemoglobin 120 entered
# in g/dL instead of g/L). Upper bounds are well above any reported extreme:
# hemoglobin in polycythaemia rarely exceeds 23 g/dL; platelets in essential
# thrombocythaemia a few thousand x10^9/L; neutrophils in leukaemoid reactions
# a few hundred x10^9/L; white cells (and lymphocytes, in chronic lymphocytic
# leukaemia) up to several hundred x10^9/L, so 1000 is the bound; albumin in
# serum never reaches 10 g/dL. Hemoglobin and albumin of exactly zero are not
# survivable, so the lower bound excludes zero; counts of zero are possible
# (aplasia, agranulocytosis).
PLAUSIBLE_RANGES: dict[str, tuple[float, float, bool]] = {
    # test: (low, high, low_inclusive)
    "hemoglobin": (0.0, 25.0, False),
    "platelets": (0.0, 5000.0, True),
    "neutrophils": (0.0, 500.0, True),
    "albumin": (0.0, 10.0, False),
    "wbc": (0.0, 1000.0, True),
    "lymphocytes": (0.0, 1000.0, True),
}

CTCAE_TERMS: dict[str, str] = {
    "hemoglobin": "Anemia",
    "platelets": "Platelet count decreased",
    "neutrophils": "Neutrophil count decreased",
    "albumin": "Hypoalbuminemia",
    "wbc": "White blood cell decreased",
    "lymphocytes": "Lymphocyte count decreased",
}

SEXES_WITH_OWN_HEMOGLOBIN_LLN: tuple[str, ...] = ("female", "male")


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
    """Default lower limits of normal (LLN) for CTCAE grade 1, used when a
    result comes without the laboratory's own.

    CTCAE grades grade 1 against the laboratory's own LLN; these defaults are
    common adult reference values and are meant to be configured per service.
    Hemoglobin is sex-specific: 12.0 g/dL for women and 13.0 g/dL for men, the
    WHO anaemia thresholds for non-pregnant women and for men aged 15 and over
    (WHO/NMH/NHD/MNM/11.1, 2011); the women's 12.0 is also used when the sex is
    other or unknown (the lower limit: no one is called anaemic on a guess).
    Platelets 150 x10^9/L, neutrophils 2.0 x10^9/L, white cells 4.0 x10^9/L,
    lymphocytes 1.0 x10^9/L, albumin 3.5 g/dL.
    """

    hemoglobin_lln_g_dl: float = 12.0
    hemoglobin_male_lln_g_dl: float = 13.0
    platelets_lln: float = 150.0
    neutrophils_lln: float = 2.0
    albumin_lln: float = 3.5
    wbc_lln: float = 4.0
    lymphocytes_lln: float = 1.0

    def lln(self, test: str, sex: str | None = None) -> float:
        """The default lower limit of normal for ``test``, in its canonical unit
        (for hemoglobin, the one of ``sex``: male 13.0, else 12.0 g/dL)."""
        _check_test(test)
        if test == "hemoglobin" and sex == "male":
            return self.hemoglobin_male_lln_g_dl
        return {
            "hemoglobin": self.hemoglobin_lln_g_dl,
            "platelets": self.platelets_lln,
            "neutrophils": self.neutrophils_lln,
            "albumin": self.albumin_lln,
            "wbc": self.wbc_lln,
            "lymphocytes": self.lymphocytes_lln,
        }[test]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _lln_source(test: str, sex: str | None) -> str:
    """Where a default LLN comes from, for the reasons."""
    if test != "hemoglobin":
        return "default"
    if sex in SEXES_WITH_OWN_HEMOGLOBIN_LLN:
        return f"default for {'men' if sex == 'male' else 'women'}, WHO 2011"
    return "default; sex not recorded as female or male: the women's, WHO 2011"


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
    # White blood cell decreased: 1 <LLN-3.0 x10^9/L; 2 <3.0-2.0; 3 <2.0-1.0; 4 <1.0.
    "wbc": ((4, 1.0), (3, 2.0), (2, 3.0)),
    # Lymphocyte count decreased: 1 <LLN-0.8 x10^9/L; 2 <0.8-0.5; 3 <0.5-0.2; 4 <0.2.
    "lymphocytes": ((4, 0.2), (3, 0.5), (2, 0.8)),
}

# Terms whose grade 4 is defined by clinical consequences, not by a value.
_GRADE4_CLINICAL = {
    "hemoglobin": "life-threatening consequences; urgent intervention indicated",
    "albumin": "life-threatening consequences; urgent intervention indicated",
}


def grade_lab(
    test: str,
    canonical_value: float,
    limits: ReferenceLimits = ReferenceLimits(),
    *,
    lln: float | None = None,
    sex: str | None = None,
) -> LabGrade:
    """Grade a lab value by CTCAE v5.0 (NCI, 2017).

    Thresholds, value in the canonical unit:
    - Anemia (hemoglobin, g/dL): 1 <LLN-10.0; 2 <10.0-8.0; 3 <8.0.
    - Platelet count decreased (10^9/L): 1 <LLN-75.0; 2 <75.0-50.0; 3 <50.0-25.0; 4 <25.0.
    - Neutrophil count decreased (10^9/L): 1 <LLN-1.5; 2 <1.5-1.0; 3 <1.0-0.5; 4 <0.5.
    - White blood cell decreased (10^9/L): 1 <LLN-3.0; 2 <3.0-2.0; 3 <2.0-1.0; 4 <1.0.
    - Lymphocyte count decreased (10^9/L): 1 <LLN-0.8; 2 <0.8-0.5; 3 <0.5-0.2; 4 <0.2.
    - Hypoalbuminemia (g/dL): 1 <LLN-3; 2 <3-2; 3 <2.
    Ranges are "below": exactly 10.0 g/dL hemoglobin is grade 1, not 2. Grade 4
    of Anemia and Hypoalbuminemia is "life-threatening consequences; urgent
    intervention indicated", a clinical judgement that no value can derive, so
    the highest grade returned for them is 3 and its reasons say so.
    Grade 1 is below ``lln``, the laboratory's own lower limit of normal (in
    the canonical unit) when the result came with one, else the default of
    ``limits`` (for hemoglobin the one of the patient's ``sex``); the reasons
    say which. Raises ValueError for an unknown test, an implausible value or
    a lower limit that is not a positive finite number.
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
    if lln is None:
        limit, source = limits.lln(test, sex), _lln_source(test, sex)
    elif math.isfinite(lln) and lln > 0:
        limit, source = lln, "the laboratory's"
    else:
        raise ValueError(f"lower_limit_normal: must be a positive number, got {lln!r}")
    if canonical_value < limit:
        return LabGrade(
            term=term,
            value=1,
            reasons=(
                f"{test} {canonical_value:g} {unit} < LLN {limit:g} {unit} ({source}): "
                f"CTCAE v5.0 {term} grade 1",
            ),
        )
    return LabGrade(
        term=term,
        value=0,
        reasons=(
            f"{test} {canonical_value:g} {unit} >= LLN {limit:g} {unit} ({source}): not decreased",
        ),
    )
