"""The upload protocol against tuspy, the tus project's own Python client, on a
live server: what a real tus client sends (its metadata encoding, checksums,
relative Location, resumption by HEAD) is what the server understands."""

from __future__ import annotations

import io
import uuid

import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from tests.assessments.helpers import make_wound
from tests.photos.test_imaging import CORPUS

PHOTO = (CORPUS / "hopper.jpg").read_bytes()


def test_tuspy_uploads_resumes_and_the_photo_is_stored(app, live_server, nurse, clinic):
    wound = make_wound(app, clinic)
    photo_id = str(uuid.uuid4())
    tus = tus_client.TusClient(f"{live_server}/api/v1/uploads", headers=nurse.headers)
    first = tus.uploader(
        file_stream=io.BytesIO(PHOTO),
        chunk_size=len(PHOTO) // 3,
        metadata={"wound_id": str(wound), "id": photo_id, "filename": "hopper.jpg"},
        upload_checksum=True,
    )
    first.upload_chunk()  # then the phone loses the connection
    assert first.offset == len(PHOTO) // 3
    # Later, a new uploader for the same URL asks the server where to go on.
    resumed = tus.uploader(file_stream=io.BytesIO(PHOTO), url=first.url, chunk_size=len(PHOTO) // 3)
    assert resumed.offset == len(PHOTO) // 3
    resumed.upload()
    assert resumed.offset == len(PHOTO)
    photo = nurse.get(f"/api/v1/photos/{photo_id}")
    assert photo.status_code == 200 and photo.json["wound_id"] == str(wound)


def test_tuspy_hears_who_owns_an_upload(app, live_server, nurse, factory, clinic):
    wound = make_wound(app, clinic)
    owner = tus_client.TusClient(f"{live_server}/api/v1/uploads", headers=nurse.headers)
    uploader = owner.uploader(
        file_stream=io.BytesIO(PHOTO), chunk_size=1000, metadata={"wound_id": str(wound)}
    )
    uploader.upload_chunk()
    colleague = factory.actor("nurse", clinic)
    other = tus_client.TusClient(f"{live_server}/api/v1/uploads", headers=colleague.headers)
    with pytest.raises(TusCommunicationError) as refused:
        other.uploader(file_stream=io.BytesIO(PHOTO), url=uploader.url)
    assert refused.value.status_code == 404
