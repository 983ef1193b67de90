"""The one-pass dataset (dataset.export_batches) against batch boundaries.

The export reads all four tables in one pass driven by a wound stream, with
the assessment stream read alongside and cut where each wound batch ends.
Tiny batch sizes put a boundary between every wound and every other
assessment, and split a patient's wounds over two batches: the files must be
byte for byte those of the default sizes, and each table alone (the FHIR
writer's way of reading) must give the same rows as the one pass.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.exports.conftest import export


@pytest.fixture
def more_wounds(app, cohort):
    """Two more wounds of the seed patient: one with visits and a PRP
    application, one with neither (a wound that only the wound stream sees)."""
    from app.assessments.models import Assessment
    from app.extensions import db
    from app.procedures.models import Procedure
    from app.wounds.models import Wound

    with app.app_context():
        s = db.session
        for n, site in enumerate(("sacrum", "left axilla")):
            wound = Wound(
                clinic_id=cohort.clinic_id,
                patient_id=cohort.seed_patient,
                body_site=site,
                laterality="left",
                etiology="radiation_dermatitis",
                onset_date=date(2025, 12, 1 + n),
                status="open",
            )
            s.add(wound)
            s.flush()
            if n:
                continue
            at = datetime(2025, 12, 1, 9, tzinfo=UTC)
            s.add_all(
                Assessment(
                    clinic_id=cohort.clinic_id,
                    wound_id=wound.id,
                    assessed_at=at + timedelta(days=3 * i),
                    length_cm=3.0 - i,
                    width_cm=2.0,
                    area_method="ellipse",
                    ctcae_grade=2,
                    rtog_grade=2,
                )
                for i in range(3)
            )
            s.add(
                Procedure(
                    clinic_id=cohort.clinic_id,
                    wound_id=wound.id,
                    performed_at=at + timedelta(days=4),
                    kind="prp",
                    prp_form="gel",
                )
            )
        s.commit()
    return cohort


def _files(zf) -> dict[str, bytes]:
    return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_batch_boundaries_do_not_change_the_files(
    monkeypatch, clinic_admin, clinic, more_wounds, fmt
):
    from app.exports import dataset

    usual = _files(export(clinic_admin, clinic, fmt))
    monkeypatch.setattr(dataset, "BATCH_SIZE", 2)
    monkeypatch.setattr(dataset, "CONTEXT_BATCH_SIZE", 1)
    tiny = _files(export(clinic_admin, clinic, fmt))
    if fmt == "parquet":  # row groups differ with the batches; compare the tables
        import io

        import pyarrow.parquet as pq

        for name in list(usual):
            if name.endswith(".parquet"):
                assert pq.read_table(io.BytesIO(usual.pop(name))).equals(
                    pq.read_table(io.BytesIO(tiny.pop(name)))
                ), name
    assert usual == tiny
    assert usual  # something was compared


@pytest.mark.parametrize("sizes", [(5000, 1000), (2, 1), (1, 2)])
def test_one_table_at_a_time_gives_the_rows_of_the_one_pass(
    monkeypatch, app, clinic, more_wounds, sizes
):
    from app.exports import dataset, deid
    from app.exports.dictionary import WOUND_COLUMNS
    from app.extensions import db

    monkeypatch.setattr(dataset, "BATCH_SIZE", sizes[0])
    monkeypatch.setattr(dataset, "CONTEXT_BATCH_SIZE", sizes[1])
    sel = dataset.Selection(clinic, None, None, deid.pseudonym_key("k", uuid.uuid4()))
    with app.app_context(), db.engine.connect() as conn:
        together: dict[str, list[tuple]] = {t: [] for t in dataset.TABLES}
        for table, rows in dataset.export_batches(conn, sel):
            together[table] += rows
        for table in dataset.TABLES:
            alone = [row for rows in dataset.BATCHES[table](conn, sel) for row in rows]
            assert alone == together[table], table
    assert len(together["patients"]) == 2
    assert len(together["wounds"]) == 4
    assert len(together["assessments"]) == 12
    assert len(together["procedures"]) == 5
    # follow-up of the open wounds (follow_up_end_day - onset_day): the last visit's
    # day, read from the assessment stream in the one pass; onset without visits
    at = {c.name: i for i, c in enumerate(WOUND_COLUMNS)}
    follow_up = [
        w[at["follow_up_end_day"]] - w[at["onset_day"]]
        for w in together["wounds"]
        if w[at["healed_day"]] is None
    ]
    assert sorted(follow_up) == [0, 6, 14]
