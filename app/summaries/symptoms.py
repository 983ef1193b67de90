"""The trajectory's patient-reported symptoms, read beside the clinician's grade.

Every number comes from app/clinical/symptoms.py (scales, bands, change); this
module picks the assessments that recorded a symptom and sums up the current
healing episode, as the rest of the trajectory does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.clinical import symptoms

# Assessment column -> the symptom it records (app/assessments/models.py).
COLUMNS: dict[str, str] = {
    "pro_skin_reaction": symptoms.SKIN_REACTION,
    "pain_score": symptoms.PAIN,
    "itch_nrs": symptoms.ITCH,
    "burning_nrs": symptoms.BURNING,
}


def _point(row: Any, item: dict[str, Any]) -> dict[str, Any]:
    values = {column: row[column] for column in COLUMNS}
    return {
        "at": item["at"],
        "assessment_id": item["assessment_id"],
        "episode": item["episode"],
        **values,
        "moderate_or_worse": [
            column
            for column, value in values.items()
            if value is not None and symptoms.moderate_or_worse(COLUMNS[column], value)
        ],
        "ctcae_grade": item["ctcae_grade"],
        "rtog_grade": item["rtog_grade"],
    }


def _summary(column: str, points: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Latest, worst (first reached) and trend of one symptom over ``points``."""
    symptom = COLUMNS[column]
    reported = [p for p in points if p[column] is not None]
    if not reported:
        return None
    worst = reported[0]
    for p in reported:
        if symptoms.score(symptom, p[column]) > symptoms.score(symptom, worst[column]):
            worst = p
    change = symptoms.trend(symptom, [p[column] for p in reported])
    return {
        "latest": {"value": reported[-1][column], "at": reported[-1]["at"]},
        "worst": {"value": worst[column], "at": worst["at"]},
        "trend": None if change is None else change.to_dict(),
    }


def symptom_block(
    rows: Sequence[Any], series: Sequence[dict[str, Any]], episode: int
) -> dict[str, Any]:
    """The trajectory's ``symptoms``: one point per assessment that recorded a
    symptom (``rows`` and their ``series`` items, numbered by episode), and per
    symptom its latest, worst and trend in the current ``episode``."""
    points = [
        _point(row, item)
        for row, item in zip(rows, series, strict=True)
        if any(row[column] is not None for column in COLUMNS)
    ]
    current = [p for p in points if p["episode"] == episode]
    return {
        "series": points,
        "episode": episode,
        "current": {column: _summary(column, current) for column in COLUMNS},
    }
