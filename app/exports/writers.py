"""Writers: stream the dataset's batches into CSV, Parquet or FHIR R4 NDJSON files.

Every writer takes the batches one at a time and writes them straight to disk
(csv.writer, pyarrow.parquet.ParquetWriter, one JSON line per resource), so
memory stays bounded by one batch. ``write_files`` returns the files written
(all in ``workdir``) and the row count of each.

pyarrow is imported only by the Parquet functions: it adds about 50 MB to the
process that loads it, and CSV and FHIR exports (FHIR uses ``write_json``
from here) never need it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.exports.dataset import BATCHES, TABLES, Column, Selection

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[int], None]

# Dictionary type -> name of the pyarrow type factory (resolved lazily, see above).
_ARROW_TYPES = {
    "integer": "int64",
    "number": "float64",
    "text": "string",
    "dropdown": "string",
    "yesno": "bool_",
}

ROW_GROUP_ROWS = 20_000  # Parquet rows per row group: 4 assessment batches

DICTIONARY_HEADER = ("variable", "form", "type", "units", "choices", "description")


def dictionary_rows() -> list[tuple[str, ...]]:
    """The REDCap-style data dictionary: one row per exported variable."""
    return [
        (c.name, form, c.type, c.units, c.choices_text, c.description)
        for form, columns in TABLES.items()
        for c in columns
    ]


def _write_dictionary(workdir: Path) -> Path:
    path = workdir / "data_dictionary.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(DICTIONARY_HEADER)
        writer.writerows(dictionary_rows())
    return path


def _write_csv(
    conn: sa.Connection, sel: Selection, table: str, workdir: Path, progress: Progress
) -> tuple[Path, int]:
    """One table as CSV: the batches' tuples go straight to csv.writer (yes/no
    columns already hold REDCap's 1 / 0, so no per-row conversion)."""
    columns = TABLES[table]
    path = workdir / f"{table}.csv"
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.name for c in columns])
        for batch in BATCHES[table](conn, sel):
            writer.writerows(batch)
            count += len(batch)
            progress(len(batch))
    return path, count


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """The Parquet schema of a table, typed from the dictionary."""
    import pyarrow as pa  # lazy: see the module docstring

    return pa.schema([pa.field(c.name, getattr(pa, _ARROW_TYPES[c.type])()) for c in columns])


def _arrow_array(values: tuple[Any, ...], type_: pa.DataType) -> pa.Array:
    """A column of one batch; yes/no columns arrive as 1 / 0 / None and become bools."""
    import pyarrow as pa  # lazy: see the module docstring

    if type_ == pa.bool_():
        return pa.array(values, type=pa.int8()).cast(pa.bool_())
    return pa.array(values, type=type_)


def _write_parquet(
    conn: sa.Connection, sel: Selection, table: str, workdir: Path, progress: Progress
) -> tuple[Path, int]:
    """One table as Parquet, built column-wise: one pyarrow array per column of
    each batch. Batches are gathered into row groups of about ROW_GROUP_ROWS:
    the writer keeps every row group's metadata (~30 KB) until the file is
    closed, so one row group per 5,000-row batch made memory grow with the table.
    """
    import pyarrow as pa  # lazy: see the module docstring
    import pyarrow.parquet as pq

    columns = TABLES[table]
    schema = arrow_schema(columns)
    pool = pa.default_memory_pool()
    path = workdir / f"{table}.parquet"
    count = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal pending, pending_rows
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
            pending, pending_rows = [], 0
            # Hand the buffers back to the OS: pyarrow's allocator keeps freed
            # memory for reuse, and the kept share crept up with the rows.
            pool.release_unused()

    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for batch in BATCHES[table](conn, sel):
            if not batch:
                continue
            arrays = [
                _arrow_array(values, field.type)
                for values, field in zip(zip(*batch, strict=True), schema, strict=True)
            ]
            pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            pending_rows += len(batch)
            if pending_rows >= ROW_GROUP_ROWS:
                flush()
            count += len(batch)
            progress(len(batch))
        flush()
    return path, count


def write_files(
    conn: sa.Connection,
    sel: Selection,
    fmt: str,
    workdir: Path,
    progress: Progress,
    *,
    manifest_request: str = "",
    transaction_time: str = "",
    file_done: Callable[[Path], None] | None = None,
) -> tuple[list[Path], dict[str, int]]:
    """Write every file of one export into ``workdir``; return (files, row counts).

    ``file_done(path)`` is called as soon as a CSV or Parquet file is complete,
    so the caller can compress it while the next table is written.
    """
    files: list[Path] = []
    counts: dict[str, int] = {}
    if fmt in ("csv", "parquet"):
        write = _write_csv if fmt == "csv" else _write_parquet
        for table in TABLES:
            path, n = write(conn, sel, table, workdir, progress)
            files.append(path)
            counts[table] = n
            if file_done is not None:
                file_done(path)
        files.append(_write_dictionary(workdir))
        return files, counts
    if fmt == "fhir_ndjson":
        from app.exports import fhir

        return fhir.write_ndjson(
            conn,
            sel,
            workdir,
            progress,
            request=manifest_request,
            transaction_time=transaction_time,
        )
    raise ValueError(f"unknown export format {fmt!r}")


def write_json(path: Path, data: Any) -> Path:
    """A small JSON document (the FHIR manifest)."""
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
