"""Row building: loaded source rows and batch context in, de-identified row tuples out.

Nothing here reads the database: the streams (app/exports/queries.py) and the
batch context (app/exports/context.py) are read before, and each table's rows
come out as tuples in the column order of the data dictionary
(app/exports/dictionary.py). The assessment rows are the hot path (one per
visit): their loop does date arithmetic as ordinals and a few lookups, and the
per-wound values are computed once per wound.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from app.assessments.models import AREA_METHODS, EXUDATE_AMOUNTS, EXUDATE_TYPES
from app.clinical import interchange, late_effects
from app.clinical import therapy as tx
from app.exports import deid
from app.exports.context import HEMATOLOGIC, Batch, PatientInfo, Therapy
from app.exports.dictionary import ASSESSMENT_COLUMNS, CALIBRATION_METHODS
from app.exports.doses import wound_dose
from app.exports.queries import ASSESSMENT_POSITION, Hex, Selection
from app.patients.models import SEXES
from app.procedures.models import DEBRIDEMENT_METHODS, PROCEDURE_KINDS, PRP_ACTIVATORS, PRP_FORMS
from app.therapy.models import TOPICAL_CATEGORIES
from app.wounds.models import ETIOLOGIES, LATERALITIES, WOUND_STATUSES


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _yesno(value: Any) -> int | None:
    """REDCap yes/no coding: 1 / 0, None when unknown (Parquet turns it into a bool)."""
    return None if value is None else int(bool(value))


def _vocabulary(allowed: tuple[str, ...]) -> dict[str | None, str | None]:
    """deid.one_of as a dict, for ``.get(value, "other")`` in the per-row loop."""
    out: dict[str | None, str | None] = {v: v for v in allowed}
    out[None] = None
    return out


_AREA_METHODS = _vocabulary(AREA_METHODS).get
_EXUDATE_AMOUNTS = _vocabulary(EXUDATE_AMOUNTS).get
_EXUDATE_TYPES = _vocabulary(EXUDATE_TYPES).get
_PROCEDURE_KINDS = _vocabulary(PROCEDURE_KINDS).get
_DEBRIDEMENT_METHODS = _vocabulary(DEBRIDEMENT_METHODS).get
_PRP_FORMS = _vocabulary(PRP_FORMS).get
_PRP_ACTIVATORS = _vocabulary(PRP_ACTIVATORS).get
_CALIBRATIONS = _vocabulary(CALIBRATION_METHODS).get


def _copied(first: str, last: str) -> slice:
    """The assessment stream's columns ``first``..``last``, written out as they
    are read. Checked once, here: they must be the dictionary's columns of the
    same names, in the same order, or the files would be wrong."""
    span = slice(ASSESSMENT_POSITION[first], ASSESSMENT_POSITION[last] + 1)
    names = list(ASSESSMENT_POSITION)[span]
    written = [c.name for c in ASSESSMENT_COLUMNS]
    start = written.index(first)
    if written[start : start + len(names)] != names:
        raise RuntimeError(f"assessment columns {first}..{last} differ from the dictionary")
    return span


# Positions in an assessment stream row (queries.ASSESSMENT_SOURCE), by name.
_ID = ASSESSMENT_POSITION["id"]
_WOUND = ASSESSMENT_POSITION["wound_id"]
_PATIENT = ASSESSMENT_POSITION["patient_id"]
_AT = ASSESSMENT_POSITION["assessed_at"]
_METHOD = ASSESSMENT_POSITION["area_method"]
_AMOUNT = ASSESSMENT_POSITION["exudate_amount"]
_TYPE = ASSESSMENT_POSITION["exudate_type"]
_CTCAE = ASSESSMENT_POSITION["ctcae_grade"]
_RTOG = ASSESSMENT_POSITION["rtog_grade"]
_ONSET = ASSESSMENT_POSITION["onset_date"]
_COURSE = ASSESSMENT_POSITION["radiotherapy_course_id"]
_SIZE = _copied("length_cm", "area_cm2")
_BED_AND_SCORES = _copied("epithelial_pct", "bwat_total")
_LATE_EFFECTS = _copied("ctcae_skin_ulceration_grade", "rtog_late_grade")


def _is_prp(kind: str, prp_form: Any, prp_volume: Any, prp_activator: Any) -> bool:
    return kind == "prp" or any(v is not None for v in (prp_form, prp_volume, prp_activator))


def procedure_times(procedures: list[Any]) -> tuple[list[Any], list[Any]]:
    """Sorted times of a wound's debridements and of its PRP applications."""
    debridements = [r[2] for r in procedures if r[3] == "debridement"]
    prp = [r[2] for r in procedures if _is_prp(r[3], r[6], r[7], r[8])]
    return debridements, prp


def generic_agent(agent: str) -> str:
    """A generic drug name from the known anti-angiogenic list, else "other_agent".

    The agent column is free text; only names on a fixed list are exported so a
    typed comment can never leak through it.
    """
    name = " ".join(agent.strip().lower().split())
    for candidate in (name, name.split(" ")[0], name.split(" ")[0].split("-")[0]):
        if candidate in tx.ANTI_ANGIOGENIC_AGENTS:
            return candidate
    return "other_agent"


def systemic_exposure(therapies: Iterable[Therapy], onset: date, end: date) -> tuple[str, int]:
    """The wound's systemic_agents (generic names on the drug during onset..end,
    ';'-separated) and antiangiogenic_exposure_days (calendar days on any
    anti-angiogenic agent, each counted once), from the schedules' on-drug
    bands (app.clinical.therapy) rather than a walk over the days."""
    agents: set[str] = set()
    anti_schedules: list[tx.Schedule] = []
    for agent, anti, schedule in therapies:
        if tx.union_exposure_days([schedule], onset, end):
            agents.add(generic_agent(agent))
            if anti:
                anti_schedules.append(schedule)
    return ";".join(sorted(agents)), tx.union_exposure_days(anti_schedules, onset, end)


def worst_grades(labs: Iterable[tuple[date, str, int]], onset: date, end: date) -> list[Any]:
    """The worst CTCAE grade of each HEMATOLOGIC test taken during onset..end."""
    worst: dict[str, int | None] = {t: None for t in HEMATOLOGIC}
    for taken, test, grade in labs:
        known = worst[test]
        if onset <= taken <= end and (known is None or grade > known):
            worst[test] = grade
    return [worst[t] for t in HEMATOLOGIC]


_NO_COURSE: tuple[date | None, date | None] = (None, None)


def radiation_context(
    etiology: str,
    onset: date,
    course: tuple[date | None, date | None],
    therapies: Iterable[Therapy],
    day_zero: date,
) -> tuple[int | None, str | None, int, str | None]:
    """A wound's rt_course_end_day, radiation_phase_at_onset, radiation_recall
    and icd10cm, from its linked ``course`` (first day, last day) (the rules
    of app.clinical.late_effects; the dictionary says how).

    The phase is the one of the onset day against the course (the rule of the
    assessments' radiation_phase); the ICD-10-CM code of a radiation wound
    follows it: L58.0 acute, L58.1 chronic (late), L58.9 when not known. Other
    etiologies have no code.
    """
    start, end = course
    phase = late_effects.radiation_phase(onset, start, end).phase
    end_day = None if end is None else (end - day_zero).days
    pairs = [(agent, schedule) for agent, _, schedule in therapies]
    recall = int(late_effects.radiation_recall(onset, end, pairs).flagged) if start else 0
    icd = interchange.radiodermatitis_icd10cm(etiology, phase)
    return end_day, phase, recall, icd


def healings(
    closures: list[Any] | None, healed_on: date | None
) -> tuple[date | None, int, date | None]:
    """(the first recorded healing, how often a healing was undone by reopening,
    the last reopening's UTC date) of a wound: Wound.closures keeps each healing
    it was reopened after (app/wounds/services.py), oldest first."""
    closures = closures or []
    first = date.fromisoformat(closures[0]["healed_on"]) if closures else healed_on
    last = (
        datetime.fromisoformat(closures[-1]["reopened_at"]).astimezone(UTC).date()
        if closures
        else None
    )
    return first, len(closures), last


def _site_class(cache: dict[str | None, str], site: str | None) -> str:
    """deid.site_class, remembered: body sites repeat ("left breast") across wounds."""
    if len(cache) > 10_000:  # free text can be all different: keep memory bounded
        cache.clear()
    cache[site] = deid.site_class(site)
    return cache[site]


class _WoundValues(NamedTuple):
    """What every assessment row of one wound shares; days are ordinals."""

    wound_pseudonym: str
    patient_pseudonym: str
    day_zero: int
    onset_day: int
    dose_at_onset: float | None
    dose_days: list[int]
    dose_cumulative: list[float]
    dose_last_day: int  # on or after it the dose is dose_total
    dose_total: float | None
    debridements: list[Any]  # times, sorted
    prp: list[Any]


class RowMaker:
    """Turns source rows into de-identified row tuples (in ``TABLES`` column order)."""

    def __init__(self, sel: Selection) -> None:
        pseudonyms = deid.Pseudonymizer(sel.key)
        self.assessment_pseudonyms = pseudonyms.many_for_kind("assessment")
        self.procedure_pseudonym = pseudonyms.for_kind("procedure")
        self.colour_pseudonym = pseudonyms.for_kind("colour_measure")
        self.wound_pseudonym = pseudonyms.for_kind("wound")
        self.patient_pseudonym = pseudonyms.for_kind("patient")
        self.site_classes: dict[str | None, str] = {}  # body-site text -> class, bounded
        self.last_patient: Hex | None = None  # the patients table's last row

    def patients(self, wounds: list[Any], batch: Batch) -> list[tuple[Any, ...]]:
        """One row per patient of the batch's wounds, not already written (a
        patient whose wounds straddle two batches is written with the first)."""
        rows = []
        for pid in dict.fromkeys(r[1] for r in wounds):
            info = batch.infos.get(pid)
            if pid != self.last_patient and info is not None:
                rows.append(self.patient(pid, info))
            self.last_patient = pid
        return rows

    def patient(self, pid: Hex, info: PatientInfo) -> tuple[Any, ...]:
        """One patient: pseudonym, sex, age label, day-zero kind."""
        return (
            self.patient_pseudonym(pid),
            deid.one_of(info.sex, SEXES, "unknown"),
            deid.age_label(info.birth_date, info.first_record),
            info.day_zero_kind,
        )

    def pseudonyms_of(self, partition: list[Any]) -> list[str]:
        """The pseudonyms of a partition of the assessment stream, in one call."""
        return self.assessment_pseudonyms([r[_ID] for r in partition])

    def _wound_values(self, row: Any, batch: Batch) -> _WoundValues:
        wid, pid, onset = row[_WOUND], row[_PATIENT], row[_ONSET]
        info = batch.infos[pid]
        assert info is not None  # a patient with a wound has a first record
        assert batch.doses is not None
        # Days as ordinals (date.toordinal): int arithmetic per row, not a date
        # and a timedelta.
        day_zero = info.day_zero.toordinal()
        dose = wound_dose(batch.doses.curves_for(pid, row[_COURSE]))
        return _WoundValues(
            self.wound_pseudonym(wid),
            self.patient_pseudonym(pid),
            day_zero,
            onset.toordinal() - day_zero,
            dose.on(onset),
            [d.toordinal() for d in dose.days],
            dose.cumulative,
            dose.last_day.toordinal(),
            dose.total,
            *procedure_times(batch.procedures.get(wid, [])),
        )

    def assessments(
        self,
        rows: list[Any],
        pseudonyms: list[str],
        start: int,
        batch: Batch,
        out: list[tuple[Any, ...]],
    ) -> int:
        """Append the rows from ``start`` on that belong to ``batch``'s wounds to
        ``out``; return the index of the first row that does not (``len(rows)``
        when all do). Each wound's last visit goes to ``batch.follow_up_ends``.

        Rows come ordered by wound, so the per-wound values are computed when
        the wound changes; the per-row work is date arithmetic and a few
        lookups (``pseudonyms``: the partition's, made in one call).
        """
        bisect_left, bisect_right = bisect.bisect_left, bisect.bisect_right
        overrides, ends, append = batch.overrides.get, batch.follow_up_ends, out.append
        done = len(out)
        current = None
        visit = 0
        for a_pseudonym, row in zip(pseudonyms[start:], rows[start:], strict=True):
            if row[_WOUND] != current:
                if current is not None:
                    ends[current] = date.fromordinal(visit)
                current = row[_WOUND]
                if current not in batch.wound_ids:  # the first row of a later batch
                    current = None
                    break
                (
                    w_pseudonym,
                    p_pseudonym,
                    day_zero,
                    onset_day,
                    dose_onset,
                    dose_days,
                    dose_cums,
                    dose_last,
                    dose_total,
                    debr,
                    prp,
                ) = self._wound_values(row, batch)
            at = row[_AT]
            visit = at.toordinal()  # the ordinal of at.date()
            visit_day = visit - day_zero
            if visit >= dose_last:
                cumulative = dose_total
            else:
                i = bisect_right(dose_days, visit)
                cumulative = dose_cums[i - 1] if i else 0.0
            ctcae, rtog, grades = row[_CTCAE], row[_RTOG], overrides(row[_ID])
            append(
                (
                    a_pseudonym,
                    w_pseudonym,
                    p_pseudonym,
                    visit_day,
                    visit_day - onset_day,
                    *row[_SIZE],
                    _AREA_METHODS(row[_METHOD], "other"),
                    _EXUDATE_AMOUNTS(row[_AMOUNT], "other"),
                    _EXUDATE_TYPES(row[_TYPE], "other"),
                    *row[_BED_AND_SCORES],
                    ctcae if grades is None else grades.get("ctcae", ctcae),
                    ctcae,
                    rtog if grades is None else grades.get("rtog", rtog),
                    rtog,
                    bisect_left(debr, at) if debr else 0,
                    bisect_left(prp, at) if prp else 0,
                    dose_onset,
                    cumulative,
                    *row[_LATE_EFFECTS],
                )
            )
        if current is not None:
            ends[current] = date.fromordinal(visit)
        return start + len(out) - done

    def procedures(self, wounds: list[Any], batch: Batch) -> list[tuple[Any, ...]]:
        """The procedures of the batch's wounds, wound by wound in time order."""
        rows: list[tuple[Any, ...]] = []
        for wound in wounds:
            procedures = batch.procedures.get(wound[0])
            if procedures:
                info = batch.infos[wound[1]]
                assert info is not None
                rows += self.wound_procedures(wound, info, procedures)
        return rows

    def wound_procedures(
        self, wound: Any, info: PatientInfo, procedures: list[Any]
    ) -> list[tuple[Any, ...]]:
        """One wound's procedures; no notes, no preparation text."""
        wid, pid, onset = wound[0], wound[1], wound[7]
        day_zero = info.day_zero
        onset_day = (onset - day_zero).days
        w_pseudonym, p_pseudonym = self.wound_pseudonym(wid), self.patient_pseudonym(pid)
        out = []
        for prid, _, at, kind, method, to_bleed, form, vol, act in procedures:
            day = (at.date() - day_zero).days
            out.append(
                (
                    self.procedure_pseudonym(prid),
                    w_pseudonym,
                    p_pseudonym,
                    day,
                    day - onset_day,
                    _PROCEDURE_KINDS(kind, "other"),
                    _DEBRIDEMENT_METHODS(method, "other"),
                    _yesno(to_bleed),
                    _yesno(_is_prp(kind, form, vol, act)),
                    _PRP_FORMS(form, "other"),
                    _num(vol),
                    _PRP_ACTIVATORS(act, "other"),
                )
            )
        return out

    def colour_measures(self, wounds: list[Any], batch: Batch) -> list[tuple[Any, ...]]:
        """The colour measures of the batch's wounds, wound by wound in time order;
        no outlines, no photo ids."""
        rows: list[tuple[Any, ...]] = []
        for wound in wounds:
            wid, pid, onset = wound[0], wound[1], wound[7]
            measures = batch.colour_measures.get(wid)
            info = batch.infos.get(pid)
            if not measures or info is None:
                continue
            onset_day = (onset - info.day_zero).days
            w_pseudonym, p_pseudonym = self.wound_pseudonym(wid), self.patient_pseudonym(pid)
            for mid, _, at, *values, calibration, reference_photo in measures:
                day = (at.date() - info.day_zero).days
                rows.append(
                    (
                        self.colour_pseudonym(mid),
                        w_pseudonym,
                        p_pseudonym,
                        day,
                        day - onset_day,
                        *(_num(v) for v in values),
                        _CALIBRATIONS(calibration.get("method"), "uncalibrated"),
                        _num(calibration.get("delta_e2000_mean"))
                        if calibration.get("method") == "colour_checker"
                        else None,
                        _yesno(reference_photo is not None),
                    )
                )
        return rows

    def wounds(self, rows: list[Any], batch: Batch) -> list[tuple[Any, ...]]:
        """One row per wound with healing, dose, therapy and lab context."""
        doses = batch.doses
        assert doses is not None
        site_classes = self.site_classes
        out = []
        for wid, pid, site, lat, fold, etiology, status, onset, healed, course_id, closures in rows:
            info = batch.infos.get(pid)
            if info is None:
                continue
            end = healed or max(batch.follow_up_ends.get(wid, onset), onset)
            agents, anti_days = systemic_exposure(batch.therapies.get(pid, ()), onset, end)
            topicals = {
                deid.one_of(c, TOPICAL_CATEGORIES) or "other" for c in batch.topicals.get(wid, ())
            }
            onset_day = (onset - info.day_zero).days
            healed_day = None if healed is None else (healed - info.day_zero).days
            first_healed, times_reopened, last_reopened = healings(closures, healed)
            out.append(
                (
                    self.wound_pseudonym(wid),
                    self.patient_pseudonym(pid),
                    site_classes.get(site) or _site_class(site_classes, site),
                    deid.one_of(lat, LATERALITIES, "none"),
                    _yesno(fold),
                    deid.one_of(etiology, ETIOLOGIES),
                    deid.one_of(status, WOUND_STATUSES),
                    onset_day,
                    healed_day,
                    None if healed_day is None else healed_day - onset_day,
                    None if first_healed is None else (first_healed - info.day_zero).days,
                    times_reopened,
                    None if last_reopened is None else (last_reopened - info.day_zero).days,
                    (end - info.day_zero).days,
                    doses.on(pid, course_id, onset),
                    doses.source(pid, course_id),
                    anti_days,
                    agents,
                    ";".join(sorted(topicals)),
                    *worst_grades(batch.labs.get(pid, ()), onset, end),
                    *radiation_context(
                        etiology,
                        onset,
                        batch.course_windows.get(course_id, _NO_COURSE)
                        if course_id
                        else _NO_COURSE,
                        batch.therapies.get(pid, ()),
                        info.day_zero,
                    ),
                )
            )
        return out
