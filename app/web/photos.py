"""Wound photos for the pages: one photo's page and the image bytes (cookie auth)."""

from __future__ import annotations

import uuid

from flask import render_template, request
from flask.typing import ResponseReturnValue

from app.core.access import get_record
from app.core.errors import Problem
from app.extensions import db
from app.photos import serving as photo_serving
from app.photos.models import Photo
from app.web.blueprint import bp, show_times_of
from app.wounds.models import Wound

PHOTO_SIZES = ("thumb", "large")


@bp.get("/web/photos/<uuid:photo_id>")
def photo_page(photo_id: uuid.UUID) -> ResponseReturnValue:
    """One photo at full (large) size."""
    photo = get_record(db.session, Photo, photo_id)
    wound = get_record(db.session, Wound, photo.wound_id, audit_read=False)
    show_times_of(wound.clinic_id)
    return render_template("photo.html", photo=photo, w=wound)


@bp.get("/web/photos/<uuid:photo_id>/<size>")
def photo_content(photo_id: uuid.UUID, size: str) -> ResponseReturnValue:
    """Photo bytes (thumb or large) for users of its clinic; as the API's content route."""
    if size not in PHOTO_SIZES:
        raise Problem(404, "Not Found", "Photo sizes here are thumb and large.")
    photo = get_record(db.session, Photo, photo_id)
    return photo_serving.content_response(photo, size, if_none_match=request.if_none_match)
