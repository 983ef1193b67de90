"""Response shapes of a trajectory's patient-reported symptoms (documented in
OpenAPI; built by app/summaries/symptoms.py, see app/summaries/schemas.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.clinical.symptoms import PRO_LEVELS
from app.summaries.symptoms import COLUMNS


class SymptomPointSchema(Schema):
    """One assessment that recorded a symptom, with the clinician's grades."""

    at = fields.String()
    assessment_id = fields.String()
    episode = fields.Integer(metadata={"description": "The healing episode it belongs to"})
    pro_skin_reaction = fields.String(
        allow_none=True,
        validate=validate.OneOf(PRO_LEVELS),
        metadata={"description": "PRO-CTCAE 'Radiation skin reaction' severity (0-4 in order)"},
    )
    pain_score = fields.Integer(allow_none=True, metadata={"description": "Pain NRS 0-10"})
    itch_nrs = fields.Integer(allow_none=True, metadata={"description": "Itch NRS 0-10"})
    burning_nrs = fields.Integer(allow_none=True, metadata={"description": "Burning NRS 0-10"})
    moderate_or_worse = fields.List(
        fields.String(validate=validate.OneOf(tuple(COLUMNS))),
        metadata={
            "description": "The symptoms reported moderate or worse: PRO-CTCAE moderate and "
            "above; pain and burning NRS 5 and above (Serlin 1995); itch NRS 4 and above "
            "(Reich 2012)"
        },
    )
    ctcae_grade = fields.Integer(
        allow_none=True, metadata={"description": "Effective CTCAE grade, same assessment"}
    )
    rtog_grade = fields.Integer(
        allow_none=True, metadata={"description": "Effective RTOG grade, same assessment"}
    )


LevelAtSchema = Schema.from_dict(
    {"value": fields.String(validate=validate.OneOf(PRO_LEVELS)), "at": fields.String()},
    name="SymptomLevelAtSchema",
)
RatingAtSchema = Schema.from_dict(
    {"value": fields.Integer(), "at": fields.String()}, name="SymptomRatingAtSchema"
)


class SymptomTrendSchema(Schema):
    """First against latest report of the episode, on the symptom's own scale."""

    first = fields.Integer()
    latest = fields.Integer()
    change = fields.Integer(metadata={"description": "latest - first (0-4 levels or NRS points)"})
    direction = fields.String(
        validate=validate.OneOf(("worse", "better", "stable")),
        metadata={
            "description": "worse/better when the change reaches 1 PRO-CTCAE level or 2 NRS "
            "points (Farrar 2001), else stable"
        },
    )
    reports = fields.Integer()


def _summary_schema(value_at: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "latest": fields.Nested(value_at),
            "worst": fields.Nested(value_at, metadata={"description": "First reached"}),
            "trend": fields.Nested(
                SymptomTrendSchema,
                allow_none=True,
                metadata={"description": "null with one report"},
            ),
        },
        name=name,
    )


LevelSummarySchema = _summary_schema(LevelAtSchema, "SymptomLevelSummarySchema")
RatingSummarySchema = _summary_schema(RatingAtSchema, "SymptomRatingSummarySchema")
SymptomCurrentSchema = Schema.from_dict(
    {
        column: fields.Nested(
            LevelSummarySchema if column == "pro_skin_reaction" else RatingSummarySchema,
            allow_none=True,
        )
        for column in COLUMNS
    },
    name="SymptomCurrentSchema",
)


class TrajectorySymptomsSchema(Schema):
    """Patient-reported symptoms beside the clinician's grade."""

    series = fields.List(
        fields.Nested(SymptomPointSchema),
        metadata={"description": "Assessments that recorded at least one symptom, in time order"},
    )
    episode = fields.Integer(metadata={"description": "The current healing episode"})
    current = fields.Nested(
        SymptomCurrentSchema,
        metadata={
            "description": "Per symptom, over the current episode: latest, worst and trend; "
            "null when not reported in it"
        },
    )
