"""The data dictionary: every exported variable, its type, units, choices and meaning.

One ``Column`` per variable, per table, in file column order: the writers type
the Parquet schema from it, write data_dictionary.csv from it, and the row
builders (app/exports/rows.py) produce their tuples in this order.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.assessments.models import AREA_METHODS, EXUDATE_AMOUNTS, EXUDATE_TYPES
from app.clinical.late_effects import PHASES
from app.clinical.symptoms import PRO_LEVELS
from app.exports import deid
from app.patients.models import SEXES
from app.procedures.models import DEBRIDEMENT_METHODS, PROCEDURE_KINDS, PRP_ACTIVATORS, PRP_FORMS
from app.therapy.models import TOPICAL_CATEGORIES
from app.wounds.models import ETIOLOGIES, LATERALITIES, WOUND_STATUSES


@dataclass(frozen=True)
class Column:
    """One exported variable: how it is typed in each format and documented."""

    name: str
    type: str  # REDCap-ish: integer | number | text | yesno | dropdown
    description: str
    units: str = ""
    choices: tuple[str, ...] = ()

    @property
    def choices_text(self) -> str:
        """REDCap "choices" cell: ``value, label | value, label``."""
        if self.type == "yesno":
            return "1, yes | 0, no"
        return " | ".join(f"{c}, {c}" for c in self.choices)


DAY_ZERO_NOTE = (
    "Days are counted from the patient's day zero: the first delivered radiotherapy"
    " fraction, or the patient's first record when no fraction is logged (see"
    " patients.day_zero)."
)

GRADES_0_5 = ("0", "1", "2", "3", "4", "5")
ICD10CM_CODES = ("L58.0", "L58.1", "L58.9")

PATIENT_COLUMNS = (
    Column("patient_id", "text", "Pseudonymous patient id (stable for this recipient only)"),
    Column("sex", "dropdown", "Sex as recorded", choices=SEXES),
    Column(
        "age_years",
        "text",
        "Age in completed years at the first record; ages over 89 are reported as 90+",
        units="years",
    ),
    Column(
        "day_zero",
        "dropdown",
        "What day 0 is for this patient: first_fraction = first delivered radiotherapy"
        " fraction; first_record = earliest wound onset (no fraction"
        " logged)",
        choices=("first_fraction", "first_record"),
    ),
)

WOUND_COLUMNS = (
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column(
        "site_class", "dropdown", "Body site mapped to a coarse class", choices=deid.SITE_CLASSES
    ),
    Column("laterality", "dropdown", "Side of the body", choices=LATERALITIES),
    Column("in_skin_fold", "yesno", "Wound lies in a skin fold or crease"),
    Column("etiology", "dropdown", "Wound etiology", choices=ETIOLOGIES),
    Column("status", "dropdown", "Status at export", choices=WOUND_STATUSES),
    Column("onset_day", "integer", "Day of wound onset. " + DAY_ZERO_NOTE, units="days"),
    Column("healed_day", "integer", "Day the wound healed (empty if open)", units="days"),
    Column("days_to_closure", "integer", "healed_day - onset_day", units="days"),
    Column(
        "first_healed_day",
        "integer",
        "Day the wound was first recorded healed (it may have reopened since; empty if"
        " never healed)",
        units="days",
    ),
    Column(
        "times_reopened",
        "integer",
        "How often a recorded healing ended with the wound open again (a recurrence, or"
        " a healing recorded in error and undone)",
    ),
    Column(
        "last_reopened_day",
        "integer",
        "Day the wound was last reopened after a recorded healing (empty if never)",
        units="days",
    ),
    Column(
        "follow_up_end_day",
        "integer",
        "Healed day, else the day of the last assessment (else onset)",
        units="days",
    ),
    Column(
        "dose_at_onset_cgy",
        "number",
        "Cumulative radiotherapy dose by the end of the onset day (the wound's linked"
        " course, else all the patient's courses); physical dose, no EQD2",
        units="cGy",
    ),
    Column(
        "dose_source",
        "dropdown",
        "Where the dose came from: the fraction log, or the planned schedule (one fraction"
        " per weekday) when no fraction is logged",
        choices=("fraction_log", "planned_schedule"),
    ),
    Column(
        "antiangiogenic_exposure_days",
        "integer",
        "Days on an anti-angiogenic (VEGF/VEGFR-inhibiting) systemic agent from onset to"
        " follow_up_end_day, inclusive, counting each calendar day once",
        units="days",
    ),
    Column(
        "systemic_agents",
        "text",
        "Systemic agents taken during onset..follow-up end, generic names separated by ';'."
        " Names outside the known anti-angiogenic list are reported as other_agent",
    ),
    Column(
        "topical_categories",
        "text",
        "Topical treatment categories used on the wound, separated by ';'",
        choices=TOPICAL_CATEGORIES,
    ),
    Column(
        "worst_anemia_grade",
        "integer",
        "Worst CTCAE v5.0 grade of hemoglobin results during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "worst_platelet_grade",
        "integer",
        "Worst CTCAE v5.0 platelet count decreased grade during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "worst_neutrophil_grade",
        "integer",
        "Worst CTCAE v5.0 neutrophil count decreased grade during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "worst_wbc_grade",
        "integer",
        "Worst CTCAE v5.0 white blood cell decreased grade during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "worst_lymphocyte_grade",
        "integer",
        "Worst CTCAE v5.0 lymphocyte count decreased grade during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "rt_course_end_day",
        "integer",
        "Last day of the wound's linked radiotherapy course (its end date, else its last"
        " logged fraction once all planned fractions are logged; empty when not known or no"
        " course is linked). " + DAY_ZERO_NOTE,
        units="days",
    ),
    Column(
        "radiation_phase_at_onset",
        "dropdown",
        "acute: onset up to 90 days after the linked course ended (or during it); late:"
        " more than 90 days after; empty when not known",
        choices=PHASES,
    ),
    Column(
        "radiation_recall",
        "yesno",
        "CTCAE v5.0 Radiation recall reaction (dermatologic): the wound began after its"
        " linked course ended while the patient was on a systemic therapy course",
    ),
    Column(
        "icd10cm",
        "dropdown",
        "ICD-10-CM of a radiation wound by its onset: L58.0 acute radiodermatitis, L58.1"
        " chronic radiodermatitis (late, more than 90 days after the course ended), L58.9"
        " unspecified (phase not known); empty for other etiologies",
        choices=ICD10CM_CODES,
    ),
)

ASSESSMENT_COLUMNS = (
    Column("assessment_id", "text", "Pseudonymous assessment id"),
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column("visit_day", "integer", "Day of the assessment (UTC date). " + DAY_ZERO_NOTE, "days"),
    Column("days_since_onset", "integer", "visit_day - the wound's onset_day", "days"),
    Column("length_cm", "number", "Greatest head-to-toe length", "cm"),
    Column("width_cm", "number", "Greatest width perpendicular to the length", "cm"),
    Column("depth_cm", "number", "Depth", "cm"),
    Column("area_cm2", "number", "Wound area (traced, measured or ellipse estimate)", "cm2"),
    Column("area_method", "dropdown", "How area_cm2 was obtained", choices=AREA_METHODS),
    Column("exudate_amount", "dropdown", "Exudate amount", choices=EXUDATE_AMOUNTS),
    Column("exudate_type", "dropdown", "Exudate type", choices=EXUDATE_TYPES),
    Column("epithelial_pct", "number", "Epithelial tissue share of the bed", "%"),
    Column("granulation_pct", "number", "Granulation tissue share of the bed", "%"),
    Column("slough_pct", "number", "Slough share of the bed", "%"),
    Column("necrotic_pct", "number", "Necrotic tissue / eschar share of the bed", "%"),
    Column("closed", "yesno", "Wound closed at this visit"),
    Column(
        "pain_score",
        "integer",
        "Patient-reported pain, 0-10 numeric rating scale: 0 no pain, 10 worst pain imaginable"
        " (Hawker 2011); 1-4 mild, 5-6 moderate, 7-10 severe (Serlin 1995); empty = not asked",
        "points",
    ),
    Column(
        "itch_nrs",
        "integer",
        "Patient-reported itch, 0-10 numeric rating scale: 0 no itch, 10 worst itch imaginable;"
        " 1-3 mild, 4-6 moderate, 7-8 severe, 9-10 very severe (Reich 2012, derived on the"
        " visual analogue scale); empty = not asked",
        "points",
    ),
    Column(
        "burning_nrs",
        "integer",
        "Patient-reported burning, 0-10 numeric rating scale: 0 no burning, 10 worst burning"
        " imaginable; read like the pain NRS, by analogy (no burning scale of its own is"
        " validated for radiation dermatitis); empty = not asked",
        "points",
    ),
    Column(
        "pro_skin_reaction",
        "dropdown",
        "PRO-CTCAE 'Radiation skin reaction' severity at its worst in the last 7 days, rated"
        " by the patient (NCI PRO-CTCAE Item Library v1.0); scored none 0, mild 1, moderate 2,"
        " severe 3, very_severe 4; empty = not asked or not applicable",
        choices=PRO_LEVELS,
    ),
    Column("push_area", "integer", "PUSH 3.0 length x width sub-score (0-10)", "points"),
    Column("push_exudate", "integer", "PUSH 3.0 exudate sub-score (0-3)", "points"),
    Column("push_tissue", "integer", "PUSH 3.0 tissue type sub-score (0-4)", "points"),
    Column("push_total", "integer", "PUSH 3.0 total (0-17; NPUAP 1998)", "points"),
    Column("bwat_total", "integer", "Bates-Jensen Wound Assessment Tool total (13-65)", "points"),
    Column(
        "ctcae_grade",
        "integer",
        "CTCAE v5.0 Dermatitis radiation grade in effect: the clinician override in force"
        " (the latest, unless withdrawn), else the derived grade",
        choices=GRADES_0_5,
    ),
    Column(
        "ctcae_grade_derived",
        "integer",
        "CTCAE v5.0 grade derived from the structured findings",
        choices=GRADES_0_5,
    ),
    Column(
        "rtog_grade",
        "integer",
        "RTOG acute skin grade in effect (override, else derived; Cox 1995)",
        choices=GRADES_0_5,
    ),
    Column(
        "rtog_grade_derived", "integer", "RTOG grade derived from the findings", choices=GRADES_0_5
    ),
    Column(
        "debridements_before",
        "integer",
        "Number of debridements of this wound performed before this assessment",
    ),
    Column(
        "prp_before",
        "integer",
        "Number of platelet-rich plasma applications to this wound before this assessment",
    ),
    Column("dose_at_onset_cgy", "number", "Cumulative RT dose at wound onset (see wounds)", "cGy"),
    Column(
        "cumulative_dose_cgy",
        "number",
        "Cumulative RT dose by the end of the visit day (same source as dose_at_onset_cgy)",
        "cGy",
    ),
    Column(
        "ctcae_skin_ulceration_grade",
        "integer",
        "CTCAE v5.0 Skin ulceration grade derived from the ulcer's area and depth (empty when"
        " no ulcer is recorded)",
        choices=GRADES_0_5,
    ),
    Column(
        "radiation_phase",
        "dropdown",
        "acute: up to 90 days after the linked radiotherapy course ended (or during it);"
        " late: more than 90 days after; empty when not known",
        choices=PHASES,
    ),
    Column(
        "days_after_rt_end",
        "integer",
        "Days from the linked course's last day to the visit (negative during the course)",
        "days",
    ),
    Column(
        "rtog_late_grade",
        "integer",
        "RTOG/EORTC late radiation morbidity grade, skin and subcutaneous tissue, of a late"
        " visit (empty otherwise; Cox 1995)",
        choices=GRADES_0_5,
    ),
)

PROCEDURE_COLUMNS = (
    Column("procedure_id", "text", "Pseudonymous procedure id"),
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column("day", "integer", "Day performed (UTC date). " + DAY_ZERO_NOTE, "days"),
    Column("days_since_onset", "integer", "day - the wound's onset_day", "days"),
    Column("kind", "dropdown", "Procedure kind", choices=PROCEDURE_KINDS),
    Column("debridement_method", "dropdown", "Debridement method", choices=DEBRIDEMENT_METHODS),
    Column("debridement_to_bleeding", "yesno", "Debrided down to fresh bleeding"),
    Column("prp", "yesno", "Platelet-rich plasma applied (kind prp, or PRP details recorded)"),
    Column("prp_form", "dropdown", "PRP form", choices=PRP_FORMS),
    Column("prp_volume_ml", "number", "PRP volume", "mL"),
    Column("prp_activator", "dropdown", "PRP activator", choices=PRP_ACTIVATORS),
)

CALIBRATION_METHODS = ("colour_checker", "uncalibrated")
_CIELAB = "CIELAB (D65, CIE 15:2004) from the photo"


def _colour_columns(side: str, what: str) -> tuple[Column, ...]:
    return (
        Column(f"{side}_L", "number", f"L* of the {what}; {_CIELAB}"),
        Column(f"{side}_a", "number", f"a* (green - / red +) of the {what}; {_CIELAB}"),
        Column(f"{side}_b", "number", f"b* (blue - / yellow +) of the {what}; {_CIELAB}"),
        Column(
            f"{side}_ita",
            "number",
            f"Individual typology angle of the {what}, arctan((L* - 50) / b*) (Chardon 1991);"
            " empty when b* <= 0",
            "degrees",
        ),
        Column(
            f"{side}_erythema_index",
            "number",
            f"Erythema index of the {what}, 100 x log10(R/G) of linear reflectances (Diffey 1984)",
        ),
    )


COLOUR_MEASURE_COLUMNS = (
    Column("colour_measure_id", "text", "Pseudonymous colour measure id"),
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column("day", "integer", "Day the photo was taken (UTC date). " + DAY_ZERO_NOTE, "days"),
    Column("days_since_onset", "integer", "day - the wound's onset_day", "days"),
    *_colour_columns("region", "treated region"),
    *_colour_columns("reference", "unirradiated reference skin"),
    Column("delta_a", "number", "region_a - reference_a"),
    Column("delta_e2000", "number", "CIEDE2000 difference between region and reference"),
    Column("delta_erythema_index", "number", "region - reference erythema index"),
    Column(
        "calibration",
        "dropdown",
        "colour_checker: corrected with a 24-patch colour card found in the photo;"
        " uncalibrated: pixel values taken as sRGB (compare within one photo only)",
        choices=CALIBRATION_METHODS,
    ),
    Column(
        "card_delta_e2000_mean",
        "number",
        "Mean CIEDE2000 of the card's 24 patches after correction (empty when uncalibrated)",
    ),
    Column("reference_on_other_photo", "yesno", "The reference was traced on another photo"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "patients": PATIENT_COLUMNS,
    "wounds": WOUND_COLUMNS,
    "assessments": ASSESSMENT_COLUMNS,
    "procedures": PROCEDURE_COLUMNS,
    "colour_measures": COLOUR_MEASURE_COLUMNS,
}


DICTIONARY_HEADER = ("variable", "form", "type", "units", "choices", "description")


def dictionary_rows() -> list[tuple[str, ...]]:
    """The REDCap-style data dictionary: one row per exported variable."""
    return [
        (c.name, form, c.type, c.units, c.choices_text, c.description)
        for form, columns in TABLES.items()
        for c in columns
    ]
