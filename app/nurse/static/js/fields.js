// The forms, as data: each field says where its value goes in the API body
// (a dotted path: "tissue.slough_pct" is {tissue: {slough_pct}}) and how it is
// asked. forms.js turns a list into inputs and the inputs back into a body.
//
// What the patient reports (beside pain, asked above) is in
// EXTRA_ASSESSMENT_FIELDS: it appears at the end of the assessment form and
// goes into the body like every other field; more questions go there too.

export const BODY_SITES = [
  "scalp", "face", "neck", "axilla", "breast", "inframammary fold", "chest wall",
  "back", "abdomen", "groin", "perineum", "arm", "hand", "leg", "popliteal fossa", "foot",
];

const choices = (...names) => names.map((n) => [n, n.replaceAll("_", " ")]);

export const PATIENT_FIELDS = [
  { name: "mrn", label: "MRN (record number)", type: "text", required: true },
  { name: "given_name", label: "Given name", type: "text", required: true },
  { name: "family_name", label: "Family name", type: "text", required: true },
  { name: "birth_date", label: "Date of birth", type: "date", required: true },
  {
    name: "sex", label: "Sex", type: "select", required: true,
    options: choices("female", "male", "other", "unknown"),
  },
];

export const WOUND_FIELDS = [
  { name: "body_site", label: "Body site", type: "select", required: true,
    options: BODY_SITES.map((s) => [s, s]) },
  { name: "laterality", label: "Side", type: "select", required: true,
    options: choices("left", "right", "bilateral", "midline", "none") },
  { name: "in_skin_fold", label: "In a skin fold", type: "checkbox" },
  { name: "etiology", label: "Cause", type: "select", required: true,
    options: choices("radiation_dermatitis", "radiation_ulcer", "surgical", "pressure", "other") },
  { name: "onset_date", label: "First noticed on", type: "date", required: true },
];

// Plain-language dermatitis findings. A later box on the same finding wins
// (bleeding on its own is worse than bleeding when touched).
const FINDINGS = [
  ["findings.erythema", "faint", "Faint or patchy redness"],
  ["findings.erythema", "bright", "Bright redness"],
  ["findings.erythema_tender", true, "The redness is tender"],
  ["findings.desquamation", "dry", "Dry peeling"],
  ["findings.desquamation", "moist", "Moist peeling (wet, weeping skin)"],
  ["findings.moist_beyond_skin_folds", true, "Moist peeling beyond the skin folds"],
  ["findings.edema", "moderate", "Swelling"],
  ["findings.bleeding", "minor_trauma", "Bleeds when touched"],
  ["findings.bleeding", "spontaneous", "Bleeds on its own"],
  ["findings.ulceration", "partial_thickness", "Open sore in the top layers of skin"],
  ["findings.ulceration", "full_thickness", "Deep open sore (through the skin)"],
  ["findings.necrosis", true, "Dead (black or grey) tissue"],
];

const pct = (name, label) => ({ name: `tissue.${name}`, label, type: "number", min: 0, max: 100, step: 1 });

export const ASSESSMENT_FIELDS = [
  { name: "assessed_at", label: "Date and time", type: "datetime", required: true },
  { name: "length_cm", label: "Length (cm)", type: "number", min: 0, max: 100, step: 0.1 },
  { name: "width_cm", label: "Width (cm)", type: "number", min: 0, max: 100, step: 0.1 },
  { name: "depth_cm", label: "Depth (cm)", type: "number", min: 0, max: 30, step: 0.1 },
  pct("epithelial_pct", "New skin (epithelial) %"),
  pct("granulation_pct", "Red, bumpy (granulation) %"),
  pct("slough_pct", "Yellow (slough) %"),
  pct("necrotic_pct", "Black (necrotic) %"),
  { name: "exudate_amount", label: "Exudate amount", type: "select",
    options: choices("none", "scant", "small", "moderate", "large") },
  { name: "exudate_type", label: "Exudate type", type: "select",
    options: choices("none", "serous", "serosanguineous", "sanguineous", "purulent") },
  ...FINDINGS.map(([name, value, label]) => ({ name, value, label, type: "finding" })),
  { name: "pain_score", label: "Pain (0 to 10)", type: "number", min: 0, max: 10, step: 1 },
  { name: "notes", label: "Notes", type: "textarea" },
];

export const EXTRA_ASSESSMENT_FIELDS = [
  { name: "itch_nrs", label: "Itch (0 to 10)", type: "number", min: 0, max: 10, step: 1 },
  { name: "burning_nrs", label: "Burning (0 to 10)", type: "number", min: 0, max: 10, step: 1 },
  { name: "pro_skin_reaction", label: "Skin reaction at its worst in the last 7 days, as the patient rates it",
    type: "select", options: choices("none", "mild", "moderate", "severe", "very_severe") },
];

export const PROCEDURE_FIELDS = [
  { name: "performed_at", label: "Date and time", type: "datetime", required: true },
  { name: "kind", label: "Procedure", type: "select", required: true,
    options: [["debridement", "debridement"], ["prp", "PRP (platelet-rich plasma)"],
      ["dressing", "dressing"], ["other", "other"]] },
  { name: "debridement.method", label: "Debridement method", type: "select", when: ["kind", "debridement"],
    options: choices("sharp_conservative", "sharp_surgical", "mechanical", "enzymatic", "autolytic", "biological") },
  { name: "debridement.to_bleeding", label: "Down to bleeding tissue", type: "checkbox", when: ["kind", "debridement"] },
  { name: "prp.form", label: "PRP form", type: "select", when: ["kind", "prp"], options: choices("gel", "injection") },
  { name: "prp.volume_ml", label: "PRP volume (mL)", type: "number", min: 0.1, max: 100, step: 0.1, when: ["kind", "prp"] },
  { name: "notes", label: "Notes", type: "textarea" },
];
