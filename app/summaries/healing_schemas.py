"""Response shapes of a trajectory's healing course: its episodes, the week-4
checkpoint, the recent change the status follows, the area methods compared,
and radiation recall (documented in OpenAPI; see app/summaries/schemas.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.clinical.progress import CHECKPOINT_STATES


class TrajectoryRecallSchema(Schema):
    flagged = fields.Boolean()
    term = fields.String()
    reasons = fields.List(fields.String())
    grade = fields.Integer(
        allow_none=True,
        metadata={"description": "Latest effective CTCAE grade, under the recall term"},
    )
    worst_grade = fields.Integer(allow_none=True)


class TrajectoryEpisodeSchema(Schema):
    """One healing episode: a closure ends it, an open measurement after it starts the next."""

    number = fields.Integer()
    started_at = fields.String(
        allow_none=True, metadata={"description": "Its first measurement (null: none yet)"}
    )
    closed_on = fields.String(allow_none=True, metadata={"description": "null while open"})
    closed_by = fields.String(
        allow_none=True,
        validate=validate.OneOf(("assessment", "healed_on", "earlier_healing")),
        metadata={
            "description": "assessment (found closed or 0 cm2), healed_on (the wound's recorded"
            " healing) or earlier_healing (a healing the wound was reopened after)"
        },
    )
    measurements = fields.Integer()


class TrajectoryCheckpointSchema(Schema):
    """The week-4 checkpoint of the current episode (PAR at week 4 against the threshold)."""

    state = fields.String(
        validate=validate.OneOf(CHECKPOINT_STATES),
        metadata={
            "description": "met, missed (reassess the treatment), not_yet_due (no assessment on"
            " or after the day yet) or not_applicable (see note)"
        },
    )
    week = fields.Integer()
    day = fields.Integer()
    threshold_pct = fields.Float()
    par_pct = fields.Float(allow_none=True, metadata={"description": "PAR on the day, when due"})
    from_days = fields.List(
        fields.Float(),
        allow_none=True,
        metadata={"description": "Days of the two assessments it was interpolated between"},
    )
    compared_on = fields.String(
        allow_none=True, metadata={"description": "Area method the areas were compared on"}
    )
    note = fields.String(allow_none=True)


class TrajectoryRecentChangeSchema(Schema):
    """PAR over the last recent_window_days of the current episode: the status follows it."""

    window_days = fields.Float()
    from_day = fields.Float()
    to_day = fields.Float()
    from_area_cm2 = fields.Float(metadata={"description": "Interpolated at the window's start"})
    to_area_cm2 = fields.Float()
    change_pct = fields.Float(
        allow_none=True, metadata={"description": "Positive: smaller; negative: grew"}
    )
    required_pct = fields.Float(metadata={"description": "The fall on track needs over the window"})
    compared_on = fields.String(allow_none=True)


class TrajectoryAreaMethodsSchema(Schema):
    """How the baseline and latest areas were obtained, and the method PAR compared."""

    baseline = fields.String(allow_none=True)
    latest = fields.String(allow_none=True)
    compared_on = fields.String(
        allow_none=True,
        metadata={"description": "Method both areas were taken on (null: none in common)"},
    )
    mixed = fields.Boolean(metadata={"description": "Baseline and latest differ in method"})
