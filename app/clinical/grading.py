"""Derive radiation-dermatitis grades from structured findings.

Two acute scales are derived here, both prose in their sources:

* CTCAE v5.0, term "Dermatitis radiation" (NCI, 2017), grades 1-5.
* RTOG acute radiation morbidity scoring, skin (Cox, Stetz, Pajak 1995,
  Int J Radiat Oncol Biol Phys 31:1341, PMID 7713792), grades 0-4.

Beside them, from the same findings: CTCAE v5.0 "Skin ulceration"
(app/clinical/ulceration.py) and the RTOG/EORTC late radiation morbidity
scale for skin and subcutaneous tissue (app/clinical/late_effects.py).

The service records findings in a fixed vocabulary and this module maps every
(finding, value) pair to the level it meets on each scale through an explicit
table. The grade is the highest level any finding meets; the reasons name the
finding(s) that set it and quote the scale text. Grade 5 (death) is never
derived from wound findings.

What the vocabulary covers. Every criterion of CTCAE "Dermatitis radiation"
and of RTOG acute skin is a finding: erythema (faint, follicular, dull,
moderate, bright, brisk) and whether it is tender, epilation, dry or moist
desquamation and whether moist skin spreads beyond a fold, decreased sweating,
edema, bleeding, ulceration (with deep tissue damage), necrosis, skin graft
indicated, life-threatening consequences. The late findings (atrophy,
telangiectasia, pigmentation change, fibrosis) belong to the late scale and
set no acute level. Not captured: RTOG grade 0 "no change over baseline" is
judged against an unrecorded baseline, so grade 0 here means no finding.

Judgement calls (the scales do not say, so the choice is written down here):

* Skin-fold rule. Moist desquamation counts as "confined to skin folds and
  creases" only when the wound lies in a skin fold AND the moist area does not
  extend beyond the fold (``moist_beyond_skin_folds`` is False). A wound that is
  not in a fold has, by definition, moist desquamation outside folds. Confined:
  CTCAE 2 / RTOG 2 ("patchy moist desquamation"). Otherwise: CTCAE 3 / RTOG 3
  ("... other than skin folds"). We do not record patchy versus confluent, so the
  location decides, as both scales split on it.
* Partial-thickness ulceration under CTCAE. CTCAE grade 4 requires "ulceration
  of full thickness dermis"; a partial-thickness ulcer is not a grade-4 criterion.
  Loss of epidermis with exposed, weeping dermis is what moist desquamation is,
  so a partial-thickness ulcer is graded as moist desquamation at that site
  (2 in a fold, 3 elsewhere, by the skin-fold rule). Under RTOG any
  "Ulceration" is grade 4.
* Deep tissue damage (destruction of, or damage to, muscle, bone or supporting
  structures) lies below the full thickness of the dermis: CTCAE 4 ("ulceration
  of full thickness dermis") and RTOG 4 ("Ulceration").
* Bleeding under RTOG. RTOG grade 4 lists "hemorrhage". Spontaneous bleeding
  from the site is hemorrhage (4). Bleeding induced by minor trauma or abrasion
  is contact oozing from exposed dermis, not hemorrhage, and RTOG lists no other
  bleeding criterion, so it sets no RTOG level by itself; the desquamation or
  ulceration that exposes the dermis grades the wound. (CTCAE: minor trauma 3,
  spontaneous 4, as written.)
* Pitting edema under CTCAE. CTCAE lists only "moderate edema" (grade 2).
  Pitting edema is at least moderate edema, so it meets grade 2 and no higher
  (grading it lower than moderate would make a worse finding score lower).
  RTOG lists "pitting edema" at grade 3.
* Erythema. RTOG grade 1 is "Follicular, faint or dull erythema" and grade 2
  "Tender or bright erythema"; CTCAE grade 1 "Faint erythema" and grade 2
  "Moderate to brisk erythema". Faint, follicular and dull erythema meet grade
  1 on both (follicular and dull erythema are of faint intensity, which is
  what CTCAE grade 1 names); moderate, bright and brisk meet grade 2 on both
  (bright is RTOG's word for what CTCAE calls brisk). Tender erythema
  (``erythema_tender`` with any erythema recorded) is RTOG 2; tenderness is
  no CTCAE criterion, and without erythema it sets no level on either scale.
* Epilation and decreased sweating are RTOG grade 1 criteria. CTCAE grades
  hair loss under another term ("Alopecia") and lists no sweating criterion
  for dermatitis, so they set no CTCAE level.
* Skin graft indicated and life-threatening consequences are CTCAE grade 4
  criteria. RTOG lists neither, so they set no RTOG level (the ulceration or
  necrosis that makes a graft necessary grades the wound on RTOG).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

ERYTHEMA: tuple[str, ...] = ("none", "faint", "follicular", "dull", "moderate", "bright", "brisk")
DESQUAMATION: tuple[str, ...] = ("none", "dry", "moist")
EDEMA: tuple[str, ...] = ("none", "moderate", "pitting")
BLEEDING: tuple[str, ...] = ("none", "minor_trauma", "spontaneous")
ULCERATION: tuple[str, ...] = ("none", "partial_thickness", "full_thickness")
EPILATION: tuple[str, ...] = ("none", "partial", "total")
# Late effects (RTOG/EORTC late radiation morbidity, skin and subcutaneous tissue).
ATROPHY: tuple[str, ...] = ("none", "slight", "patchy", "marked")
TELANGIECTASIA: tuple[str, ...] = ("none", "moderate", "gross")
FIBROSIS: tuple[str, ...] = ("none", "slight", "moderate", "severe")

# Allowed values per categorical finding, in order of increasing severity.
CATEGORICAL_FINDINGS: dict[str, tuple[str, ...]] = {
    "erythema": ERYTHEMA,
    "desquamation": DESQUAMATION,
    "edema": EDEMA,
    "bleeding": BLEEDING,
    "ulceration": ULCERATION,
    "epilation": EPILATION,
    "atrophy": ATROPHY,
    "telangiectasia": TELANGIECTASIA,
    "fibrosis": FIBROSIS,
}
BOOLEAN_FINDINGS: tuple[str, ...] = (
    "erythema_tender",
    "moist_beyond_skin_folds",
    "deep_tissue_damage",
    "necrosis",
    "skin_graft_indicated",
    "life_threatening",
    "decreased_sweating",
    "pigmentation_change",
)

SCALES: tuple[str, ...] = ("ctcae", "rtog")


@dataclass(frozen=True)
class Findings:
    """Structured skin findings recorded at one assessment.

    Vocabulary of an assessment's ``findings`` in the API (docs/api.md): the
    criteria of CTCAE v5.0 "Dermatitis radiation" and "Skin ulceration", RTOG
    acute skin and RTOG/EORTC late skin and subcutaneous tissue (Cox 1995);
    what each scale reads of them is in the module docstrings.
    """

    erythema: str = "none"
    erythema_tender: bool = False
    desquamation: str = "none"
    moist_beyond_skin_folds: bool = False
    edema: str = "none"
    bleeding: str = "none"
    ulceration: str = "none"
    deep_tissue_damage: bool = False
    necrosis: bool = False
    skin_graft_indicated: bool = False
    life_threatening: bool = False
    epilation: str = "none"
    decreased_sweating: bool = False
    atrophy: str = "none"
    telangiectasia: str = "none"
    pigmentation_change: bool = False
    fibrosis: str = "none"

    def __post_init__(self) -> None:
        for name, allowed in CATEGORICAL_FINDINGS.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
        for name in BOOLEAN_FINDINGS:
            value = getattr(self, name)
            # bool only: 0/1 or "yes" would hide a client bug.
            if not isinstance(value, bool):
                raise ValueError(f"{name}: must be true or false, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Findings:
        """Build findings from a JSON-like mapping (API contract vocabulary).

        Missing keys and null values take the default (no finding). Unknown keys
        and values outside the vocabulary raise ValueError naming the field.
        """
        unknown = sorted(set(data) - _FINDING_NAMES)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown finding")
        given = {key: value for key, value in data.items() if value is not None}
        return cls(**given)


_FINDING_NAMES = frozenset(f.name for f in fields(Findings))


@dataclass(frozen=True)
class Reason:
    """One finding that met a scale level; ``criterion`` quotes the scale text."""

    finding: str
    value: str
    grade: int
    criterion: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "finding": self.finding,
            "value": self.value,
            "grade": self.grade,
            "criterion": self.criterion,
        }


@dataclass(frozen=True)
class Grade:
    """A derived grade on one scale and the finding(s) that set it.

    ``reasons`` lists only the findings at the final (highest) level; it is
    empty at grade 0 (no finding meets any criterion).
    """

    scale: str
    value: int
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: {"value": int, "reasons": [...]}."""
        return {"value": self.value, "reasons": [r.to_dict() for r in self.reasons]}


# Keys used in the tables for the two site-dependent cases of the skin-fold rule.
_IN_FOLD = "confined_to_skin_folds"
_BEYOND_FOLD = "beyond_skin_folds"

# CTCAE v5.0 "Dermatitis radiation". Source text, by grade:
# 1 Faint erythema or dry desquamation
# 2 Moderate to brisk erythema; patchy moist desquamation, mostly confined to
#   skin folds and creases; moderate edema
# 3 Moist desquamation in areas other than skin folds and creases; bleeding
#   induced by minor trauma or abrasion
# 4 Life-threatening consequences; skin necrosis or ulceration of full thickness
#   dermis; spontaneous bleeding from involved site; skin graft indicated
# 5 Death (never derived here)
_CTCAE_MOIST_FOLD = "patchy moist desquamation, mostly confined to skin folds and creases"
_CTCAE_MOIST_BEYOND = "Moist desquamation in areas other than skin folds and creases"
_CTCAE_ULCER_4 = "skin necrosis or ulceration of full thickness dermis"

CTCAE_TABLE: dict[tuple[str, str], tuple[int, str]] = {
    ("erythema", "faint"): (1, "Faint erythema"),
    # Follicular and dull erythema are of faint intensity (module docstring).
    ("erythema", "follicular"): (1, "Faint erythema"),
    ("erythema", "dull"): (1, "Faint erythema"),
    ("erythema", "moderate"): (2, "Moderate to brisk erythema"),
    ("erythema", "bright"): (2, "Moderate to brisk erythema"),
    ("erythema", "brisk"): (2, "Moderate to brisk erythema"),
    ("desquamation", "dry"): (1, "dry desquamation"),
    ("desquamation", f"moist/{_IN_FOLD}"): (2, _CTCAE_MOIST_FOLD),
    ("desquamation", f"moist/{_BEYOND_FOLD}"): (3, _CTCAE_MOIST_BEYOND),
    ("edema", "moderate"): (2, "moderate edema"),
    # Pitting is at least moderate; CTCAE lists no higher edema level.
    ("edema", "pitting"): (2, "moderate edema"),
    ("bleeding", "minor_trauma"): (3, "bleeding induced by minor trauma or abrasion"),
    ("bleeding", "spontaneous"): (4, "spontaneous bleeding from involved site"),
    # Partial thickness: graded as moist desquamation at the site (module docstring).
    ("ulceration", f"partial_thickness/{_IN_FOLD}"): (2, _CTCAE_MOIST_FOLD),
    ("ulceration", f"partial_thickness/{_BEYOND_FOLD}"): (3, _CTCAE_MOIST_BEYOND),
    ("ulceration", "full_thickness"): (4, _CTCAE_ULCER_4),
    ("deep_tissue_damage", "true"): (4, _CTCAE_ULCER_4),
    ("necrosis", "true"): (4, _CTCAE_ULCER_4),
    ("skin_graft_indicated", "true"): (4, "skin graft indicated"),
    ("life_threatening", "true"): (4, "Life-threatening consequences"),
}

# RTOG acute radiation morbidity, skin (Cox 1995). Source text, by grade:
# 0 No change over baseline
# 1 Follicular, faint or dull erythema / epilation / dry desquamation /
#   decreased sweating
# 2 Tender or bright erythema, patchy moist desquamation / moderate edema
# 3 Confluent, moist desquamation other than skin folds, pitting edema
# 4 Ulceration, hemorrhage, necrosis
# The late findings (atrophy, telangiectasia, pigmentation, fibrosis) are in no
# acute table: app/clinical/late_effects.py grades them.
_RTOG_MOIST_BEYOND = "Confluent, moist desquamation other than skin folds"

_RTOG_ERYTHEMA_1 = "Follicular, faint or dull erythema"
_RTOG_ERYTHEMA_2 = "Tender or bright erythema"

RTOG_TABLE: dict[tuple[str, str], tuple[int, str]] = {
    ("erythema", "faint"): (1, _RTOG_ERYTHEMA_1),
    ("erythema", "follicular"): (1, _RTOG_ERYTHEMA_1),
    ("erythema", "dull"): (1, _RTOG_ERYTHEMA_1),
    ("erythema", "moderate"): (2, _RTOG_ERYTHEMA_2),
    ("erythema", "bright"): (2, _RTOG_ERYTHEMA_2),
    ("erythema", "brisk"): (2, _RTOG_ERYTHEMA_2),
    # Tenderness of erythematous skin: only with erythema (_table_keys).
    ("erythema_tender", "true"): (2, _RTOG_ERYTHEMA_2),
    ("epilation", "partial"): (1, "epilation"),
    ("epilation", "total"): (1, "epilation"),
    ("decreased_sweating", "true"): (1, "decreased sweating"),
    ("desquamation", "dry"): (1, "dry desquamation"),
    ("desquamation", f"moist/{_IN_FOLD}"): (2, "patchy moist desquamation"),
    ("desquamation", f"moist/{_BEYOND_FOLD}"): (3, _RTOG_MOIST_BEYOND),
    ("edema", "moderate"): (2, "moderate edema"),
    ("edema", "pitting"): (3, "pitting edema"),
    # bleeding minor_trauma: not hemorrhage, no RTOG criterion (module docstring).
    ("bleeding", "spontaneous"): (4, "hemorrhage"),
    # Any ulceration is RTOG 4, wherever it lies.
    ("ulceration", f"partial_thickness/{_IN_FOLD}"): (4, "Ulceration"),
    ("ulceration", f"partial_thickness/{_BEYOND_FOLD}"): (4, "Ulceration"),
    ("ulceration", "full_thickness"): (4, "Ulceration"),
    ("deep_tissue_damage", "true"): (4, "Ulceration"),
    ("necrosis", "true"): (4, "necrosis"),
    # skin_graft_indicated, life_threatening: not RTOG criteria.
}

_TABLES: dict[str, dict[tuple[str, str], tuple[int, str]]] = {
    "ctcae": CTCAE_TABLE,
    "rtog": RTOG_TABLE,
}


def _confined_to_fold(findings: Findings, in_skin_fold: bool) -> bool:
    """Skin-fold rule: moist skin counts as fold-confined only inside a fold."""
    return in_skin_fold and not findings.moist_beyond_skin_folds


def _table_keys(findings: Findings, in_skin_fold: bool) -> list[tuple[str, str, str]]:
    """(finding, recorded value, table key value) for every recorded finding."""
    site = _IN_FOLD if _confined_to_fold(findings, in_skin_fold) else _BEYOND_FOLD
    keys: list[tuple[str, str, str]] = []
    for name in CATEGORICAL_FINDINGS:
        value: str = getattr(findings, name)
        key = value
        if (name, value) in (("desquamation", "moist"), ("ulceration", "partial_thickness")):
            key = f"{value}/{site}"
        keys.append((name, value, key))
    for name in BOOLEAN_FINDINGS:
        if getattr(findings, name):
            keys.append((name, "true", "true"))
    if findings.erythema == "none":
        # "Tender ... erythema": tenderness without erythema meets no criterion.
        keys = [key for key in keys if key[0] != "erythema_tender"]
    return keys


def _grade(scale: str, findings: Findings, in_skin_fold: bool) -> Grade:
    table = _TABLES[scale]
    met: list[Reason] = []
    for name, value, key in _table_keys(findings, in_skin_fold):
        level = table.get((name, key))
        if level is not None:
            met.append(Reason(finding=name, value=value, grade=level[0], criterion=level[1]))
    grade = max((reason.grade for reason in met), default=0)
    reasons = tuple(reason for reason in met if reason.grade == grade)
    return Grade(scale=scale, value=grade, reasons=reasons)


def grade_ctcae(findings: Findings, *, in_skin_fold: bool) -> Grade:
    """CTCAE v5.0 "Dermatitis radiation" grade (0-4) from findings.

    Source: NCI Common Terminology Criteria for Adverse Events v5.0 (2017),
    term "Dermatitis radiation". Highest level met by any finding; 0 when none
    is met; grade 5 (death) is never derived. See the module docstring for the
    skin-fold rule and the judgement calls (partial-thickness ulceration, pitting
    edema).
    """
    return _grade("ctcae", findings, in_skin_fold)


def grade_rtog(findings: Findings, *, in_skin_fold: bool) -> Grade:
    """RTOG acute radiation morbidity grade for skin (0-4) from findings.

    Source: Cox JD, Stetz J, Pajak TF. Toxicity criteria of the RTOG and EORTC.
    Int J Radiat Oncol Biol Phys 1995;31:1341-6 (PMID 7713792), acute skin.
    Highest level met by any finding. See the module docstring for the skin-fold
    rule and the judgement calls (bleeding after minor trauma, graft indicated).
    """
    return _grade("rtog", findings, in_skin_fold)
