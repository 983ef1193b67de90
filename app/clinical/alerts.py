"""When a wound needs attention: the alert rules, plain values in, decisions out.

Each rule answers a ``Decision``: whether its condition holds now, the rule
text a clinician reads, and the figures that triggered it. The caller keeps one
open alert per wound and rule: it opens one when the condition starts to hold
and resolves it when the condition clears. Thresholds come from the clinic's
settings (``AlertRules``); every default and its source is in
docs/clinical-reference.md, "Alerts".

Pure functions, standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

KINDS: tuple[str, ...] = (
    "week4_missed",
    "deteriorating",
    "recurrence",
    "grade",
    "overdue",
    "lab",
    "infection",
)

#: NERDS: signs of increased bacterial burden in the superficial wound bed
#: (Sibbald, Woo et al. 2006): Non-healing, Exudate increased, Red friable
#: granulation, Debris (slough/necrosis), Smell.
NERDS: tuple[str, ...] = ("non_healing", "exudate", "red_friable", "debris", "smell")

#: STONEES: signs of deep/surrounding infection (Sibbald, Woo et al. 2006):
#: Size bigger, Temperature raised (periwound), Os (probes to or exposed bone),
#: New areas of breakdown, Exudate, Erythema/Edema, Smell.
STONEES: tuple[str, ...] = (
    "size_bigger",
    "temperature",
    "probes_to_bone",
    "new_breakdown",
    "exudate",
    "erythema_edema",
    "smell",
)

#: Every sign recorded on an assessment (exudate and smell belong to both lists).
INFECTION_SIGNS: tuple[str, ...] = (*NERDS, *(s for s in STONEES if s not in NERDS))

#: Labs graded for the lab rule (CTCAE v5.0 terms, app/clinical/labs.py).
LAB_TESTS: tuple[str, ...] = ("neutrophils", "platelets", "hemoglobin")


@dataclass(frozen=True)
class AlertRules:
    """A clinic's alert thresholds; every default and its source.

    - grade_threshold 3: CTCAE v5.0 grade 3 radiation dermatitis (moist
      desquamation beyond skin folds, bleeding from minor trauma) is the
      grade at which treatment is usually changed (NCI CTCAE v5.0, 2017).
    - lab_grade_threshold 3: CTCAE v5.0 grade 3 neutrophil, platelet or
      haemoglobin decrease, the usual trigger for holding or reducing
      systemic therapy (agent labels; CTCAE v5.0).
    - infection_min_signs 3: three or more NERDS signs suggest superficial
      critical colonisation, three or more STONEES signs deep infection
      (Sibbald, Woo et al. 2006).
    - overdue_days 7: the clinic's assessment interval (clinic setting).
    - par_threshold_pct 40.0 at par_week 4: the trajectory's week-4 checkpoint
      (clinical-reference.md section 4; Sheehan 2003 / Phillips 2000 adapted).
    """

    grade_threshold: int = 3
    lab_grade_threshold: int = 3
    infection_min_signs: int = 3
    overdue_days: int = 7
    par_threshold_pct: float = 40.0
    par_week: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.grade_threshold <= 5:
            raise ValueError("grade_threshold must be 1-5")
        if not 1 <= self.lab_grade_threshold <= 4:
            raise ValueError("lab_grade_threshold must be 1-4")
        if self.infection_min_signs < 1:
            raise ValueError("infection_min_signs must be at least 1")
        if self.overdue_days < 1:
            raise ValueError("overdue_days must be at least 1")


@dataclass(frozen=True)
class Decision:
    """One rule's answer for one wound: does its condition hold now, and why."""

    kind: str
    active: bool
    rule: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def _off(kind: str) -> Decision:
    return Decision(kind, False)


def week4_missed(par_week4_pct: float | None, rules: AlertRules) -> Decision:
    """PAR at the week-4 checkpoint below the clinic's threshold.

    ``par_week4_pct`` is the trajectory's PAR at week ``par_week`` (None before
    the checkpoint is due or when it cannot be judged): Sheehan 2003, Phillips
    2000 adapted (clinical-reference.md section 4)."""
    if par_week4_pct is None or par_week4_pct >= rules.par_threshold_pct:
        return _off("week4_missed")
    return Decision(
        "week4_missed",
        True,
        f"PAR at week {rules.par_week} is {par_week4_pct:g}%, below the clinic's"
        f" {rules.par_threshold_pct:g}% threshold (Sheehan 2003 / Phillips 2000 adapted)",
        {"par_week4_pct": par_week4_pct, "threshold_pct": rules.par_threshold_pct},
    )


def deteriorating(status: str, trajectory_rule: str) -> Decision:
    """The trajectory's status is ``deteriorating`` (area grown over the margin;
    clinical-reference.md section 4.2). The trajectory's rule text is kept."""
    if status != "deteriorating":
        return _off("deteriorating")
    return Decision("deteriorating", True, trajectory_rule, {"status": status})


def recurrence(closed_flags: Sequence[bool], healed: bool) -> Decision:
    """The wound closed and has opened again: an assessment found it closed
    (closed, or area 0) and a later one, the latest, found it open. Not while
    the wound is recorded healed. ``closed_flags`` in time order."""
    if healed or len(closed_flags) < 2 or closed_flags[-1]:
        return _off("recurrence")
    closures = [i for i, closed in enumerate(closed_flags) if closed]
    if not closures:
        return _off("recurrence")
    return Decision(
        "recurrence",
        True,
        "the wound was found closed and is open again at the latest assessment",
        {"closed_at_index": closures[-1], "assessments": len(closed_flags)},
    )


_SCALE_NAMES = {"ctcae": "CTCAE v5.0", "rtog": "RTOG acute"}


def grade(latest: int | None, rules: AlertRules, scale: str = "ctcae") -> Decision:
    """The latest effective grade on the clinic's primary scale (CTCAE unless
    the clinic chose RTOG; an override in force applied) is at or above the
    threshold (default 3). ``figures["severe"]`` tells a grade 4 apart, so the
    caller opens a new alert when the grade rises to 4."""
    if latest is None or latest < rules.grade_threshold:
        return _off("grade")
    return Decision(
        "grade",
        True,
        f"{_SCALE_NAMES[scale]} grade {latest} radiation dermatitis"
        f" (alert from grade {rules.grade_threshold})",
        {
            "grade": latest,
            "scale": scale,
            "threshold": rules.grade_threshold,
            "severe": latest >= 4,
        },
    )


def overdue(last_assessed_on: date | None, onset: date, today: date, rules: AlertRules) -> Decision:
    """No assessment for more than the clinic's interval: counted from the
    latest assessment, or from the onset when there is none (the dashboard's
    rule, clinical-reference.md)."""
    since = last_assessed_on if last_assessed_on is not None else onset
    days = (today - since).days
    if days <= rules.overdue_days:
        return _off("overdue")
    what = "the last assessment" if last_assessed_on is not None else "onset, never assessed"
    return Decision(
        "overdue",
        True,
        f"{days} days since {what}; the clinic assesses every {rules.overdue_days} days",
        {"days_since": days, "overdue_days": rules.overdue_days, "since": since.isoformat()},
    )


def lab(latest: Mapping[str, tuple[int | None, bool]], rules: AlertRules) -> Decision:
    """A CTCAE grade >= threshold (default 3) on the latest neutrophil, platelet
    or haemoglobin result, taken during systemic therapy.

    ``latest`` maps a test to (its latest result's CTCAE grade, whether that
    result was taken during a systemic therapy course); tests other than
    LAB_TESTS are ignored."""
    hits = {
        test: value
        for test, (value, on_therapy) in latest.items()
        if test in LAB_TESTS
        and on_therapy
        and value is not None
        and value >= rules.lab_grade_threshold
    }
    if not hits:
        return _off("lab")
    named = ", ".join(f"{test} grade {hits[test]}" for test in sorted(hits))
    return Decision(
        "lab",
        True,
        f"CTCAE v5.0 {named} during systemic therapy"
        f" (alert from grade {rules.lab_grade_threshold})",
        {"grades": {test: hits[test] for test in sorted(hits)}},
    )


def infection(signs: Mapping[str, bool | None], rules: AlertRules) -> Decision:
    """Three or more (``infection_min_signs``) NERDS signs, or as many STONEES
    signs, recorded on the latest assessment (Sibbald, Woo et al. 2006: NERDS
    suggests superficial critical colonisation, STONEES deep infection). A
    sign not recorded (None) does not count."""
    nerds = [s for s in NERDS if signs.get(s)]
    stonees = [s for s in STONEES if signs.get(s)]
    minimum = rules.infection_min_signs
    parts = []
    if len(nerds) >= minimum:
        parts.append(f"{len(nerds)} NERDS signs ({', '.join(nerds)})")
    if len(stonees) >= minimum:
        parts.append(f"{len(stonees)} STONEES signs ({', '.join(stonees)})")
    if not parts:
        return _off("infection")
    return Decision(
        "infection",
        True,
        " and ".join(parts) + f" (alert from {minimum}; Sibbald/Woo 2006)",
        {"nerds": nerds, "stonees": stonees, "min_signs": minimum},
    )


def change(active: Decision, open_figures: dict[str, Any] | None) -> str:
    """What to do with one wound's alert of ``active.kind``, given the figures of
    the alert open now (None when there is none): "open", "resolve",
    "escalate" (resolve the open one and open another: a grade that rose to
    4), or "keep"."""
    if open_figures is None:
        return "open" if active.active else "keep"
    if not active.active:
        return "resolve"
    if active.kind == "grade" and active.figures["severe"] and not open_figures.get("severe"):
        return "escalate"
    return "keep"
