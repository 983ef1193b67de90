"""Patient-reported symptoms of radiation dermatitis: the scales, their bands,
and the change between two reports.

Four symptoms, each reported by the patient (the nurse records the answer):

* ``skin_reaction``: the NCI PRO-CTCAE item "Radiation skin reaction",
  severity attribute, recall "the last 7 days" (NCI PRO-CTCAE Item Library
  v1.0; Basch E et al., J Natl Cancer Inst 2014;106(9):dju244). Response
  choices None, Mild, Moderate, Severe, Very severe, scored 0-4 as in the
  PRO-CTCAE validation study (Dueck AC et al., JAMA Oncol 2015;1(8):1051).
  The item's "Not applicable" answer is stored as not recorded.
* ``pain``: an 11-point numeric rating scale, 0 "no pain" to 10 "worst pain
  imaginable" (Hawker GA et al., Arthritis Care Res 2011;63(S11):S240).
  Bands from cancer pain (Serlin RC et al., Pain 1995;61:277): 1-4 mild,
  5-6 moderate, 7-10 severe.
* ``itch``: an 11-point numeric rating scale, 0 "no itch" to 10 "worst itch
  imaginable". Bands of Reich A et al., Acta Derm Venereol 2012;92:497:
  0 none, >0-<4 mild, >=4-<7 moderate, >=7-<9 severe, >=9 very severe. Reich
  derived them on the visual analogue scale; on the integer NRS they read
  1-3, 4-6, 7-8, 9-10 (by analogy: the study found NRS ratings slightly
  higher than VAS ones).
* ``burning``: an 11-point numeric rating scale, 0 "no burning" to 10 "worst
  burning imaginable". No burning scale of its own has been validated for
  radiation dermatitis; burning is one of the sensations patient-rated
  radiodermatitis measures ask about (Schnur JB et al., Am J Clin Oncol
  2011;34(5):529). The scale, its bands and its change threshold are those
  of the pain NRS, by analogy.

A change between two reports counts when it reaches the minimal clinically
important difference: 2 points on a pain NRS (Farrar JT et al., Pain
2001;94:149: about 2 points or 30% matched "much improved"), applied to itch
and burning by analogy; one response level on the PRO-CTCAE item (the
smallest step the item has).

Pure functions, standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SKIN_REACTION = "skin_reaction"
PAIN = "pain"
ITCH = "itch"
BURNING = "burning"
SYMPTOMS = (SKIN_REACTION, PAIN, ITCH, BURNING)
NRS_SYMPTOMS = (PAIN, ITCH, BURNING)

# PRO-CTCAE severity response choices (API spelling), scored 0-4 in order.
PRO_LEVELS = ("none", "mild", "moderate", "severe", "very_severe")
PRO_SCORE = {level: score for score, level in enumerate(PRO_LEVELS)}
PRO_LABELS = {
    "none": "None",
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe",
    "very_severe": "Very severe",
}

NRS_MIN = 0
NRS_MAX = 10

# Lowest NRS value of each band above "none", per symptom, in ascending order.
_SERLIN = ((1, "mild"), (5, "moderate"), (7, "severe"))
_REICH = ((1, "mild"), (4, "moderate"), (7, "severe"), (9, "very_severe"))
NRS_BANDS: dict[str, tuple[tuple[int, str], ...]] = {
    PAIN: _SERLIN,
    ITCH: _REICH,
    BURNING: _SERLIN,
}

# Smallest change that counts, in the symptom's own units.
MINIMAL_CHANGE = {SKIN_REACTION: 1, PAIN: 2, ITCH: 2, BURNING: 2}

MODERATE = PRO_SCORE["moderate"]


def pro_score(level: str) -> int:
    """The 0-4 score of a PRO-CTCAE severity level; ValueError when unknown."""
    if level not in PRO_SCORE:
        raise ValueError(f"{SKIN_REACTION}: must be one of {', '.join(PRO_LEVELS)}")
    return PRO_SCORE[level]


def check_nrs(symptom: str, value: int) -> int:
    """``value`` when it is an integer rating 0-10 of an NRS symptom; ValueError
    naming the symptom otherwise."""
    if symptom not in NRS_BANDS:
        raise ValueError(f"{symptom}: not a numeric rating scale symptom")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{symptom}: must be an integer {NRS_MIN}-{NRS_MAX}")
    if not NRS_MIN <= value <= NRS_MAX:
        raise ValueError(f"{symptom}: must be between {NRS_MIN} and {NRS_MAX}")
    return value


def nrs_band(symptom: str, value: int) -> str:
    """The severity band of an NRS rating: none, mild, moderate, severe (and
    very_severe for itch), by the symptom's source (module docstring)."""
    band = "none"
    for lowest, name in NRS_BANDS[symptom]:
        if check_nrs(symptom, value) >= lowest:
            band = name
    return band


def score(symptom: str, value: int | str) -> int:
    """A report on the symptom's own numeric scale: 0-4 for the PRO-CTCAE item
    (its level), 0-10 for an NRS."""
    if symptom == SKIN_REACTION:
        return pro_score(str(value))
    if isinstance(value, str):
        raise ValueError(f"{symptom}: must be an integer {NRS_MIN}-{NRS_MAX}")
    return check_nrs(symptom, value)


def moderate_or_worse(symptom: str, value: int | str) -> bool:
    """Whether a report is moderate or worse: the PRO-CTCAE level moderate and
    above, or an NRS value in its moderate band or above."""
    if symptom == SKIN_REACTION:
        return pro_score(str(value)) >= MODERATE
    return score(symptom, value) >= NRS_BANDS[symptom][1][0]


@dataclass(frozen=True)
class Trend:
    """How a symptom moved from its first report to its latest one."""

    symptom: str
    first: int
    latest: int
    change: int  # latest - first, in the symptom's units
    direction: str  # worse | better | stable
    reports: int

    def to_dict(self) -> dict[str, int | str]:
        return {
            "first": self.first,
            "latest": self.latest,
            "change": self.change,
            "direction": self.direction,
            "reports": self.reports,
        }


def trend(symptom: str, reports: Sequence[int | str]) -> Trend | None:
    """First against latest of ``reports`` (in time order): ``worse`` or
    ``better`` when the change reaches MINIMAL_CHANGE, ``stable`` otherwise.
    None with fewer than two reports: one report has no change."""
    if len(reports) < 2:
        return None
    first, latest = score(symptom, reports[0]), score(symptom, reports[-1])
    change = latest - first
    if change >= MINIMAL_CHANGE[symptom]:
        direction = "worse"
    elif -change >= MINIMAL_CHANGE[symptom]:
        direction = "better"
    else:
        direction = "stable"
    return Trend(symptom, first, latest, change, direction, len(reports))
