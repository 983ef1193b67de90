"""A wound's erythema series for its trajectory: the colour measures of its
live photos (app/photos/colour.py), one point per measure at the photo's
capture time, oldest first."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.core.db import UUIDText
from app.core.formats import iso
from app.photos.models import Photo, PhotoColourMeasure

M = PhotoColourMeasure
_STMT = (
    sa.select(
        sa.type_coerce(M.id, UUIDText()).label("id"),
        sa.type_coerce(M.photo_id, UUIDText()).label("photo_id"),
        M.measured_at,
        M.region_l,
        M.region_a,
        M.region_b,
        M.reference_a,
        M.delta_a,
        M.delta_e2000,
        M.region_ita,
        M.region_erythema_index,
        M.delta_erythema_index,
        M.calibration_method,
        M.version,
    )
    .join(Photo, Photo.id == M.photo_id)
    .where(
        M.wound_id == sa.bindparam("wound_id", type_=sa.Uuid()),
        M.deleted_at.is_(None),
        Photo.deleted_at.is_(None),
    )
    .order_by(M.measured_at, M.created_at, M.id)
)


def load_erythema(conn: Connection, wound_id: uuid.UUID) -> list[Any]:
    """The rows of the series (one SELECT)."""
    return list(conn.execute(_STMT, {"wound_id": wound_id}).mappings().all())


def erythema_series(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "measure_id": r["id"],
            "photo_id": r["photo_id"],
            "at": iso(r["measured_at"]),
            "L": r["region_l"],
            "a": r["region_a"],
            "b": r["region_b"],
            "reference_a": r["reference_a"],
            "delta_a": r["delta_a"],
            "delta_e2000": r["delta_e2000"],
            "ita": r["region_ita"],
            "erythema_index": r["region_erythema_index"],
            "delta_erythema_index": r["delta_erythema_index"],
            "calibration": r["calibration_method"],
        }
        for r in rows
    ]
