"""The de-identified research dataset, read in batches.

``export_batches`` produces all four tables in ONE patient-ordered pass: a
streaming wound query drives it, and for each batch of wounds the context
(day zero, dose curves, procedures, overrides, therapy, labs) is read once
(context.load_batch) and shared by every table, while the assessment stream
(queries.assessment_query) is read alongside. Rows come from the database
``BATCH_SIZE`` / ``CONTEXT_BATCH_SIZE`` at a time, never all at once, and
leave as lists of de-identified row tuples (rows.RowMaker) in the column
order of ``TABLES``. Memory is bounded by the batch sizes, not by the size of
the clinic. ``BATCHES`` gives one table at a time (the FHIR writer).

What is selected and how: app/exports/queries.py. What each column means:
app/exports/dictionary.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

import sqlalchemy as sa

from app.exports.context import Batch, PatientCache, load_batch
from app.exports.dictionary import TABLES
from app.exports.queries import Selection, assessment_query, stream, wound_query
from app.exports.rows import RowMaker

BATCH_SIZE = 5000
# Patient and wound rows each pull in a patient's whole context (dose curves,
# therapies, labs), about as much memory as 5-25 assessment rows: their batches
# are smaller so that every table peaks at about the same memory.
CONTEXT_BATCH_SIZE = 1000

# Told the number of source rows just written (the job's progress and heartbeat).
Progress = Callable[[int], None]


class _AssessmentStream:
    """The assessment stream, read alongside the wound batches in partitions of
    BATCH_SIZE rows: ``rows_for(batch)`` takes the rows of that batch's wounds
    and keeps the rest of the partition for the next batch."""

    def __init__(self, conn: sa.Connection, sel: Selection, make: RowMaker) -> None:
        self._partitions = stream(conn, assessment_query(sel), BATCH_SIZE)
        self._make = make
        self._partition: list[Any] = []
        self._pseudonyms: list[str] = []
        self._position = 0

    def rows_for(self, batch: Batch) -> Iterator[list[tuple[Any, ...]]]:
        """The batch's assessment rows, a partition's share at a time."""
        while True:
            if self._position == len(self._partition):
                self._partition = next(self._partitions, [])
                self._position = 0
                if not self._partition:
                    return
                self._pseudonyms = self._make.pseudonyms_of(self._partition)
            rows: list[tuple[Any, ...]] = []
            self._position = self._make.assessments(
                self._partition, self._pseudonyms, self._position, batch, rows
            )
            if rows:
                yield rows
            if self._position < len(self._partition):  # the rest belongs to later wounds
                return

    def finish(self) -> None:
        """Fail if rows are left once the wound stream has ended.

        Both streams are ordered alike, so leftovers mean the orders disagree:
        fail rather than silently drop assessment rows."""
        if self._position < len(self._partition) or next(self._partitions, None):
            raise RuntimeError("assessment rows outside the wound stream's order")

    def close(self) -> None:
        """Close the streaming cursor."""
        self._partitions.close()


def export_batches(
    conn: sa.Connection, sel: Selection, tables: Collection[str] = tuple(TABLES)
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Every table of the export in ONE patient-ordered pass, as (table, rows) pairs.

    The wound stream drives: for each CONTEXT_BATCH_SIZE wounds (ordered by
    patient, then wound) the patient and wound context is read once and serves
    every table, and the assessment stream (``assessment_query``, the very
    query the benchmark's floor streams; same order) is read alongside up to
    the batch's last wound. Each table's rows come out in the order of its own
    query (patients by id; wounds, assessments and procedures by patient,
    wound, then time), so a writer per table sees what the table-at-a-time
    queries gave. Memory: one wound batch's context plus one partition of
    BATCH_SIZE assessment rows.

    ``tables`` limits the work to what is asked for (FHIR reads one table at a time).
    """
    make = RowMaker(sel)
    patients = PatientCache(conn)
    wound_stream = stream(conn, wound_query(sel), CONTEXT_BATCH_SIZE)
    assessments = _AssessmentStream(conn, sel, make) if "assessments" in tables else None
    try:
        for wounds in wound_stream:
            batch = load_batch(conn, wounds, patients, tables)
            if "patients" in tables:
                yield "patients", make.patients(wounds, batch)
            if assessments is not None:  # before the wounds: it gives their follow-up ends
                for rows in assessments.rows_for(batch):
                    yield "assessments", rows
            if "wounds" in tables:
                yield "wounds", make.wounds(wounds, batch)
            if "procedures" in tables:
                yield "procedures", make.procedures(wounds, batch)
            if "colour_measures" in tables:
                yield "colour_measures", make.colour_measures(wounds, batch)
        if assessments is not None:
            assessments.finish()
    finally:
        wound_stream.close()
        if assessments is not None:
            assessments.close()


def _table_batches(table: str) -> Callable[[sa.Connection, Selection], Iterator[list[Any]]]:
    def batches(conn: sa.Connection, sel: Selection) -> Iterator[list[tuple[Any, ...]]]:
        for _, rows in export_batches(conn, sel, (table,)):
            yield rows

    batches.__name__ = f"{table}_batches"
    batches.__doc__ = f"The {table} table alone, in batches (see export_batches)."
    return batches


# One table at a time (the FHIR writer reads them so).
BATCHES = {table: _table_batches(table) for table in TABLES}
